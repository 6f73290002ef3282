"""Data commands: import, search, stats, export."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from models import window_problem
from store import PostFilter
from text.report import ImportReport
from text.timeparse import parse_time
from tingfeng.cli.app import (
    UserError,
    app,
    console,
    load_dictionaries,
    open_configured_store,
    state,
)
from tingfeng.services.export import export_posts, open_output
from tingfeng.services.imports import (
    ImportOutcome,
    check_ced_dir,
    check_jsonl_inputs,
    import_ced_dir,
    import_jsonl_files,
)
from tingfeng.services.search import SearchPage, SearchRequest, parse_query, search_posts
from tingfeng.services.stats import store_stats

stdout = Console()
import_app = typer.Typer(help="导入帖子。Import posts into the store.", no_args_is_help=True)
app.add_typer(import_app, name="import")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("剩余"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _print_report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        table = Table(title="导入结果 / import summary", show_header=False)
        for label, value in (
            ("read", report.read),
            ("inserted", report.inserted),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("snapshots", report.snapshots),
        ):
            table.add_row(label, str(value))
        for reason, n in report.skipped.most_common():
            where = ", ".join(report.examples.get(reason, [])[:3])
            table.add_row(f"skipped: {reason}", f"{n}  (first: {where})")
        for reason, n in report.warnings.most_common():
            where = ", ".join(report.examples.get(reason, [])[:3])
            table.add_row(f"warning: {reason}", f"{n}  (first: {where})")
        stdout.print(table)
    if report.imported == 0 and report.read > 0:
        raise typer.Exit(1)
    if report.read == 0 and report.skipped:
        raise typer.Exit(1)


def _on_progress(bar: Progress):
    """Render ingest's ``(phase, done, total)`` callbacks: one bar per phase, named."""
    from ingest.pipeline import PHASES

    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return update


def _print_scoring(outcome: ImportOutcome) -> None:
    scoring = outcome.scoring
    if scoring.skipped_reason:
        console.print(
            f"rumor scoring skipped: {scoring.skipped_reason}", highlight=False, markup=False
        )
    elif scoring.scored:
        console.print(f"rumor scores: {scoring.scored} source posts", highlight=False)


