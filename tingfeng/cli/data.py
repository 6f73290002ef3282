"""Data commands: import, search, stats, export."""

from __future__ import annotations

import csv
import io
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

from ingest.report import ImportReport
from ingest.timeparse import parse_time
from models import Post
from store import PostFilter, SearchQuery
from tingfeng.cli.app import (
    UserError,
    app,
    console,
    load_dictionaries,
    open_configured_store,
    state,
)

stdout = Console()
import_app = typer.Typer(help="Import posts into the store.", no_args_is_help=True)
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


def _on_progress(bar: Progress):
    """Render ingest's ``(phase, done, total)`` callbacks: one bar per phase, named."""
    from ingest.pipeline import PHASES

    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return update


def _scorer():
    """The rumor scorer for imports, or None (reported) when the model cannot be loaded:
    the posts are imported either way."""
    from nlp.rumor.model import ModelError
    from nlp.rumor.scoring import ThreadScorer, cached_model

    path = state.config.nlp.rumor_model
    try:
        return ThreadScorer(cached_model(str(path) if path else None))
    except ModelError as exc:
        console.print(f"rumor scoring skipped: {exc}", highlight=False, markup=False)
        return None


def _report_scores(report: ImportReport, scorer: object) -> None:
    if scorer is not None and report.scored:
        console.print(f"rumor scores: {report.scored} source posts", highlight=False)


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


@import_app.command("jsonl")
def import_jsonl_cmd(
    files: Annotated[list[Path], typer.Argument(help="JSON-lines files, one post per line.")],
    source: Annotated[
        str | None, typer.Option(help="Source name for lines that do not carry one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import posts from JSON lines (the format `tingfeng export` writes)."""
    from ingest.bounds import DateBounds
    from ingest.errors import check_inputs
    from ingest.pipeline import import_jsonl

    check_inputs(files)  # a missing file stops everything before the store is opened
    scorer = _scorer()
    with open_configured_store() as store, _progress() as bar:
        report = import_jsonl(
            store,
            files,
            default_source=source,
            on_progress=_on_progress(bar),
            scorer=scorer,
            bounds=DateBounds.of(state.config.ingest),
        )
    _report_scores(report, scorer)
    _print_report(report, as_json)


@import_app.command("ced")
def import_ced_cmd(
    directory: Annotated[Path, typer.Argument(help="A directory in the CED research layout.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import a CED-layout dataset (source posts, reposts, derived metric snapshots)."""
    from ingest.bounds import DateBounds
    from ingest.pipeline import import_ced

    if not (directory / "original-microblog").is_dir():
        raise UserError(f"{directory}: not a CED directory (no original-microblog/ folder)")
    scorer = _scorer()
    with open_configured_store() as store, _progress() as bar:
        report = import_ced(
            store,
            directory,
            on_progress=_on_progress(bar),
            scorer=scorer,
            bounds=DateBounds.of(state.config.ingest),
        )
    _report_scores(report, scorer)
    _print_report(report, as_json)


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
    return {
        "since": _time(since, "--since"),
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


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to search for (Chinese full text).")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    region: RegionOpt = None,
    sort: Annotated[str, typer.Option(help="relevance | time | time_asc")] = "relevance",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Search stored posts."""
    if sort not in ("relevance", "time", "time_asc"):
        raise UserError(f"--sort: must be relevance, time or time_asc, not {sort!r}")
    q = SearchQuery(
        text=query,
        sort=sort,  # type: ignore[arg-type]
        limit=limit,
        offset=offset,
        facets=["day", "source", "region"],
        **_filter(since, until, source, region),  # type: ignore[arg-type]
    )
    with open_configured_store(readonly=True) as store:
        result = store.search(q)
    if as_json:
        out = {
            "total": result.total,
            "hits": [
                {"score": h.score, "snippet": h.snippet, "post": h.post.model_dump(mode="json")}
                for h in result.hits
            ],
            "facets": result.facets,
        }
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    stdout.print(f"共 {result.total} 条 / {result.total} matches")
    table = Table(show_lines=False)
    for column in ("时间", "来源", "内容"):
        table.add_column(column)
    for hit in result.hits:
        local = hit.post.created_at.astimezone(_shanghai())
        text = hit.snippet.replace("<mark>", "[bold yellow]").replace("</mark>", "[/]")
        table.add_row(local.strftime("%Y-%m-%d %H:%M"), hit.post.source, text)
    stdout.print(table)


@app.command("tokenize")
def tokenize_cmd(
    text: Annotated[str, typer.Argument(help="Text to cut into words.")],
    index: Annotated[
        bool, typer.Option("--index", help="Search-index tokens (long words and their parts).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tokens as JSON.")] = False,
) -> None:
    """Show how a text is cut into words, with the configured user dictionaries (nlp.user_dict):
    to check that a place or account name is kept whole."""
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
    """Counts of posts, snapshots, incidents, alerts and bulletins, per source."""
    with open_configured_store(readonly=True) as store:
        figures = store.stats()
    if as_json:
        sys.stdout.write(orjson.dumps(figures).decode() + "\n")
        return
    table = Table(title="听风 · 数据概况", show_header=False)
    for key in ("backend", "posts", "snapshots", "incidents", "alerts", "bulletins"):
        table.add_row(key, str(figures[key]))
    for source, n in figures["per_source"].items():
        table.add_row(f"  source {source}", str(n))
    stdout.print(table)


CSV_COLUMNS = [
    "id",
    "source",
    "native_id",
    "kind",
    "url",
    "author_id",
    "author_name",
    "author_verified",
    "author_verified_type",
    "author_followers",
    "author_friends",
    "author_posts",
    "author_created_at",
    "author_location",
    "title",
    "text",
    "created_at",
    "fetched_at",
    "reposts",
    "comments",
    "likes",
    "parent_id",
    "root_id",
    "region_tags",
    "incident_id",
    "rumor_score",
    "near_duplicate_of",
    "extra",
]


def csv_row(post: Post) -> list[object]:
    data = post.model_dump(mode="json")
    author = data.pop("author")
    row = {**data, **{f"author_{k}": v for k, v in author.items()}}
    row["region_tags"] = "|".join(post.region_tags)
    row["extra"] = orjson.dumps(post.extra).decode() if post.extra else ""
    return ["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS]


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
    """Export posts with every stored field, streamed in time order."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(f"--format: must be jsonl or csv, not {fmt!r}")
    flt = PostFilter(**_filter(since, until, source, region))  # type: ignore[arg-type]
    target = out.open("wb") if out else sys.stdout.buffer
    count = 0
    try:
        with open_configured_store(readonly=True) as store:
            if fmt == "jsonl":
                from ingest.jsonl import write_jsonl

                count, _ = write_jsonl(
                    store.iter_posts(flt, text=query),
                    target,
                    store.get_snapshots if snapshots else None,
                )
            else:
                text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
                writer = csv.writer(text)
                writer.writerow(CSV_COLUMNS)
                for post in store.iter_posts(flt, text=query):
                    writer.writerow(csv_row(post))
                    count += 1
                text.flush()
                text.detach()
    finally:
        if out:
            target.close()
    console.print(f"exported {count} posts" + (f" to {out}" if out else ""))
