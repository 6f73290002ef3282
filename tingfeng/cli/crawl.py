"""``tingfeng crawl``: run sources once, with progress and a summary; ``--health`` shows
each source's last crawl and whether it still works.

The work is :mod:`tingfeng.services.crawl` (the crawl runs in its own process there);
this module parses options and prints.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from tingfeng.cli.app import app, console, open_configured_store, state
from tingfeng.services.crawl import crawl_clock, crawl_sources, source_health
from tingfeng.services.errors import ServiceError


def _counts(values: dict[str, int] | None) -> str:
    return " ".join(f"{k}×{v}" for k, v in sorted((values or {}).items())) or "-"


def _print_summary(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("source", "health", "pages", "items", "new", "errors", "problems"):
        table.add_column(column, overflow="fold")
    for row in rows:
        health = "[green]ok[/]" if row.get("healthy") else "[red]UNHEALTHY[/]"
        table.add_row(
            row.get("source", "?"), health, str(row.get("pages", 0)), str(row.get("items", 0)),
            str(row.get("new_items", 0)), _counts(row.get("errors")), _counts(row.get("problems")),
        )  # fmt: skip
    console.print(table)
    for row in rows:
        last = (row.get("last_new_item_at") or "never")[:19]
        line = f"{row.get('source')}: last new item {last}"
        if not row.get("healthy"):
            line += f" — [red]{row.get('reason') or 'unknown'}[/]"
        console.print(line, highlight=False)


def _health(names: list[str]) -> int:
    with open_configured_store(readonly=True) as store:
        rows = source_health(state.config, store, names)
    _print_summary(rows, "source health")
    return 0 if all(r.get("healthy") for r in rows) else 1


@app.command("crawl")
def crawl(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Source names (default: every enabled source).")
    ] = None,
    health: Annotated[
        bool, typer.Option("--health", help="Show each source's health instead of crawling.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the crawler log.")] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="Override a Scrapy setting."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Reference clock (ISO 8601; default now): store only posts written by then.",
        ),
    ] = None,
) -> None:
    """采集一次。Crawl configured sources once (exit 1 if a source is unhealthy afterwards)."""
    names = list(sources or [])
    try:  # refused before anything else is looked at
        crawl_clock(at, settings)
    except ServiceError as exc:
        message = str(exc)
        option, _, rest = message.partition(": ")
        raise typer.BadParameter(rest, param_hint=f"'{option}'") from None
    cfg = state.config
    for name in names:
        cfg.source(name)  # unknown names fail here, with the list of known ones
    if health:
        # sys.exit, not typer.Exit: the exit status must survive standalone_mode=False.
        sys.exit(_health(names))
    outcome = crawl_sources(
        cfg, names, overrides=settings or [], at=at, on_event=_show_event, log_to_stderr=verbose
    )
    if not outcome.results:
        sys.exit(1)
    _print_summary(outcome.results, "crawl summary")
    sys.exit(0 if outcome.healthy else 1)


def _show_event(event: dict[str, Any]) -> None:
    if event.get("event") == "progress":
        console.print(
            f"[dim]{event['source']}[/]: {event['pages']} pages, {event['items']} items"
            f" ({event['new']} new), {event['errors']} errors", highlight=False,
        )  # fmt: skip
    elif event.get("event") == "done":
        mark = "[green]✓[/]" if event.get("healthy") else "[red]✗[/]"
        console.print(
            f"{mark} {event['source']}: {event['pages']} pages,"
            f" {event['new_items']} new items", highlight=False,
        )  # fmt: skip
