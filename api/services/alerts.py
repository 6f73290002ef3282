"""Alerts for the API and the 监测台: the feed, one alert, lifecycle steps, silences, the
tier policy in force.

Thin over :mod:`tingfeng.services.alerts` (the CLI's functions): this module adds what the
web needs and the CLI does not — request/response models, masking of personal numbers in
every text served, the client's ``version`` check (409), validation of the assignee, and an
audit entry for every change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerting.lifecycle import STATUS_LABELS, LifecycleError
from alerting.policy import COLOUR_NAMES, RANK, TierPolicy
from api.errors import ApiError
from api.security import mask_personal
from api.services.alerts_policy import tier_name
from api.services.auth import audit
from models import Alert, AlertKind, AlertStatus, Deadline, Role, Silence, SilenceTarget, Tier, User
from models.auth import ROLE_LABELS
from store import ConflictError, Store
from tingfeng.services import alerts as svc

#: Roles that may change alerts and silences (analysts read only).
CHANGERS = (Role.MONITOR, Role.OFFICER, Role.ADMIN)
#: Roles an alert may be handed to.
ASSIGNABLE = (Role.OFFICER, Role.MONITOR, Role.ADMIN)
MAX_USERS = 10_000
StateFilter = Literal[
    "open", "closed", "all", "new", "notified", "acknowledged", "assigned", "responded"
]


# -- response models --------------------------------------------------------------------
class DeadlinePublic(BaseModel):
    name: str
    label: str
    hours: float
    due: datetime
    met_at: datetime | None
    overdue: bool = Field(description="still running and past due at server_time")


class AlertEventPublic(BaseModel):
    at: datetime
    action: str
    actor: str
    text: str


class AlertPublic(BaseModel):
    id: str
    version: int = Field(description="send it back with every change; a stale one gives 409")
    alert_kind: AlertKind
    incident_id: str | None
    source_name: str | None
    title: str
    tier: Tier
    tier_name: str = Field(description="Ⅰ级…Ⅳ级")
    tier_label: str = Field(description="the policy's name of the tier (特别重大…)")
    colour: str = Field(description="red, orange, yellow or blue (the policy's colour)")
    colour_name: str
    rule: str
    reason: str
    figures: dict[str, Any]
    district: str | None
    category: str | None
    department: str | None
    status: AlertStatus
    status_label: str
    opened_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    assignee: str | None
    assignee_name: str | None
    assigned_department: str | None
    response_url: str | None
    responded_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    recovered_at: datetime | None
    deadlines: list[DeadlinePublic]
    next_deadline: DeadlinePublic | None = Field(description="the earliest clock still running")
    draft_id: str | None = Field(
        default=None, description="the bulletin drafted for this alert (draft on alert), if any"
    )
    new_appeal: str | None = Field(
        default=None,
        description="新诉求 waiting: the latest new_appeal entry's text while its clock runs",
    )
    updated_at: datetime


class AlertDetail(AlertPublic):
    departments: dict[str, str]
    history: list[AlertEventPublic]
    server_time: datetime


class AlertsPublic(BaseModel):
    data: list[AlertPublic]
    count: int
    page: int
    per_page: int
    #: Open alerts by tier, whatever the filters (the feed's header).
    open_by_tier: dict[str, int]
    #: The server's clock: countdowns are ``due - server_time`` at the moment of the answer.
    server_time: datetime
    clock_rate: float = Field(
        1.0,
        description="seconds of server_time per real second (1; a demo's story clock runs"
        " faster): a countdown runs at this rate until the next answer",
    )


class AssigneePublic(BaseModel):
    name: str
    display_name: str
    role: Role
    role_label: str


class AssigneesPublic(BaseModel):
    data: list[AssigneePublic]
    count: int


class SilencePublic(BaseModel):
    id: str
    version: int
    target: SilenceTarget
    value: str
    reason: str
    created_by: str
    starts_at: datetime
    ends_at: datetime
    removed_at: datetime | None
    removed_by: str | None
    active: bool


class SilencesPublic(BaseModel):
    data: list[SilencePublic]
    count: int
    server_time: datetime


# -- request models ---------------------------------------------------------------------
class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="the version you read; a stale one gives 409")


class AcknowledgeBody(_Change):
    comment: str = Field(default="", max_length=500)


class AssignBody(_Change):
    assignee: str = Field(min_length=1, max_length=64, description="an existing user's name")
    department: str | None = Field(default=None, min_length=1, max_length=100)
    comment: str = Field(default="", max_length=500)


class RespondBody(_Change):
    url: str = Field(
        min_length=8, max_length=2000, pattern=r"^https?://\S+$", description="the official post"
    )
    deadline: str | None = Field(
        default=None, max_length=64, description="which clock it meets (default: the first)"
    )


class CloseBody(_Change):
    reason: str = Field(min_length=1, max_length=500, pattern=r"\S")


class SilenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: SilenceTarget
    value: str = Field(min_length=1, max_length=200, pattern=r"\S")
    reason: str = Field(min_length=1, max_length=500, pattern=r"\S")
    minutes: float | None = Field(default=None, gt=0, le=60 * 24 * 366)
    until: datetime | None = None

    @model_validator(mode="after")
    def _one_end(self) -> SilenceCreate:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("give exactly one of minutes or until (静默时长或结束时间二选一)")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("until needs a time zone (例如 2026-12-01T20:00:00+08:00)")
        return self


class AlertFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: StateFilter = Field(default="open", description="open, closed, all, or one status")
    tier: list[Tier] = Field(default_factory=list, max_length=4)
    incident: str | None = Field(default=None, min_length=1, max_length=200)
    kind: AlertKind | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=50, ge=1, le=200)


# -- conversions --------------------------------------------------------------------------
def _deadline(d: Deadline, now: datetime) -> DeadlinePublic:
    return DeadlinePublic(
        name=d.name,
        label=d.label,
        hours=d.hours,
        due=d.due,
        met_at=d.met_at,
        overdue=d.met_at is None and d.due < now,
    )


def _fields(alert: Alert, policy: TierPolicy, now: datetime, names: dict[str, str]) -> dict:
    spec = policy.tiers.get(alert.tier)
    colour = spec.colour if spec else "blue"
    deadlines = [_deadline(d, now) for d in alert.deadlines]
    running = [d for d in deadlines if d.met_at is None]
    return {
        "id": alert.id,
        "version": alert.version,
        "alert_kind": alert.alert_kind,
        "incident_id": alert.incident_id,
        "source_name": alert.source_name,
        "title": mask_personal(alert.title) or "",
        "tier": alert.tier,
        "tier_name": tier_name(alert.tier),
        "tier_label": spec.label if spec else "",
        "colour": colour,
        "colour_name": COLOUR_NAMES[colour],
        "rule": alert.rule,
        "reason": mask_personal(alert.reason) or "",
        "figures": alert.figures,
        "district": alert.district,
        "category": alert.category,
        "department": alert.assigned_department or alert.department,
        "status": alert.status,
        "status_label": STATUS_LABELS[alert.status] + ("·已平息" if alert.recovered_at else ""),
        "opened_at": alert.opened_at,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at,
        "assignee": alert.assignee,
        "assignee_name": names.get(alert.assignee or "") or alert.assignee,
        "assigned_department": alert.assigned_department,
        "response_url": alert.response_url,
        "responded_at": alert.responded_at,
        "closed_at": alert.closed_at,
        "close_reason": mask_personal(alert.close_reason),
        "recovered_at": alert.recovered_at,
        "deadlines": deadlines,
        "next_deadline": min(running, key=lambda d: d.due) if running else None,
        "draft_id": next(
            (
                str(e.detail["bulletin_id"])
                for e in reversed(alert.history)
                if e.action == "drafted" and e.detail.get("bulletin_id")
            ),
            None,
        ),
        "new_appeal": _new_appeal(alert),
        "updated_at": alert.updated_at,
    }


def _new_appeal(alert: Alert) -> str | None:
    """The latest 新诉求 (appeals that came after the alert was answered) while the clock it
    started still runs: the card says why an answered alert counts down again."""
    running = {d.name for d in alert.deadlines if d.met_at is None}
    for e in reversed(alert.history):
        if e.action == "new_appeal":
            name = e.detail.get("deadline")
            if name is not None and name not in running:
                return None  # answered since
            return mask_personal(e.text) or ""
    return None


def _display_names(store: Store) -> dict[str, str]:
    """Every user's display name, in one read (never one per row)."""
    return {u.id: u.display_name for u in store.list_records(User, limit=MAX_USERS)}


