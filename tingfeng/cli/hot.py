"""Hot-topic commands: replay, detect, incidents (thin shells over tingfeng.services.detect)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from models import Incident
from models.records import IncidentHistory
from text.zh import reason
from tingfeng.cli.app import UserError, app, open_configured_store, state
from tingfeng.services.detect import DetectInputError

#: Tables are laid out for an 80-column terminal (and for pipes and logs).
WIDTH = 80
CHANGE_NAMES = {
    "opened": "新事件",
    "hot": "热点",
    "heat_band": "热度等级",
    "rumor_band": "谣言风险",
    "membership": "帖子",
}


def _console() -> Console:
    return Console(width=WIDTH, highlight=False, soft_wrap=False)


def _print_json(data: object) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _bad(exc: DetectInputError) -> typer.BadParameter:
    """A refused option value: click names the option and exits with status 2."""
    message = str(exc)
    option, _, rest = message.partition(": ")
    if option.startswith("--"):
        return typer.BadParameter(rest, param_hint=f"'{option}'")
    return typer.BadParameter(message)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _time(value) -> str:
    from models import SHANGHAI

    return "-" if value is None else value.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def incidents_table(records: list[Incident], title: str) -> Table:
    """Incidents by heat in 80 columns: id, title, place, heat, velocity, signals."""
    table = Table(title=title, box=None, pad_edge=False, header_style="bold")
    table.add_column("编号", no_wrap=True, min_width=20)
    table.add_column("标题", no_wrap=True, overflow="ellipsis", min_width=10, max_width=24)
    table.add_column("区域", no_wrap=True, min_width=4, max_width=8, overflow="ellipsis")
    table.add_column("热度", justify="right", no_wrap=True, min_width=5)
    table.add_column("帖/时", justify="right", no_wrap=True, min_width=5)
    table.add_column("谣言", justify="right", no_wrap=True, min_width=4)
    table.add_column("热点", no_wrap=True, min_width=6)
    for r in records:
        signals = []
        if r.burst:
            signals.append("爆")
        if r.virality is not None and r.hot and not r.burst:
            signals.append("传")
        table.add_row(
            r.id,
            r.title or "（无标题）",
            r.district or "-",
            _fmt(r.heat, 1),
            _fmt(r.velocity.get("posts_per_h_1h"), 0),
            _fmt(r.rumor_score),
            ("🔥" + "".join(signals)) if r.hot else "",
        )
    return table


def _summary(rows: list[tuple[str, object]], title: str) -> Table:
    table = Table(title=title, show_header=False, box=box.SIMPLE, pad_edge=False)
    table.add_column("项目", no_wrap=True)
    table.add_column("数值", overflow="fold")
    for key, value in rows:
        table.add_row(key, str(value))
    return table


@app.command()
def replay(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="数据", help="CED 格式的目录、一个 JSONL 文件，或放 JSONL 文件的目录。"
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(metavar="时间", help="参考时间（ISO 8601）：只回放此时以前发布的帖子。"),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(help="按实际时间的 N 倍回放（如 60：每分钟一小时）；默认：尽快。"),
    ] = None,
    save_every: Annotated[int, typer.Option(help="每模拟 N 分钟写一次事件记录。")] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果。")] = False,
) -> None:
    """回放数据集：按发帖顺序经过存储、事件归并与检测。Replay a dataset in post order."""
    from tingfeng.services import detect as service

    if not directory.exists():
        raise UserError(f"{directory}: 文件或目录不存在")
    with open_configured_store(create=True) as store:
        try:
            result = service.replay(
                state.config, store, directory, at=at, speed=speed, save_every=save_every
            )
        except DetectInputError as exc:
            if str(exc).startswith("hot."):
                raise UserError(str(exc)) from None
            raise _bad(exc) from None
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    rows = [
        ("帖子", result.posts),
        ("转评快照", result.snapshots),
        ("模拟分钟", result.ticks),
        ("在检事件", result.incidents),
        ("新事件", result.new_incidents),
        ("热点触发", result.hot_onsets),
        ("事件写入次数", result.saved_incident_versions),
        ("谣言重新评分", result.rumor_scored),
        ("最早", _time(result.first)),
        ("最晚", _time(result.last)),
        ("参考时钟", _time(result.at) if result.at else "（数据末尾）"),
        ("跳过", "，".join(f"{reason(k)} {v}" for k, v in result.skipped.items()) or "无"),
        ("耗时（秒）", result.seconds.get("total", 0)),
        ("帖/秒", result.posts_per_second),
    ]
    _console().print(_summary(rows, "回放结果"))


@app.command()
def detect(
    at: Annotated[
        str | None,
        typer.Option(metavar="时间", help="参考时间（ISO 8601，默认当前）：只看此时以前的帖子。"),
    ] = None,
    rescan_hours: Annotated[
        float | None,
        typer.Option(help="回看多少小时内未归入事件的帖子（默认 hot.late_margin_hours）。"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果。")] = False,
) -> None:
    """运行一次事件检测：新帖归入事件，更新活跃事件。One detection pass."""
    from tingfeng.services import detect as service

    try:  # refused before the store is opened
        service.check_detect_options(at, rescan_hours)
    except DetectInputError as exc:
        raise _bad(exc) from None
    with open_configured_store() as store:
        try:
            result = service.detect(state.config, store, at=at, rescan_hours=rescan_hours)
        except DetectInputError as exc:
            if str(exc).startswith("hot."):
                raise UserError(str(exc)) from None
            raise _bad(exc) from None
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    out = _console()
    rows = [
        ("参考时钟", _time(result.at)),
        ("读取帖子", f"{result.read}（迟到 {result.late}）"),
        ("归入事件", f"{result.assigned}（新事件 {result.new_incidents}）"),
        ("评估事件", result.evaluated),
        ("热点事件", result.hot),
        ("写入记录", result.saved),
        ("谣言重新评分", result.rumor_scored),
        ("耗时（秒）", result.seconds.get("total", 0)),
    ]
    out.print(_summary(rows, "检测结果"))
    for inc_id in result.notify:
        out.print(f"新热点：{inc_id}")
    if result.hot_incidents:
        out.print(incidents_table(result.hot_incidents, f"当前热点（{len(result.hot_incidents)}）"))


def history_table(history: IncidentHistory) -> Table:
    table = Table(title=f"事件记录 {history.incident_id}", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("时间", no_wrap=True)
    table.add_column("变化", no_wrap=True)
    table.add_column("由 → 至", no_wrap=True)
    table.add_column("原因", ratio=1, overflow="fold")
    for c in history.changes:
        table.add_row(
            _time(c.at), CHANGE_NAMES.get(c.change, c.change), f"{c.old} → {c.new}", c.reason
        )
    return table


@app.command()
def incidents(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    hot_only: Annotated[bool, typer.Option("--hot", help="Only hot incidents.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    history: Annotated[
        str | None, typer.Option(help="Show this incident's history (hot state, bands, posts).")
    ] = None,
) -> None:
    """列出当前事件。Incidents by heat, with velocity, burst, virality and rumor score."""
    from tingfeng.services import detect as service

    with open_configured_store() as store:
        if history is not None:
            record = service.incident_history(store, history)
            if record is None:
                raise UserError(f"--history: no incident history for {history!r}")
            if as_json:
                _print_json(record.model_dump(mode="json"))
            else:
                _console().print(history_table(record))
            return
        try:
            page = service.list_incidents(store, hot_only=hot_only, limit=limit)
        except DetectInputError as exc:
            raise _bad(exc) from None
    if as_json:
        _print_json({"count": page.count, "data": [r.model_dump(mode="json") for r in page.data]})
        return
    _console().print(incidents_table(page.data, f"事件（{page.count} / 共 {page.total}）"))
