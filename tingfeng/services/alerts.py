"""Alert services: one alerting pass, sending, the alert lifecycle, silences, channel tests.

The CLI (``tingfeng alerts``, ``alert``, ``silence``, ``channels``) and the API call these;
every function that depends on time takes ``now`` (the reference clock, ``--at``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from alerting import lifecycle
from alerting.channels import Channel, ChannelError, SendResult, build_channel
from alerting.config import AlertingConfig
from alerting.engine import AlertEngine, list_all
from alerting.events import OPEN_STATUSES
from alerting.lifecycle import LifecycleError
from alerting.outbox import Sender, SendReport, pending_messages
from alerting.policy import RANK, TierPolicy, load_policy
from alerting.render import AlertText, Line
from alerting.yamlpos import PolicyError
from models import (
    Alert,
    AlertKind,
    AlertStatus,
    OutboxMessage,
    Silence,
    SilenceTarget,
    Source,
    Tier,
)
from models.common import now_utc
from store.base import ConflictError, NotFoundError, Store
from store.incident_fields import current_alert

__all__ = [
    "AlertingRuntime",
    "ChannelError",
    "LifecycleError",
    "PolicyError",
    "load_runtime",
]


class AlertServiceError(Exception):
    """Something the user asked that cannot be done (unknown id, bad option)."""


@dataclass
class AlertingRuntime:
    """Everything alerting needs, validated once at start-up."""

    config: AlertingConfig
    policy: TierPolicy
    channels: dict[str, Channel]
    sources: list[Source]
    #: the ``office:`` section (its accounts' replies answer direct appeals)
    office: Any = None

    def engine(self, store: Store) -> AlertEngine:
        return AlertEngine(
            store, self.policy, self.config, sources=self.sources, office=self.office
        )

    def sender(self, store: Store, **kw: Any) -> Sender:
        engine = self.engine(store)
        return Sender(store, self.channels, self.config.outbox, on_dead=engine.dead_letter, **kw)


def policy_path(config: Any) -> Path | None:
    path = config.alerting.policy
    if path is not None and not path.is_absolute() and config.source_file:
        path = (Path(config.source_file).parent / path).resolve()
    return path


def load_runtime(
    config: Any,
    *,
    client: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AlertingRuntime:
    """Policy and channels from the configuration; raises :class:`PolicyError` or
    :class:`ChannelError` naming the file, line or key that does not validate."""
    section: AlertingConfig = config.alerting
    policy = load_policy(policy_path(config))
    channels = {
        name: build_channel(name, raw, client=client, clock=clock)
        for name, raw in section.channels.items()
    }
    return AlertingRuntime(
        section,
        policy,
        channels,
        list(getattr(config, "sources", [])),
        getattr(config, "office", None),
    )


def run_pass(
    store: Store,
    runtime: AlertingRuntime,
    now: datetime | None = None,
    *,
    send: bool = True,
    config: Any = None,
) -> dict[str, Any]:
    """Evaluate every active incident and source, then with ``config`` draft bulletins for
    the alerts on likely rumors (``alerting.drafts``, as the worker's pass does: ``drafts``
    in the answer), then (``send``) deliver what is due."""
    now = now or now_utc()
    evaluated = runtime.engine(store).run(now)
    out: dict[str, Any] = {"evaluate": evaluated.as_dict()}
    if config is not None:
        out["drafts"] = draft_on_alerts(store, config, now)
    if send:
        out["send"] = send_pending(store, runtime, now).as_dict()
    return out


def send_pending(store: Store, runtime: AlertingRuntime, now: datetime | None = None) -> SendReport:
    now = now or now_utc()
    for channel in runtime.channels.values():
        channel.clock = lambda: now
    return runtime.sender(store).run_once(now)


# -- reading ---------------------------------------------------------------------------
def list_alerts(
    store: Store,
    *,
    include_closed: bool = False,
    status: AlertStatus | None = None,
    incident_id: str | None = None,
) -> list[Alert]:
    """Alerts, most urgent tier first, then oldest first. Open ones only unless
    ``include_closed``; ``status`` and ``incident_id`` narrow the read in the store (only
    the open states are read for the open feed: closed alerts pile up over the years)."""
    equals: dict[str, Any] = {"incident_id": incident_id} if incident_id else {}
    if status is not None:
        alerts = list_all(store, Alert, status=status, **equals)
    elif include_closed:
        alerts = list_all(store, Alert, **equals)
    else:
        alerts = [a for st in OPEN_STATUSES for a in list_all(store, Alert, status=st, **equals)]
    alerts.sort(key=lambda a: (-RANK[a.tier], a.opened_at, a.id))
    return alerts


def get_alert(store: Store, alert_id: str) -> Alert:
    alert = store.get_record(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"没有编号为 {alert_id!r} 的预警（tingfeng alerts 列出全部）")
    return alert


def alert_for_incident(store: Store, incident_id: str) -> Alert | None:
    """The incident's current alert (the open one, else the latest opened; ties by id),
    whose tier the store keeps as the incident's (the incident list's tier filter and
    column): for the incident page and the response tracker, which calls :func:`respond`."""
    return current_alert(list_all(store, Alert, incident_id=incident_id))


def outbox(store: Store, alert_id: str | None = None) -> list[OutboxMessage]:
    if alert_id:
        return list_all(store, OutboxMessage, alert_id=alert_id)
    return pending_messages(store)


# -- lifecycle -------------------------------------------------------------------------
def _change(store: Store, alert_id: str, step: Callable[[Alert], Alert]) -> Alert:
    for _ in range(3):
        alert = get_alert(store, alert_id)
        step(alert)
        try:
            return store.save_record(alert)
        except ConflictError:
            continue  # an alerting pass saved meanwhile: re-read and re-apply
    raise AlertServiceError(f"预警 {alert_id} 正被频繁更新，请重试")


def acknowledge(
    store: Store, alert_id: str, actor: str, *, comment: str = "", now: datetime | None = None
) -> Alert:
    at = now or now_utc()
    return _change(store, alert_id, lambda a: lifecycle.acknowledge(a, actor, at, comment))


def assign(
    store: Store,
    alert_id: str,
    assignee: str,
    actor: str,
    *,
    department: str | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> Alert:
    at = now or now_utc()
    return _change(
        store, alert_id, lambda a: lifecycle.assign(a, assignee, actor, at, department, comment)
    )


def respond(
    store: Store,
    alert_id: str,
    url: str,
    actor: str,
    *,
    deadline: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """Record the official answer (by hand, or from the response tracker)."""
    at = now or now_utc()
    return _change(store, alert_id, lambda a: lifecycle.respond(a, url, actor, at, deadline))


def close(
    store: Store, alert_id: str, reason: str, actor: str, *, now: datetime | None = None
) -> Alert:
    at = now or now_utc()
    return _change(store, alert_id, lambda a: lifecycle.close(a, reason, actor, at))


# -- silences --------------------------------------------------------------------------
def add_silence(
    store: Store,
    target: str,
    value: str,
    reason: str,
    actor: str,
    *,
    minutes: float | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Silence:
    from models import AlertEvent

    at = now or now_utc()
    try:
        kind = SilenceTarget(target)
    except ValueError:
        raise AlertServiceError(
            f"静默对象应为 incident、keyword 或 source，而不是 {target!r}"
        ) from None
    if not value.strip():
        raise AlertServiceError("静默对象的值不能为空（value）")
    if not reason.strip():
        raise AlertServiceError("静默必须注明原因（--reason）")
    if not actor.strip():
        raise AlertServiceError("静默必须注明设置人（--by）")
    if until is None:
        if not minutes or minutes <= 0:
            raise AlertServiceError("静默必须给出时长（--minutes）或结束时间（--until）")
        until = at + timedelta(minutes=minutes)
    if until <= at:
        raise AlertServiceError(f"静默结束时间 {until.isoformat()} 早于开始时间")
    n = store.count_records(Silence) + 1
    silence = Silence(
        id=f"silence-{n}-{int(at.timestamp())}",
        target=kind,
        value=value.strip(),
        reason=reason.strip(),
        created_by=actor.strip(),
        starts_at=at,
        ends_at=until,
        created_at=at,
        history=[AlertEvent(at=at, action="created", actor=actor.strip(), text=reason.strip())],
    )
    return store.save_record(silence)


def list_silences(
    store: Store, *, now: datetime | None = None, include_ended: bool = False
) -> list[Silence]:
    at = now or now_utc()
    out = [s for s in list_all(store, Silence) if include_ended or s.active(at)]
    out.sort(key=lambda s: (s.ends_at, s.id))
    return out


def remove_silence(
    store: Store, silence_id: str, actor: str, *, now: datetime | None = None
) -> Silence:
    from models import AlertEvent

    at = now or now_utc()
    silence = store.get_record(Silence, silence_id)
    if silence is None:
        raise NotFoundError(f"没有编号为 {silence_id!r} 的静默（tingfeng silence list）")
    if silence.removed_at is not None:
        raise AlertServiceError(f"静默 {silence_id} 已于 {silence.removed_at.isoformat()} 解除")
    silence.removed_at, silence.removed_by = at, actor
    silence.history.append(AlertEvent(at=at, action="removed", actor=actor, text="解除静默"))
    return store.save_record(silence)


# -- channels --------------------------------------------------------------------------
def try_channel(
    runtime: AlertingRuntime, name: str, *, now: datetime | None = None
) -> list[SendResult]:
    """Send a test message through channel ``name``; the platform's answer per part."""
    at = now or now_utc()
    channel = runtime.channels.get(name)
    if channel is None:
        known = ", ".join(sorted(runtime.channels)) or "无（在 alerting.channels 中配置）"
        raise AlertServiceError(f"没有名为 {name!r} 的渠道（已配置：{known}）")
    channel.clock = lambda: at
    text = AlertText(
        event="test",
        title="【测试消息】听风舆情预警渠道测试",
        colour="blue",
        lines=[
            Line(label="渠道", value=f"{name}（{channel.options.type}）"),
            Line(label="时间", value=at.isoformat(timespec="seconds")),
            Line(label="说明", value="收到本消息说明预警渠道配置正确，无需处理。"),
        ],
    )
    parts = channel.parts(text)
    key = f"test-{name}-{int(at.timestamp())}"
    results = []
    for i, body in enumerate(parts, 1):
        try:
            results.append(channel.send_part(body, text=text, key=key, part=i, total=len(parts)))
        except Exception as exc:  # the answer is what the user asked to see
            results.append(SendResult(False, f"{type(exc).__name__}: {exc}"))
    return results