@import_app.command("jsonl")
def import_jsonl_cmd(
    files: Annotated[list[Path], typer.Argument(help="JSON-lines files, one post per line.")],
    source: Annotated[
        str | None, typer.Option(help="Source name for lines that do not carry one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """导入 JSON lines 文件。Import posts from JSON lines (the format `tingfeng export` writes)."""
    check_jsonl_inputs(files)  # a missing file stops everything before the store is opened
    with open_configured_store(create=True) as store, _progress() as bar:
        outcome = import_jsonl_files(
            state.config, store, files, default_source=source, on_progress=_on_progress(bar)
        )
    _print_scoring(outcome)
    _print_report(outcome.report, as_json)


@import_app.command("ced")
def import_ced_cmd(
    directory: Annotated[Path, typer.Argument(help="A directory in the CED research layout.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """导入 CED 数据集。Import a CED-layout dataset (source posts, reposts, metric snapshots)."""
    check_ced_dir(directory)  # before the store is opened (and created)
    with open_configured_store(create=True) as store, _progress() as bar:
        outcome = import_ced_dir(state.config, store, directory, on_progress=_on_progress(bar))
    _print_scoring(outcome)
    _print_report(outcome.report, as_json)


def _time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise UserError(
            f"{option}: cannot read {value!r} as a date (try 2024-05-01 or 2024-05-01 08:00)"
        ) from None


def _filter(
    since: str | None, until: str | None, source: list[str] | None, region: list[str] | None
) -> dict[str, object]:
    until_t = _time(until, "--until")
    if until and until_t and len(until.strip()) == 10:  # a bare date means "through that day"
        until_t += timedelta(days=1)
    since_t = _time(since, "--since")
    problem = window_problem(since_t, until_t, ("--since", "--until"), (str(since), str(until)))
    if problem is not None:
        raise UserError(problem)
    return {
        "since": since_t,
        "until": until_t,
        "sources": source or [],
        "regions": region or [],
    }


SinceOpt = Annotated[str | None, typer.Option(help="Only posts written at or after this time.")]
UntilOpt = Annotated[
    str | None,
    typer.Option(help="Only posts written before this time (a bare date includes that day)."),
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
]
RegionOpt = Annotated[
    list[str] | None, typer.Option("--region", help="Only this region tag (repeatable).")
]


# Unknown options are query words: "-停电" leaves posts out (options this command knows
# still work anywhere; a word starting with "--" is refused as a mistyped option).
@app.command(context_settings={"ignore_unknown_options": True})
def search(
    query: Annotated[
        list[str],
        typer.Argument(
            help='Words to search for (all must occur); "a phrase" in quotes; -word to leave'
            " posts out."
        ),
    ],
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    region: RegionOpt = None,
    sort: Annotated[str, typer.Option(help="relevance | time | time_asc")] = "relevance",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """全文检索帖子。Search stored posts: every word must occur; "quoted phrases" as phrases."""
    for word in query:
        if word.startswith("--") and word != "--":
            raise UserError(f"{word}: no such option (see tingfeng search --help)")
    text = " ".join(query)
    parse_query(text)  # a query the syntax refuses is reported before the store is opened
    request = SearchRequest(
        text=text, sort=sort, limit=limit, offset=offset, **_filter(since, until, source, region)
    )
    with open_configured_store(readonly=True) as store:
        page = search_posts(store, request)
    if as_json:
        out = {
            "total": page.total,
            "hits": [
                {"score": h.score, "snippet": h.snippet, "post": h.post.model_dump(mode="json")}
                for h in page.hits
            ],
            "facets": page.facets,
        }
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    _print_search(page)


#: Facets shown under the hits: (facet, label, how many values).
FACET_LINES = (("source", "来源", 8), ("region", "区域", 8), ("day", "日期", 10))


def _print_search(page: SearchPage) -> None:
    if page.total == 0:
        stdout.print("共 0 条：没有找到匹配的帖子", highlight=False)
        return
    if page.hits:
        head = f"第 {page.first}–{page.last} 条，共 {page.total} 条"
    else:
        head = f"共 {page.total} 条（第 {page.offset + 1} 条起已无结果）"
    if page.truncated:
        head += "（短语/排除条件只检查了前 20000 条匹配）"
    stdout.print(head, highlight=False)
    table = Table(show_lines=False)
    for column in ("时间", "来源", "内容"):
        table.add_column(column)
    for hit in page.hits:
        local = hit.post.created_at.astimezone(_shanghai())
        text = hit.snippet.replace("[", "\\[").replace("<mark>", "[bold yellow]")
        text = text.replace("</mark>", "[/]")
        table.add_row(local.strftime("%Y-%m-%d %H:%M"), hit.post.source, text)
    stdout.print(table)
    for name, label, top in FACET_LINES:
        values = page.facets.get(name) or []
        if name == "day":
            values = sorted(values, key=lambda kv: (-kv[1], kv[0]))
        if values:
            shown = "  ".join(f"{key} {n}" for key, n in values[:top])
            more = f"  …另 {len(values) - top} 项" if len(values) > top else ""
            stdout.print(f"{label}：{shown}{more}", highlight=False, markup=False)


@app.command("tokenize")
def tokenize_cmd(
    text: Annotated[str, typer.Argument(help="Text to cut into words.")],
    index: Annotated[
        bool, typer.Option("--index", help="Search-index tokens (long words and their parts).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tokens as JSON.")] = False,
) -> None:
    """查看分词结果。Show how a text is cut into words, with the configured user dictionaries
    (nlp.user_dict) and gazetteer names: to check that a place or account name is kept whole."""
    from nlp.tokenize import cut, cut_for_index

    load_dictionaries()
    tokens = cut_for_index(text) if index else cut(text)
    if as_json:
        sys.stdout.write(orjson.dumps(tokens).decode() + "\n")
    else:
        sys.stdout.write(" / ".join(tokens) + "\n")


def _shanghai():
    from models import SHANGHAI

    return SHANGHAI


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """数据概况。Counts of posts, snapshots, incidents, alerts and bulletins, per source."""
    with open_configured_store(readonly=True) as store:
        figures = store_stats(store)
    if as_json:
        out = {**figures.model_dump(exclude={"extra"}), **figures.extra}
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    table = Table(title="听风 · 数据概况", show_header=False)
    for key in ("backend", "posts", "snapshots", "incidents", "alerts", "bulletins"):
        table.add_row(key, str(getattr(figures, key)))
    for source, n in figures.per_source.items():
        table.add_row(f"  source {source}", str(n))
    stdout.print(table)


@app.command()
def export(
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    region: RegionOpt = None,
    query: Annotated[
        str, typer.Option("--query", "-q", help="Only posts matching these words.")
    ] = "",
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (default: standard output).")
    ] = None,
    snapshots: Annotated[
        bool,
        typer.Option("--snapshots", help="JSON lines: add each post's metric snapshots after it."),
    ] = False,
) -> None:
    """导出帖子。Export posts with every stored field, streamed in time order."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(f"--format: must be jsonl or csv, not {fmt!r}")
    flt = PostFilter(**_filter(since, until, source, region))  # type: ignore[arg-type]
    with (
        open_output(out, sys.stdout.buffer) as target,
        open_configured_store(readonly=True) as store,
    ):
        count = export_posts(
            store,
            target,
            fmt=fmt,
            flt=flt,
            query=query,
            snapshots=snapshots,  # type: ignore[arg-type]
        )
    console.print(f"exported {count} posts" + (f" to {out}" if out else ""))