def alert_public(alert: Alert, policy: TierPolicy, now: datetime, names: dict[str, str]):
    return AlertPublic(**_fields(alert, policy, now, names))


def alert_detail(store: Store, alert: Alert, policy: TierPolicy, now: datetime) -> AlertDetail:
    names = _display_names(store)
    history = [
        AlertEventPublic(at=e.at, action=e.action, actor=e.actor, text=mask_personal(e.text) or "")
        for e in alert.history
    ]
    return AlertDetail(
        **_fields(alert, policy, now, names),
        departments=alert.departments,
        history=history,
        server_time=now,
    )


# -- reading --------------------------------------------------------------------------------
def _status_of(state: str) -> AlertStatus | None:
    return AlertStatus(state) if state not in ("open", "closed", "all") else None


def list_feed(
    store: Store, filters: AlertFilters, policy: TierPolicy, now: datetime, rate: float = 1.0
) -> AlertsPublic:
    """The feed: most urgent tier first, then oldest. Store reads: one per open state
    (or one for a given state), one for the display names, whatever the number of rows."""
    status = AlertStatus.CLOSED if filters.state == "closed" else _status_of(filters.state)
    rows = svc.list_alerts(
        store,
        include_closed=filters.state == "all",
        status=status,
        incident_id=filters.incident,
    )
    open_rows = rows if filters.state == "open" and not filters.incident else None
    if filters.tier:
        rows = [a for a in rows if a.tier in filters.tier]
    if filters.kind is not None:
        rows = [a for a in rows if a.alert_kind == filters.kind]
    if open_rows is None:
        open_rows = svc.list_alerts(store)
    by_tier = {t.value: 0 for t in sorted(Tier, key=lambda t: -RANK[t])}
    for a in open_rows:
        by_tier[a.tier.value] += 1
    start = (filters.page - 1) * filters.per_page
    page = rows[start : start + filters.per_page]
    names = _display_names(store) if any(a.assignee for a in page) else {}
    return AlertsPublic(
        data=[alert_public(a, policy, now, names) for a in page],
        count=len(rows),
        page=filters.page,
        per_page=filters.per_page,
        open_by_tier=by_tier,
        server_time=now,
        clock_rate=rate,
    )


