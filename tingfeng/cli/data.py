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
from text.zh import reason
from tingfeng.cli.app import (
    UserError,
    app,
    console,
    load_dictionaries,
    open_configured_store,
    state,
)
from tingfeng.cli.tables import add_id_column
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
import_app = typer.Typer(help="导入帖子到存储。Import posts into the store.", no_args_is_help=True)
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
        table = Table(title="导入结果", show_header=False)
        for label, value in (
            ("读取", report.read),
            ("新增", report.inserted),
            ("更新", report.updated),
            ("未变", report.unchanged),
            ("传播快照", report.snapshots),
        ):
            table.add_row(label, str(value))
        for why, n in report.skipped.most_common():
            where = ", ".join(report.examples.get(why, [])[:3])
            table.add_row(f"跳过：{reason(why)}", f"{n}（首见：{where}）")
        for why, n in report.warnings.most_common():
            where = ", ".join(report.examples.get(why, [])[:3])
            table.add_row(f"提示：{reason(why)}", f"{n}（首见：{where}）")
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
        console.print(f"未做谣言评分：{scoring.skipped_reason}", highlight=False, markup=False)
    elif scoring.scored:
        console.print(f"谣言评分：{scoring.scored} 条原帖", highlight=False)


@import_app.command("jsonl")
def import_jsonl_cmd(
    files: Annotated[
        list[Path], typer.Argument(metavar="文件", help="JSON lines 文件，每行一条帖子。")
    ],
    source: Annotated[str | None, typer.Option(help="没有 source 字段的行所用的数据源名。")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出导入结果。")] = False,
) -> None:
    """导入 JSON lines 文件（tingfeng export 写出的格式）。Import posts from JSON lines."""
    check_jsonl_inputs(files)  # a missing file stops everything before the store is opened
    with open_configured_store(create=True) as store, _progress() as bar:
        outcome = import_jsonl_files(
            state.config, store, files, default_source=source, on_progress=_on_progress(bar)
        )
    _print_scoring(outcome)
    _print_report(outcome.report, as_json)


@import_app.command("ced")
def import_ced_cmd(
    directory: Annotated[Path, typer.Argument(metavar="目录", help="CED 研究数据集格式的目录。")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出导入结果。")] = False,
) -> None:
    """导入 CED 数据集（原帖、转发、传播快照）。Import a CED-layout dataset."""
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
            f"{option}: 无法把 {value!r} 识别为时间（可写 2024-05-01 或 2024-05-01 08:00）"
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


SinceOpt = Annotated[str | None, typer.Option(metavar="时间", help="只要此时间及以后发布的帖子。")]
UntilOpt = Annotated[
    str | None,
    typer.Option(metavar="时间", help="只要此时间以前发布的帖子（只写日期时含当天）。"),
]
SourceOpt = Annotated[
    list[str] | None,
    typer.Option("--source", metavar="数据源", help="只要这个数据源（可重复）。"),
]
RegionOpt = Annotated[
    list[str] | None,
    typer.Option("--region", metavar="区域", help="只要这个区域标签（可重复）。"),
]


# Unknown options are query words: "-停电" leaves posts out (options this command knows
# still work anywhere; a word starting with "--" is refused as a mistyped option).
@app.command(context_settings={"ignore_unknown_options": True})
def search(
    query: Annotated[
        list[str],
        typer.Argument(
            metavar="关键词",
            help='要查找的词（须全部出现）；"短语" 加引号按短语查找；-词 排除含该词的帖子。',
        ),
    ],
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    region: RegionOpt = None,
    sort: Annotated[
        str,
        typer.Option(help="排序：relevance（相关度）、time（新到旧）、time_asc（旧到新）。"),
    ] = "relevance",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="每页条数。")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="跳过前几条（翻页）。")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果。")] = False,
) -> None:
    """全文检索帖子：所有词都须出现，"加引号" 按短语查找。Search stored posts."""
    for word in query:
        if word.startswith("--") and word != "--":
            raise UserError(f"{word}: 没有这个选项（见 tingfeng search --help）")
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


#: Rows of the stats table: (field, label).
STATS_LABELS = (
    ("backend", "存储类型"),
    ("posts", "帖子"),
    ("snapshots", "传播快照"),
    ("incidents", "事件"),
    ("alerts", "预警"),
    ("bulletins", "通报"),
)

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
    table.add_column("时间", no_wrap=True)
    # The post id (来源:编号) is never cut: it is what `tingfeng explain --post` takes.
    add_id_column(table, "编号", [hit.post.id for hit in page.hits])
    table.add_column("内容", overflow="fold")
    for hit in page.hits:
        local = hit.post.created_at.astimezone(_shanghai())
        text = hit.snippet.replace("[", "\\[").replace("<mark>", "[bold yellow]")
        text = text.replace("</mark>", "[/]")
        table.add_row(local.strftime("%Y-%m-%d %H:%M"), hit.post.id, text)
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
    text: Annotated[str, typer.Argument(metavar="文本", help="要分词的文本。")],
    index: Annotated[
        bool, typer.Option("--index", help="显示检索索引用的词（长词及其组成部分）。")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出分词结果。")] = False,
) -> None:
    """查看分词结果：用配置的用户词典（nlp.user_dict）和地名表，检查地名、账号名是否完整。

    Show how a text is cut into words, with the configured user dictionaries and gazetteer
    names."""
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
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出。")] = False,
) -> None:
    """数据概况：帖子、传播快照、事件、预警、通报数量，及各数据源帖子数。

    Counts of posts, snapshots, incidents, alerts and bulletins, per source."""
    with open_configured_store(readonly=True) as store:
        figures = store_stats(store)
    if as_json:
        out = {**figures.model_dump(exclude={"extra"}), **figures.extra}
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    table = Table(title="听风 · 数据概况", show_header=False)
    for key, label in STATS_LABELS:
        table.add_row(label, str(getattr(figures, key)))
    for source, n in figures.per_source.items():
        table.add_row(f"  数据源 {source}", str(n))
    stdout.print(table)


@app.command()
def export(
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    region: RegionOpt = None,
    query: Annotated[
        str, typer.Option("--query", "-q", metavar="关键词", help="只要含这些词的帖子。")
    ] = "",
    fmt: Annotated[str, typer.Option("--format", help="格式：jsonl 或 csv。")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", metavar="文件", help="输出文件（默认：标准输出）。")
    ] = None,
    snapshots: Annotated[
        bool,
        typer.Option("--snapshots", help="JSON lines：在每条帖子后附上它的传播快照。"),
    ] = False,
) -> None:
    """导出帖子（全部字段，按时间顺序流式输出）。Export posts with every stored field."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(f"--format: 应为 jsonl 或 csv，而不是 {fmt!r}")
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
    console.print(f"已导出 {count} 条帖子" + (f"到 {out}" if out else ""))
