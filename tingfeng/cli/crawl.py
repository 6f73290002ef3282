"""``tingfeng crawl``: run sources once, with progress and a summary; ``--health`` shows
each source's last crawl and whether it still works.

The work is :mod:`tingfeng.services.crawl` (the crawl runs in its own process there);
this module parses options and prints.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crawler.errors import error_label
from tingfeng.cli.app import app, console, open_configured_store, state
from tingfeng.cli.tables import add_id_column
from tingfeng.services.crawl import crawl_clock, crawl_sources, source_health
from tingfeng.services.errors import ServiceError


def _counts(values: dict[str, int] | None, label: Any = str) -> str:
    return " ".join(f"{label(k)}×{v}" for k, v in sorted((values or {}).items())) or "-"


def _reason(text: str | None) -> str:
    return text or "原因不明"  # crawler.health writes the reason in Chinese


def _print_summary(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    # The source name is never cut: it is what `tingfeng crawl NAME` takes.
    add_id_column(table, "数据源", [str(row.get("source", "?")) for row in rows])
    for column in ("状态", "页面", "条目", "新增", "错误", "问题"):
        table.add_column(column, overflow="fold")
    for row in rows:
        health = "[green]正常[/]" if row.get("healthy") else "[red]异常[/]"
        table.add_row(
            row.get("source", "?"), health, str(row.get("pages", 0)), str(row.get("items", 0)),
            str(row.get("new_items", 0)), _counts(row.get("errors"), error_label),
            _counts(row.get("problems")),
        )  # fmt: skip
    console.print(table)
    for row in rows:
        last = (row.get("last_new_item_at") or "无")[:19]
        line = f"{row.get('source')}：最近新增 {last}"
        if not row.get("healthy"):
            line += f" — [red]{escape(_reason(row.get('reason')))}[/]"
        for note in row.get("notes") or []:
            line += f" — {escape(note)}"
        console.print(line, highlight=False)


def _health(names: list[str], now: datetime | None) -> int:
    with open_configured_store(readonly=True) as store:
        rows = source_health(state.config, store, names, now)
    _print_summary(rows, "数据源状态")
    return 0 if all(r.get("healthy") for r in rows) else 1


@app.command("crawl")
def crawl(
    sources: Annotated[
        list[str] | None,
        typer.Argument(metavar="数据源", help="数据源名称（默认：所有启用的数据源）。"),
    ] = None,
    health: Annotated[bool, typer.Option("--health", help="不采集，显示各数据源的状态。")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="显示爬虫日志。")] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="名称=值", help="覆盖一项 Scrapy 设置（可重复）。"),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="时间",
            help="参考时间（ISO 8601，默认当前）：只保存此时以前发布的帖子。",
        ),
    ] = None,
) -> None:
    """采集一次配置的数据源（采集后有数据源异常则退出码为 1）。Crawl configured sources once."""
    names = list(sources or [])
    try:  # refused before anything else is looked at
        clock = crawl_clock(at, settings)
    except ServiceError as exc:
        message = str(exc)
        option, _, rest = message.partition(": ")
        raise typer.BadParameter(rest, param_hint=f"'{option}'") from None
    cfg = state.config
    for name in names:
        cfg.source(name)  # unknown names fail here, with the list of known ones
    if health:
        # sys.exit, not typer.Exit: the exit status must survive standalone_mode=False.
        sys.exit(_health(names, clock))
    outcome = crawl_sources(
        cfg, names, overrides=settings or [], at=at, on_event=_show_event, log_to_stderr=verbose
    )
    if not outcome.results:
        sys.exit(1)
    _print_summary(outcome.results, "采集结果")
    sys.exit(0 if outcome.healthy else 1)


def _show_event(event: dict[str, Any]) -> None:
    if event.get("event") == "progress":
        console.print(
            f"[dim]{event['source']}[/]：{event['pages']} 个页面，{event['items']} 条"
            f"（新增 {event['new']}），{event['errors']} 个错误", highlight=False,
        )  # fmt: skip
    elif event.get("event") == "done":
        mark = "[green]✓[/]" if event.get("healthy") else "[red]✗[/]"
        console.print(
            f"{mark} {event['source']}：{event['pages']} 个页面，"
            f"新增 {event['new_items']} 条", highlight=False,
        )  # fmt: skip