def get_alert(store: Store, alert_id: str) -> Alert:
    alert = store.get_record(Alert, alert_id)
    if alert is None:
        raise ApiError(404, "alert_id", f"没有预警 {alert_id} (no such alert)")
    return alert


def assignees(store: Store) -> AssigneesPublic:
    """Who an alert can be handed to: enabled officers first, then monitors and admins."""
    order = {r: i for i, r in enumerate(ASSIGNABLE)}
    users = [
        u for u in store.list_records(User, limit=MAX_USERS) if u.role in order and not u.disabled
    ]
    users.sort(key=lambda u: (order[u.role], u.id))
    data = [
        AssigneePublic(
            name=u.id,
            display_name=u.display_name or u.id,
            role=u.role,
            role_label=ROLE_LABELS[u.role],
        )
        for u in users
    ]
    return AssigneesPublic(data=data, count=len(data))


# -- changes --------------------------------------------------------------------------------
def _audited(alert: Alert) -> dict[str, Any]:
    # The alert's own history is its trail already; the audit entry keeps the fields.
    return alert.model_dump(mode="json", exclude={"history"})


@dataclass(frozen=True)
class Actor:
    """Who changes an alert, from where, at what time, under which policy (for answers)."""

    name: str
    ip: str | None
    now: datetime
    policy: TierPolicy


def _stale(store: Store, alert: Alert, actor: Actor, field: str, problem: str) -> ApiError:
    """A 409 carrying the alert as it is now, masked like every alert served."""
    current = alert_detail(store, alert, actor.policy, actor.now).model_dump(mode="json")
    return ApiError(409, field, problem, extra={"current": current})


def _change(
    store: Store,
    alert_id: str,
    version: int,
    action: str,
    step: Callable[[], Alert],
    actor: Actor,
    field: str = "body",
) -> Alert:
    """Check the client's version, run the service step, audit before/after."""
    current = get_alert(store, alert_id)
    if current.version != version:
        raise _stale(
            store,
            current,
            actor,
            "version",
            f"预警已被更新：你看到的是第 {version} 版，当前为第 {current.version} 版；请刷新后重试 "
            f"(stale version {version}, stored {current.version})",
        )
    if current.status == AlertStatus.CLOSED:
        problem = f"预警 {alert_id} 已关闭，不能再{_VERBS[action]} (alert is closed)"
        raise _stale(store, current, actor, "status", problem)
    try:
        saved = step()
    except LifecycleError as exc:
        raise ApiError(422, field, str(exc)) from None
    except svc.AlertServiceError as exc:
        raise ApiError(409, "version", str(exc)) from None
    audit(
        store,
        actor.name,
        f"alert.{action}",
        target=saved,
        before=_audited(current),
        after=_audited(saved),
        ip=actor.ip,
        at=actor.now,
    )
    return saved


