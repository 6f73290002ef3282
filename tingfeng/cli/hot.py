"""Hot-topic commands: replay, detect, incidents (thin shells over tingfeng.services.detect)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from models import Incident, Tier
from models.records import IncidentHistory
from text.zh import reason
from tingfeng.cli.app import UserError, app, open_configured_store, state
from tingfeng.cli.tables import add_id_column
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
    """At least 80 columns (a pipe, a narrow window), the terminal's width when wider: an
    analyst's 140-column terminal shows whole titles."""
    width = max(WIDTH, Console().width)
    return Console(width=width, highlight=False, soft_wrap=False)


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


def incidents_table(
    records: list[Incident],
    title: str,
    tiers: Mapping[str, Tier] | None = None,
    width: int = WIDTH,
) -> Table:
    """Incidents in ``width`` (≥ 80) columns: id, title, place, tier, heat, velocity,
    rumor, signals; the title takes what is wider than 80."""
    from tingfeng.services.incidents import tier_label

    table = Table(title=title, box=None, pad_edge=False, header_style="bold")
    # The id is never cut (tingfeng.cli.tables); the title and the place give way.
    add_id_column(table, "编号", [r.id for r in records])
    table.add_column("标题", overflow="ellipsis", max_width=22 + max(0, width - WIDTH))
    table.add_column("区域", overflow="ellipsis", max_width=8)
    table.add_column("级别", no_wrap=True, min_width=4)
    table.add_column("热度", justify="right", no_wrap=True, min_width=5)
    table.add_column("帖/时", justify="right", no_wrap=True, min_width=5)
    table.add_column("谣言", justify="right", no_wrap=True, min_width=4)
    table.add_column("热点", no_wrap=True, min_width=4)
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
            tier_label((tiers or {}).get(r.id)),
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
        ("关联官方回应", len(result.responses)),
        ("耗时（秒）", result.seconds.get("total", 0)),
    ]
    out.print(_summary(rows, "检测结果"))
    for inc_id in result.notify:
        out.print(f"新热点：{inc_id}")
    if result.hot_incidents:
        out.print(
            incidents_table(
                result.hot_incidents, f"当前热点（{len(result.hot_incidents)}）", width=out.width
            )
        )


def history_table(history: IncidentHistory) -> Table:
    table = Table(title=f"事件记录 {history.incident_id}", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("时间", no_wrap=True)
    table.add_column("变化", no_wrap=True)
    table.add_column("由 → 至", no_wrap=True)
    table.add_column("原因", ratio=1, overflow="fold")
    for c in history.changes:
        table.add_row(_time(c.at), CHANGE_NAMES.get(c.change, c.change), c.shift_zh(), c.reason)
    return table


@app.command()
def incidents(
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果。")] = False,
    hot: Annotated[
        bool | None, typer.Option("--hot/--not-hot", help="只列热点（--not-hot：只列非热点）。")
    ] = None,
    district: Annotated[str | None, typer.Option(help="区域，完全一致。")] = None,
    category: Annotated[str | None, typer.Option(help="类别，完全一致。")] = None,
    rumor: Annotated[
        str | None, typer.Option(help="谣言概率档：低（<0.5）、中（0.5–0.8）、高（≥0.8）、未评分。")
    ] = None,
    tier: Annotated[
        list[str] | None,
        typer.Option(help="当前预警的响应级别：I、II、III、IV 或 none（不曾预警），可重复给出。"),
    ] = None,
    since: Annotated[str | None, typer.Option(help="最近出现时间不早于此时（ISO 8601）。")] = None,
    until: Annotated[str | None, typer.Option(help="首次出现时间早于此时（ISO 8601）。")] = None,
    text: Annotated[str, typer.Option("--text", "-q", help="标题或关键词包含此文字。")] = "",
    sort: Annotated[
        str,
        typer.Option(
            help="排序：heat（热度）、last_seen（最近出现）、rumor（谣言概率）或 size（帖数）。"
        ),
    ] = "heat",
    page: Annotated[str, typer.Option(help="页码，从 1 开始。")] = "1",
    limit: Annotated[str, typer.Option(help="每页事件数，1–100。")] = "20",
    history: Annotated[
        str | None, typer.Option(help="显示该事件的变化记录（热点状态、热度档、谣言档、成员）。")
    ] = None,
) -> None:
    """列出事件。Incidents by heat (or last seen, or rumor score), filtered and paged like
    the API's list; each with its tier (响应级别), velocity, signals and rumor score."""
    from tingfeng.services import detect as service
    from tingfeng.services import incidents as listing

    filters = listing.cli_filters(
        since=since, until=until, district=district, category=category, hot=hot,
        rumor=rumor, tiers=tier, text=text, sort=sort, page=page, limit=limit,
    )  # fmt: skip
    with open_configured_store() as store:
        if history is not None:
            record = service.incident_history(store, history)
            if record is None:
                raise UserError(
                    f"--history：没有编号为 {history!r} 的事件记录（见 tingfeng incidents）"
                )
            if as_json:
                _print_json(record.model_dump(mode="json"))
            else:
                _console().print(history_table(record))
            return
        result = listing.page_incidents(store, filters)
    if as_json:
        tiers = {key: t.value for key, t in result.tiers.items()}
        rows = [{**r.model_dump(mode="json"), "tier": tiers.get(r.id)} for r in result.incidents]
        page_of = {"count": result.total, "page": filters.page, "per_page": filters.per_page}
        _print_json({**page_of, "data": rows})
        return
    first = (filters.page - 1) * filters.per_page
    if result.incidents:
        title = f"事件（第 {first + 1}–{first + len(result.incidents)} 个，共 {result.total} 个）"
    elif result.total:
        title = f"事件（第 {filters.page} 页无结果，共 {result.total} 个）"
    else:
        title = "事件（无符合条件的事件）"
    out = _console()
    out.print(incidents_table(result.incidents, title, result.tiers, width=out.width))
