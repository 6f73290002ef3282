"""``tingfeng crawl``: run sources once, with progress and a summary; ``--health`` shows
each source's last crawl and whether it still works.

The crawl itself runs in a subprocess (``python -m crawler.run``) because the Twisted
reactor cannot be restarted in one process; the scheduler will start it the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tingfeng.cli.app import UserError, app, console, open_configured_store, state


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
    from crawler.health import read_health

    cfg = state.config
    wanted = [cfg.source(n) for n in names] if names else cfg.sources
    with open_configured_store() as store:
        rows = [read_health(store, source).model_dump(mode="json") for source in wanted]
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
) -> None:
    """Crawl configured sources once (exit 1 if a source is unhealthy afterwards)."""
    names = list(sources or [])
    cfg = state.config
    for name in names:
        cfg.source(name)  # unknown names fail here, with the list of known ones
    if health:
        # sys.exit, not typer.Exit: the exit status must survive standalone_mode=False.
        sys.exit(_health(names))
    if cfg.source_file is None:
        raise UserError("no configuration file: give --config PATH or set TINGFENG_CONFIG")
    if not names and not any(s.enabled for s in cfg.sources):
        raise UserError("sources: nothing to crawl (no enabled source configured)")
    from crawler.run import check_sources, select_sources

    check_sources(select_sources(cfg, names))  # bad settings: one clear error, no crawl
    cmd = [sys.executable, "-m", "crawler.run", str(cfg.source_file), *names, "--progress"]
    for value in settings or []:
        cmd += ["--set", value]
    results = _run(cmd, verbose)
    if not results:
        sys.exit(1)
    _print_summary(results, "crawl summary")
    sys.exit(0 if all(r.get("healthy") for r in results) else 1)


def _run(cmd: list[str], verbose: bool) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=None if verbose else log, text=True,
            encoding="utf-8", cwd=Path.cwd(),
        )  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "progress":
                console.print(
                    f"[dim]{event['source']}[/]: {event['pages']} pages, {event['items']} items"
                    f" ({event['new']} new), {event['errors']} errors", highlight=False,
                )  # fmt: skip
            elif event.get("event") == "done":
                results.append(event)
                mark = "[green]✓[/]" if event.get("healthy") else "[red]✗[/]"
                console.print(
                    f"{mark} {event['source']}: {event['pages']} pages,"
                    f" {event['new_items']} new items", highlight=False,
                )  # fmt: skip
        code = proc.wait()
        if code != 0:
            log.seek(0)
            tail = "".join(log.readlines()[-15:]).strip()
            raise UserError(f"the crawl failed (exit {code})" + (f":\n{tail}" if tail else ""))
    return results