# -- digests -----------------------------------------------------------------------------
def digest_text(store: Store, period: str, now: datetime) -> AlertText:
    """The daily (or weekly) summary of alerts: open by tier, new, overdue, closed, top."""
    from alerting.render import local

    span = timedelta(days=7 if period == "weekly" else 1)
    since = now - span
    alerts = list_all(store, Alert)
    open_ = [a for a in alerts if a.is_open]
    new = [a for a in alerts if a.opened_at >= since]
    closed = [a for a in alerts if a.closed_at and a.closed_at >= since]
    overdue = [a for a in open_ if any(d.met_at is None and d.due < now for d in a.deadlines)]
    by_tier = {t: sum(1 for a in open_ if a.tier.value == t) for t in ("I", "II", "III", "IV")}
    name = "每周" if period == "weekly" else "每日"
    lines = [
        Line(label="统计区间", value=f"{local(since)} 至 {local(now)}"),
        Line(label="新增预警", value=f"{len(new)} 条"),
        Line(label="已关闭", value=f"{len(closed)} 条"),
        Line(label="未关闭", value="，".join(f"{Tier(t).label} {n}" for t, n in by_tier.items())),
        Line(label="超时未回应", value=f"{len(overdue)} 条"),
    ]
    for a in sorted(open_, key=lambda a: (-RANK[a.tier], a.opened_at))[:5]:
        lines.append(Line(label=a.tier.label, value=f"{a.title}（{a.rule}）"))
    return AlertText(event="digest", title=f"【{name}舆情预警摘要】{local(now)}", lines=lines)


