"""Alert commands: ``alerts``, ``alert ack|assign|respond|close``, ``silence``, ``channels``."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import Annotated, Any

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from tingfeng.cli.app import UserError, app, open_configured_store, state
from tingfeng.cli.tables import add_id_column

stdout = Console()

#: History actions, silence targets and message states as the office says them.
ACTIONS = {
    "created": "创建",
    "notified": "已通知",
    "acknowledged": "确认",
    "assigned": "交办",
    "handed_over": "移交",
    "responded": "回应",
    "closed": "关闭",
    "escalated": "升级",
    "escalation": "上报",
    "recovered": "平息",
    "reheated": "再次升温",
    "new_appeal": "新诉求",
    "reminded": "提醒",
    "overdue": "超时",
    "muted": "静默",
    "removed": "解除",
    "dead_letter": "发送失败（死信）",
    "drafted": "起草",
}
TARGETS = {"incident": "事件", "keyword": "关键词", "source": "数据源"}
MESSAGE_STATES = {"pending": "待发送", "sending": "发送中", "delivered": "已送达", "dead": "死信"}

alerts_app = typer.Typer(
    help="预警列表与一次预警评估 / alerts.", invoke_without_command=True, no_args_is_help=False
)
alert_app = typer.Typer(
    help="处理一条预警：确认、交办、回应、关闭 / act on one alert.", no_args_is_help=True
)
silence_app = typer.Typer(
    help="静默：按事件、关键词或数据源暂停通知 / silences.", no_args_is_help=True
)
channels_app = typer.Typer(help="预警渠道 / alert channels.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(alert_app, name="alert")
app.add_typer(silence_app, name="silence")
app.add_typer(channels_app, name="channels")

AtOption = Annotated[
    str | None, typer.Option("--at", help="参考时间 ISO 8601（默认当前时间）/ reference clock.")
]
ByOption = Annotated[str | None, typer.Option("--by", help="操作人（默认当前用户）/ who.")]
AlertId = Annotated[
    str, typer.Argument(metavar="预警编号", help="预警编号（tingfeng alerts 列出全部）。")
]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON.")]


def parse_at(at: str | None, option: str = "--at") -> datetime | None:
    from models import ensure_aware

    if not at:
        return None
    try:
        return ensure_aware(datetime.fromisoformat(at))
    except ValueError:
        raise UserError(f"{option}: 不是 ISO 8601 时间：{at!r}") from None


def actor(by: str | None) -> str:
    return by or getpass.getuser()


def runtime(**kw: Any):
    from alerting.channels import ChannelError
    from alerting.yamlpos import PolicyError
    from tingfeng.services.alerts import load_runtime

    try:
        return load_runtime(state.config, **kw)
    except (PolicyError, ChannelError) as exc:
        raise UserError(str(exc)) from None


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _service(call, *args: Any, **kw: Any):
    from alerting.lifecycle import LifecycleError
    from tingfeng.services.alerts import AlertServiceError

    try:
        return call(*args, **kw)
    except (LifecycleError, AlertServiceError) as exc:
        raise UserError(str(exc)) from None


def _local(dt: datetime | None) -> str:
    from alerting.render import local

    return local(dt) if dt else "-"


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    as_json: JsonOption = False,
    all_: Annotated[bool, typer.Option("--all", help="含已关闭 / include closed.")] = False,
    at: AtOption = None,
) -> None:
    """列出未关闭的预警（级别、规则、责任单位、最近时限）/ list open alerts."""
    if ctx.invoked_subcommand is not None:
        return
    from alerting.lifecycle import STATUS_LABELS
    from alerting.render import deadline_text
    from models.common import now_utc
    from tingfeng.services.alerts import list_alerts

    now = parse_at(at) or now_utc()
    with open_configured_store() as store:
        rows = list_alerts(store, include_closed=all_)
    if as_json:
        _json({"count": len(rows), "data": [a.model_dump(mode="json") for a in rows]})
        return
    if stdout.width < NARROW:
        _alert_cards(rows, now)
        return
    table = Table(title=f"预警（{len(rows)} 条）", box=box.SIMPLE_HEAD, pad_edge=False)
    add_id_column(table, "编号", [a.id for a in rows])  # never cut: alerts show / alert ack ID
    table.add_column("级别", no_wrap=True)
    table.add_column("状态", no_wrap=True)
    for col in ("标题", "规则", "责任单位", "最近时限", "承办"):
        table.add_column(col, overflow="fold")
    for a in rows:
        running = [d for d in a.deadlines if d.met_at is None]
        nxt = min(running, key=lambda d: d.due) if running else None
        table.add_row(
            a.id,
            a.tier.label,
            STATUS_LABELS[a.status] + ("·已平息" if a.recovered_at else ""),
            a.title[:24],
            a.rule,
            a.assigned_department or a.department or "-",
            f"{nxt.label} {deadline_text(nxt, now)}" if nxt else "-",
            a.assignee or "-",
        )
    stdout.print(table)


#: Below this many columns the alert list is one block per alert: eight table columns
#: in 80 wrapped every cell a character or two at a time.
NARROW = 110


def _alert_cards(rows: list[Any], now: Any) -> None:
    from alerting.lifecycle import STATUS_LABELS
    from alerting.render import deadline_text

    stdout.print(f"预警（{len(rows)} 条）", highlight=False)
    for a in rows:
        running = [d for d in a.deadlines if d.met_at is None]
        nxt = min(running, key=lambda d: d.due) if running else None
        status = STATUS_LABELS[a.status] + ("·已平息" if a.recovered_at else "")
        stdout.print(f"\n[bold]{a.id}[/bold]  {a.tier.label}  {status}", highlight=False)
        stdout.print(f"  {a.title}", markup=False, highlight=False)
        stdout.print(
            f"  规则：{a.rule}  责任单位：{a.assigned_department or a.department or '-'}"
            f"  承办：{a.assignee or '-'}",
            markup=False,
            highlight=False,
        )
        if nxt is not None:
            stdout.print(
                f"  最近时限：{nxt.label} {deadline_text(nxt, now)}", markup=False, highlight=False
            )


@alerts_app.command("run")
def alerts_run(
    at: AtOption = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="评估后发送 / also send.")] = True,
    as_json: JsonOption = False,
) -> None:
    """评估一次：为活跃事件与数据源更新预警，发送到期消息 / one alerting pass."""
    from tingfeng.services.alerts import run_pass

    rt = runtime()
    with open_configured_store() as store:
        report = run_pass(store, rt, parse_at(at), send=send, config=state.config)
    if as_json:
        _json(report)
        return
    e = report["evaluate"]
    stdout.print(
        f"评估 {e['incidents']} 个事件：新建 {e['created']}，升级 {e['escalated']}，"
        f"平息 {e['recovered']}，提醒 {e['reminders']}，超时 {e['overdue']}，"
        f"上报 {e['escalations']}，数据源 {e['source_alerts']}，入队消息 {e['messages']}"
    )
    for bulletin_id in report.get("drafts", []):
        stdout.print(f"已自动起草通报 {bulletin_id}，待编辑审核（tingfeng bulletin show ID）")
    if "send" in report:
        s = report["send"]
        stdout.print(
            f"发送 {s['sent']} 条（{s['parts']} 段），失败待重试 {s['failed']}，"
            f"死信 {s['dead']}，限流 {s['throttled']}，等待 {s['waiting']}"
        )
        for err in s["errors"]:
            stdout.print(f"  渠道错误：{err}")


#: The status each history action leaves an alert in (for ``alerts show --at``).
STATUS_AFTER = {
    "created": "new",
    "notified": "notified",
    "acknowledged": "acknowledged",
    "assigned": "assigned",
    "handed_over": "assigned",
    "responded": "responded",
    "closed": "closed",
}


def status_at(a: Any, now: datetime) -> Any:
    """The alert's status as of ``now``: that left by its last state-changing history
    entry at or before ``now`` (its current status when none is later than ``now``)."""
    from models import AlertStatus

    if all(h.at <= now for h in a.history):
        return a.status
    status = AlertStatus.NEW
    for h in sorted(a.history, key=lambda h: h.at):
        if h.at > now:
            break
        status = AlertStatus(STATUS_AFTER.get(h.action, status.value))
    return status


@alerts_app.command("show")
def alerts_show(alert_id: AlertId, as_json: JsonOption = False, at: AtOption = None) -> None:
    """一条预警的详情与处理记录；--at 时状态与时限倒计时按该参考时间 / one alert with its
    history, as of the reference clock."""
    from alerting.lifecycle import STATUS_LABELS
    from alerting.render import deadline_text
    from models.common import now_utc
    from tingfeng.services.alerts import get_alert, outbox

    clock = parse_at(at)
    now = clock or now_utc()
    with open_configured_store() as store:
        a = get_alert(store, alert_id)
        messages = outbox(store, alert_id)
    status = status_at(a, now)
    if as_json:
        _json(
            {
                **a.model_dump(mode="json"),
                "as_of": now.isoformat(),
                "status_as_of": status.value,
                "deadlines_as_of": [
                    {"label": d.label, "due": d.due.isoformat(),
                     "met": d.met_at is not None and d.met_at <= now,
                     "overdue": (d.met_at is None or d.met_at > now) and d.due < now}
                    for d in a.deadlines
                ],
                "outbox": [m.model_dump(mode="json", exclude={"content"}) for m in messages],
            }
        )  # fmt: skip
        return
    stdout.print(f"[bold]{a.id}[/bold] {a.tier.label} {a.title}", highlight=False)
    stdout.print(
        f"状态：{STATUS_LABELS[status]}"
        + ("·已平息" if a.recovered_at and a.recovered_at <= now else "")
        + f"（截至 {_local(now)}）",
        highlight=False,
    )
    stdout.print(f"规则：{a.rule}（{a.reason}）  责任单位：{a.department or '-'}")
    for d in a.deadlines:
        if d.met_at is not None and d.met_at > now:  # met later than the clock: running then
            d = d.model_copy(update={"met_at": None})
        stdout.print(f"  {d.label}：{deadline_text(d, now)}", highlight=False)
    later = 0
    # In time order: a board reply recorded later is dated when it was written (19:00
    # 回应 above 19:15 平息), and sorting keeps entries of one time in recorded order.
    for h in sorted(a.history, key=lambda h: h.at):
        if clock is not None and h.at > clock:
            later += 1
            continue
        actor = "系统" if h.actor == "system" else h.actor
        stdout.print(f"  {_local(h.at)} {ACTIONS.get(h.action, h.action)} {actor}：{h.text}")
    if later:
        stdout.print(f"  （参考时间之后另有 {later} 条处理记录，未列出）", highlight=False)
    for m in messages:
        stdout.print(
            f"  消息 {m.channel} 第 {m.revision} 版 {m.event}："
            f"{MESSAGE_STATES.get(m.status.value, m.status.value)}"
            f"（尝试 {m.attempts} 次）{m.last_error or ''}"
        )


def _done(a: Any, what: str, as_json: bool) -> None:
    from alerting.lifecycle import STATUS_LABELS

    if as_json:
        _json(a.model_dump(mode="json"))
    else:
        stdout.print(f"{what}：{a.id}（{a.tier.label}，{STATUS_LABELS[a.status]}）")


@alert_app.command("ack")
def alert_ack(
    alert_id: AlertId,
    by: ByOption = None,
    comment: Annotated[str, typer.Option(help="备注 / comment.")] = "",
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """确认预警 / acknowledge."""
    from tingfeng.services.alerts import acknowledge

    with open_configured_store() as store:
        a = _service(acknowledge, store, alert_id, actor(by), comment=comment, now=parse_at(at))
    _done(a, "已确认", as_json)


@alert_app.command("assign")
def alert_assign(
    alert_id: AlertId,
    to: Annotated[str, typer.Option("--to", help="承办人 / assignee.")],
    department: Annotated[str | None, typer.Option(help="承办单位（移交时填写）.")] = None,
    by: ByOption = None,
    comment: Annotated[str, typer.Option(help="备注 / comment.")] = "",
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """交办（或在部门间移交）/ assign or hand over."""
    from tingfeng.services.alerts import assign

    with open_configured_store() as store:
        a = _service(
            assign,
            store,
            alert_id,
            to,
            actor(by),
            department=department,
            comment=comment,
            now=parse_at(at),
        )
    _done(a, "已交办", as_json)


@alert_app.command("respond")
def alert_respond(
    alert_id: AlertId,
    url: Annotated[str, typer.Option("--url", help="官方回应的链接 / link to the official post.")],
    deadline: Annotated[str | None, typer.Option(help="完成的时限名（默认首次回应）.")] = None,
    by: ByOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """登记官方回应 / record the official response."""
    from tingfeng.services.alerts import respond

    with open_configured_store() as store:
        a = _service(respond, store, alert_id, url, actor(by), deadline=deadline, now=parse_at(at))
    _done(a, "已登记回应", as_json)


@alert_app.command("close")
def alert_close(
    alert_id: AlertId,
    reason: Annotated[str, typer.Option("--reason", help="关闭原因 / why.")],
    by: ByOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """关闭预警 / close with a reason."""
    from tingfeng.services.alerts import close

    with open_configured_store() as store:
        a = _service(close, store, alert_id, reason, actor(by), now=parse_at(at))
    _done(a, "已关闭", as_json)


@silence_app.command("add")
def silence_add(
    target: Annotated[
        str,
        typer.Argument(
            metavar="对象", help="incident（事件）、keyword（关键词）或 source（数据源）"
        ),
    ],
    value: Annotated[str, typer.Argument(metavar="值", help="事件编号、关键词或数据源名")],
    reason: Annotated[str, typer.Option("--reason", help="原因 / why.")],
    minutes: Annotated[float | None, typer.Option(help="时长（分钟）.")] = None,
    until: Annotated[str | None, typer.Option(help="结束时间 ISO 8601.")] = None,
    by: ByOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """新增静默 / mute an incident, keyword or source for a time."""
    from tingfeng.services.alerts import add_silence

    with open_configured_store() as store:
        s = _service(
            add_silence,
            store,
            target,
            value,
            reason,
            actor(by),
            minutes=minutes,
            until=parse_at(until, "--until"),
            now=parse_at(at),
        )
    if as_json:
        _json(s.model_dump(mode="json"))
        return
    what = TARGETS.get(s.target.value, s.target.value)
    stdout.print(f"已静默{what}：{s.value}，至 {_local(s.ends_at)}（编号 {s.id}）")


@silence_app.command("list")
def silence_list(
    all_: Annotated[bool, typer.Option("--all", help="含已结束 / include ended.")] = False,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """列出静默 / list silences."""
    from tingfeng.services.alerts import list_silences

    with open_configured_store() as store:
        rows = list_silences(store, now=parse_at(at), include_ended=all_)
    if as_json:
        _json({"count": len(rows), "data": [s.model_dump(mode="json") for s in rows]})
        return
    table = Table(title=f"静默 / silences（{len(rows)}）")
    add_id_column(table, "编号", [s.id for s in rows])  # never cut: silence remove ID
    for col in ("对象", "值", "原因", "设置人", "结束", "状态"):
        table.add_column(col, overflow="fold")
    for s in rows:
        table.add_row(
            s.id,
            TARGETS.get(s.target.value, s.target.value),
            s.value,
            s.reason,
            s.created_by,
            _local(s.ends_at),
            "已解除" if s.removed_at else "生效",
        )
    stdout.print(table)


@silence_app.command("remove")
def silence_remove(
    silence_id: Annotated[
        str, typer.Argument(metavar="静默编号", help="静默编号（tingfeng silence list）。")
    ],
    by: ByOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """解除静默 / remove a silence."""
    from tingfeng.services.alerts import remove_silence

    with open_configured_store() as store:
        s = _service(remove_silence, store, silence_id, actor(by), now=parse_at(at))
    if as_json:
        _json(s.model_dump(mode="json"))
        return
    stdout.print(f"已解除静默 {s.id}")


@channels_app.command("list")
def channels_list(as_json: JsonOption = False) -> None:
    """列出已配置的渠道 / configured channels."""
    rt = runtime()
    rows = [c.info() for c in rt.channels.values()]
    if as_json:
        _json(rows)
        return
    for row in rows:
        stdout.print(
            f"{row['name']}：{row['type']}，单条上限 {row['max_bytes'] or '无'} 字节，"
            f"限速 {row['rate_limits'] or '无'}"
        )


@channels_app.command("test")
def channels_test(
    name: Annotated[str, typer.Argument(metavar="渠道名", help="已配置的渠道名。")],
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """发送一条测试消息并显示平台的回答 / send a test message, print the answer."""
    from tingfeng.services.alerts import try_channel

    rt = runtime()
    results = _service(try_channel, rt, name, now=parse_at(at))
    if as_json:
        _json([{"ok": r.ok, "detail": r.detail} for r in results])
    else:
        for i, r in enumerate(results, 1):
            stdout.print(f"第 {i} 段：{'成功' if r.ok else '失败'} — {r.detail}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)
