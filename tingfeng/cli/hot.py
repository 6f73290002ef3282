"""Hot-topic commands: replay, detect, incidents."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from tingfeng.cli.app import UserError, app, console, open_configured_store, state
from tingfeng.config import HotConfigSection

if TYPE_CHECKING:
    from nlp.detect import HotConfig

stdout = Console()
COLUMNS = ("id", "标题 title", "区域", "类别", "热度", "帖/时", "爆发", "传播预测", "谣言", "热点")


def hot_config(section: HotConfigSection) -> HotConfig:
    """The ``hot:`` config section as the detector's own settings."""
    from nlp.detect import HotConfig
    from nlp.heat import SpikeConfig
    from nlp.incidents import ClusterConfig

    b, c = section.burst, section.cluster
    try:
        burst = SpikeConfig(
            reference=timedelta(minutes=b.reference_minutes),
            current=timedelta(minutes=b.current_minutes),
            ratio=b.ratio,
            min_current=b.min_current,
            min_reference=b.min_reference,
            release=b.release,
            cooldown=timedelta(minutes=b.cooldown_minutes),
            backoff=timedelta(minutes=b.backoff_minutes),
            max_backoff=timedelta(minutes=b.max_backoff_minutes),
        )
    except ValueError as exc:
        raise UserError(f"hot.burst: {exc}") from None
    for key in ("categories", "virality_model"):
        path = getattr(section, key)
        if path is not None and not Path(path).is_file():
            raise UserError(f"hot.{key}: file not found: {path}")
    return HotConfig(
        cluster=ClusterConfig(
            window=timedelta(hours=c.window_hours),
            tau=timedelta(hours=c.tau_hours),
            threshold=c.threshold,
        ),
        burst=burst,
        virality_threshold=section.virality_threshold,
        active=timedelta(hours=section.active_hours),
        retention=timedelta(hours=section.retention_hours),
        late_margin=timedelta(hours=section.late_margin_hours),
        hot_cooldown=timedelta(minutes=section.hot_cooldown_minutes),
        locality=section.locality,
        categories=str(section.categories) if section.categories else None,
        virality_model=str(section.virality_model) if section.virality_model else None,
        rumor_model=str(state.config.nlp.rumor_model) if state.config.nlp.rumor_model else None,
    )


def _print_json(data: object) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@app.command()
def replay(
    directory: Annotated[
        Path, typer.Argument(help="A CED-layout directory, a JSONL file or a directory of them.")
    ],
    speed: Annotated[
        float | None,
        typer.Option(help="N times real time (e.g. 60: one hour per minute); default: fastest."),
    ] = None,
    save_every: Annotated[
        int, typer.Option(help="Write incident records every N simulated minutes.")
    ] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """回放数据集。Stream a dataset through the live pipeline (store → incidents →
    detection) in post-time order."""
    from nlp.detect import load_detector
    from nlp.replay import load_stream
    from nlp.replay import replay as run_replay

    if speed is not None and speed <= 0:
        raise UserError("--speed: must be positive")
    if not directory.exists():
        raise UserError(f"{directory}: no such file or directory")
    config = hot_config(state.config.hot)
    with open_configured_store() as store:
        detector = load_detector(store, config)
        console.print(f"loading {directory} …")
        from text.report import ImportReport

        load_report = ImportReport()
        items = load_stream(directory, load_report)
        result = run_replay(items, detector, store, speed=speed, save_every=save_every)
        result.load = load_report
    if as_json:
        _print_json(result.as_dict())
        return
    table = Table(title="回放结果 / replay summary", show_header=False)
    for key, value in result.as_dict().items():
        table.add_row(key, str(value))
    stdout.print(table)


@app.command()
def detect(
    at: Annotated[
        str | None,
        typer.Option(help="Evaluate at this time (ISO 8601; default now). For replayed data."),
    ] = None,
    rescan_hours: Annotated[
        float | None,
        typer.Option(
            min=0, help="Look this far back for unassigned posts (default hot.late_margin_hours)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """运行一次事件检测。Run one detection pass: assign new posts, update every active
    incident's figures."""
    from models import ensure_aware
    from nlp.detect import run_detect

    when = None
    if at:
        try:
            when = ensure_aware(datetime.fromisoformat(at))
        except ValueError:
            raise UserError(f"--at: not an ISO 8601 time: {at!r}") from None
    config = hot_config(state.config.hot)
    with open_configured_store() as store:
        rescan = None if rescan_hours is None else timedelta(hours=rescan_hours)
        report = run_detect(store, config, now=when, rescan=rescan)
    if as_json:
        _print_json(report.as_dict())
        return
    stdout.print(
        f"detect at {report.at.isoformat()}: read {report.read}, assigned {report.assigned} "
        f"({report.new_incidents} new incidents), evaluated {report.evaluated}, "
        f"hot {report.hot}, saved {report.saved} in {report.seconds.get('total', 0)} s"
    )
    for inc_id in report.notify:
        stdout.print(f"  new hot topic: {inc_id}")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@app.command()
def incidents(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    hot_only: Annotated[bool, typer.Option("--hot", help="Only hot incidents.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
) -> None:
    """列出当前事件。List current incidents by heat, with velocity, burst, virality and
    rumor score."""
    from tingfeng.services.incidents import list_incidents

    with open_configured_store(readonly=True) as store:
        listing = list_incidents(store, hot_only=hot_only, limit=limit)
    total, records = listing.total, listing.data
    if as_json:
        _print_json({"count": len(records), "data": [r.model_dump(mode="json") for r in records]})
        return
    table = Table(title=f"事件 / incidents ({len(records)} of {total})")
    for col in COLUMNS:
        table.add_column(col)
    for r in records:
        table.add_row(
            r.id,
            r.title[:30],
            r.district or "-",
            r.category or "-",
            _fmt(r.heat, 1),
            _fmt(r.velocity.get("posts_per_h_1h"), 1),
            "是" if r.burst else "",
            _fmt(r.virality),
            _fmt(r.rumor_score),
            "🔥" if r.hot else "",
        )
    stdout.print(table)