def queue_digest(store: Store, runtime: AlertingRuntime, period: str, now: datetime) -> int:
    """Queue the digest to ``alerting.schedule.digest_routes``, once per period (its
    idempotency key is the period's date, so a restarted worker does not repeat it)."""
    from alerting.engine import AlertEngine

    engine = AlertEngine(store, runtime.policy, runtime.config)
    channels = engine.channels_of(runtime.config.schedule.digest_routes)
    subject = f"digest-{period}-{now.date().isoformat()}"
    messages = engine.enqueue(subject, 1, "digest", channels, digest_text(store, period, now), now)
    try:
        store.save_records(messages)
    except ConflictError:
        return 0  # already queued for this period
    return len(messages)


# -- draft on alert ----------------------------------------------------------------------
def draft_on_alerts(store: Store, config: Any, now: datetime | None = None) -> list[str]:
    """Draft a bulletin (``alerting.drafts.kind``, a 辟谣声明 by default) for every open
    incident alert of the configured tiers whose incident's rumor score reached
    ``alerting.drafts.rumor_min`` and that has no bulletin yet; the alert's history says
    which draft is waiting. Returns the new bulletins' ids. A draft that cannot be made
    (a broken office template) is logged and retried on the next pass, never fatal."""
    import logging

    from models import AlertEvent, Bulletin, Incident
    from tingfeng.services import bulletins

    opts = config.alerting.drafts
    if not opts.enabled:
        return []
    at = now or now_utc()
    made: list[str] = []
    # An alert opened for a resident's unanswered complaint needs a reply (回应), not a
    # 辟谣声明, however its single post scores for rumor.
    policy = load_policy(policy_path(config))
    appeal_rules = {r.name for r in policy.rules if r.when.direct_appeal}
    for alert in list_alerts(store):
        if alert.alert_kind != AlertKind.INCIDENT or not alert.incident_id:
            continue
        drafted = [e for e in alert.history if e.action == "drafted"]
        if drafted and opts.refresh and alert.is_open:
            _refresh_draft(store, config, str(drafted[0].detail.get("bulletin_id")), at)
        if alert.tier.value not in opts.tiers or drafted:
            continue
        incident = store.get_record(Incident, alert.incident_id)
        if incident is None or incident.rumor_score is None:
            continue
        if incident.rumor_score < opts.rumor_min:
            continue
        if store.list_records(Bulletin, limit=1, incident_id=incident.id):
            continue  # someone drafted already
        kind = "response" if alert.rule in appeal_rules else opts.kind
        try:
            bulletin = bulletins.draft(store, config, incident.id, now=at, by=opts.by, kind=kind)
        except bulletins.BulletinServiceError as exc:
            logging.getLogger("tingfeng.alerts").error("draft for %s: %s", alert.id, exc)
            continue
        event = AlertEvent(
            at=at,
            action="drafted",
            actor=opts.by,
            text=f"已自动起草{bulletin.bulletin_kind.value}（{bulletin.id}），待编辑审核",
            detail={"bulletin_id": bulletin.id, "rumor_score": incident.rumor_score},
        )
        _change(store, alert.id, lambda a, e=event: a.history.append(e))
        made.append(bulletin.id)
    return made


def _refresh_draft(store: Store, config: Any, bulletin_id: str, at: datetime) -> None:
    """Keep the automatic draft in step with its incident until a person edits it."""
    import logging

    from tingfeng.services import bulletins

    opts = config.alerting.drafts
    try:
        bulletins.refresh(store, config, bulletin_id, by=opts.by, now=at, only_untouched=True)
    except (bulletins.BulletinServiceError, ConflictError) as exc:
        # deleted, submitted meanwhile, a broken template, an edit in the same second
        logging.getLogger("tingfeng.alerts").info("draft %s not refreshed: %s", bulletin_id, exc)