_VERBS = {"acknowledge": "确认", "assign": "交办", "respond": "登记回应", "close": "关闭"}


def acknowledge(store: Store, alert_id: str, body: AcknowledgeBody, actor: Actor) -> Alert:
    def step() -> Alert:
        return svc.acknowledge(store, alert_id, actor.name, comment=body.comment, now=actor.now)

    return _change(store, alert_id, body.version, "acknowledge", step, actor)


def assign(store: Store, alert_id: str, body: AssignBody, actor: Actor) -> Alert:
    user = store.get_record(User, body.assignee)
    if user is None or user.disabled:
        raise ApiError(422, "body.assignee", f"没有可用的用户 {body.assignee} (no such user)")
    if user.role not in ASSIGNABLE:
        raise ApiError(
            422,
            "body.assignee",
            f"{body.assignee} 是{ROLE_LABELS[user.role]}，不能承办预警 (role cannot handle alerts)",
        )

    def step() -> Alert:
        return svc.assign(
            store,
            alert_id,
            user.id,
            actor.name,
            department=body.department,
            comment=body.comment,
            now=actor.now,
        )

    return _change(store, alert_id, body.version, "assign", step, actor)


def respond(store: Store, alert_id: str, body: RespondBody, actor: Actor) -> Alert:
    def step() -> Alert:
        return svc.respond(
            store, alert_id, body.url, actor.name, deadline=body.deadline, now=actor.now
        )

    return _change(store, alert_id, body.version, "respond", step, actor, "body.deadline")


def close(store: Store, alert_id: str, body: CloseBody, actor: Actor) -> Alert:
    def step() -> Alert:
        return svc.close(store, alert_id, body.reason, actor.name, now=actor.now)

    return _change(store, alert_id, body.version, "close", step, actor, "body.reason")


# -- silences -------------------------------------------------------------------------------
def silence_public(s: Silence, now: datetime) -> SilencePublic:
    return SilencePublic(
        id=s.id,
        version=s.version,
        target=s.target,
        value=mask_personal(s.value) or "",
        reason=mask_personal(s.reason) or "",
        created_by=s.created_by,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        removed_at=s.removed_at,
        removed_by=s.removed_by,
        active=s.active(now),
    )


def silences(store: Store, now: datetime, include_ended: bool) -> SilencesPublic:
    rows = svc.list_silences(store, now=now, include_ended=include_ended)
    return SilencesPublic(
        data=[silence_public(s, now) for s in rows], count=len(rows), server_time=now
    )


def add_silence(
    store: Store, body: SilenceCreate, *, actor: str, ip: str | None, now: datetime
) -> Silence:
    if body.until is not None and body.until <= now:
        raise ApiError(422, "body.until", "静默结束时间早于当前时间 (until is in the past)")
    try:
        saved = svc.add_silence(
            store,
            body.target.value,
            body.value,
            body.reason,
            actor,
            minutes=body.minutes,
            until=body.until,
            now=now,
        )
    except svc.AlertServiceError as exc:
        raise ApiError(422, "body", str(exc)) from None
    except ConflictError:
        raise ApiError(409, "body", "同一时刻已有静默被创建，请重试 (retry)") from None
    audit(store, actor, "silence.create", target=saved, after=saved, ip=ip, at=now)
    return saved


def remove_silence(
    store: Store, silence_id: str, *, actor: str, ip: str | None, now: datetime
) -> Silence:
    current = store.get_record(Silence, silence_id)
    if current is None:
        raise ApiError(404, "silence_id", f"没有静默 {silence_id} (no such silence)")
    if current.removed_at is not None:
        raise ApiError(
            409,
            "silence_id",
            f"静默 {silence_id} 已被 {current.removed_by} 解除 (already removed)",
            extra={"current": silence_public(current, now).model_dump(mode="json")},
        )
    try:
        saved = svc.remove_silence(store, silence_id, actor, now=now)
    except svc.AlertServiceError as exc:
        raise ApiError(409, "silence_id", str(exc)) from None
    audit(store, actor, "silence.remove", target=saved, before=current, after=saved, ip=ip, at=now)
    return saved


def monitor_feed(store: Store, user: Any) -> dict[str, Any]:
    """What the 监测台's script needs besides the feed itself (which it reads from
    ``GET /api/v1/alerts`` at once, then on every poll): whether this user may change
    alerts, and whom they can be handed to. One store read."""
    can_change = user.role in CHANGERS
    return {
        "can_change": can_change,
        "assignees": assignees(store).model_dump(mode="json")["data"] if can_change else [],
    }
