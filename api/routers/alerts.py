"""Alerts and silences: the feed, one alert, acknowledge, assign, respond, close; silences
(list, add, remove); the tier policy in force.

Every role reads; monitors, officers and admins change (analysts get 403 naming ``role``).
Every change carries the ``version`` read (409 with the current record when stale) and is
audited with the alert before and after.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from alerting.policy import TierPolicy
from api.deps import (
    ClientIp,
    ClockRateDep,
    ConfigDep,
    CurrentUser,
    NowDep,
    Principal,
    StoreDep,
    require,
)
from api.services import alerts as web
from api.services import alerts_policy
from api.services.alerts import (
    CHANGERS,
    AcknowledgeBody,
    AlertDetail,
    AlertFilters,
    AlertsPublic,
    AssignBody,
    AssigneesPublic,
    CloseBody,
    RespondBody,
    SilenceCreate,
    SilencePublic,
    SilencesPublic,
)
from api.services.alerts_policy import PolicyPublic, app_policy

router = APIRouter(tags=["alerts"])
Changer = Annotated[Principal, Depends(require(*CHANGERS))]
AlertId = Annotated[str, Path(min_length=1, max_length=200)]
SilenceId = Annotated[str, Path(min_length=1, max_length=200)]


Policy = Annotated[tuple[TierPolicy, str], Depends(app_policy)]


@router.get("/api/v1/alerts", response_model=AlertsPublic)
def list_(
    filters: Annotated[AlertFilters, Query()],
    user: CurrentUser,
    store: StoreDep,
    policy: Policy,
    now: NowDep,
    rate: ClockRateDep,
) -> AlertsPublic:
    """The alert feed: most urgent tier first, then oldest; ``state`` (open by default,
    closed, all, or one status), ``tier`` (repeatable), ``incident``, ``kind``, paginated.
    ``server_time`` is the clock the deadlines count against, ``clock_rate`` how fast it
    runs."""
    return web.list_feed(store, filters, policy[0], now, rate)


@router.get("/api/v1/alerts/assignees", response_model=AssigneesPublic)
def assignees(user: CurrentUser, store: StoreDep) -> AssigneesPublic:
    """Users an alert can be handed to: officers first, then monitors and admins."""
    return web.assignees(store)


@router.get("/api/v1/alerts/policy", response_model=PolicyPublic)
def policy_in_force(user: CurrentUser, policy: Policy, config: ConfigDep) -> PolicyPublic:
    """The tier policy in force: tiers with their deadlines and channels, rules, departments."""
    return alerts_policy.policy_public(policy[0], policy[1], config)


@router.get("/api/v1/alerts/{alert_id}", response_model=AlertDetail)
def detail(
    alert_id: AlertId, user: CurrentUser, store: StoreDep, policy: Policy, now: NowDep
) -> AlertDetail:
    return web.alert_detail(store, web.get_alert(store, alert_id), policy[0], now)


@router.post("/api/v1/alerts/{alert_id}/acknowledge", response_model=AlertDetail)
def acknowledge(
    alert_id: AlertId,
    body: AcknowledgeBody,
    user: Changer,
    store: StoreDep,
    policy: Policy,
    now: NowDep,
    ip: ClientIp,
) -> AlertDetail:
    """确认: who saw it (first acknowledgement kept; later ones are history entries)."""
    saved = web.acknowledge(store, alert_id, body, web.Actor(user.name, ip, now, policy[0]))
    return web.alert_detail(store, saved, policy[0], now)


@router.post("/api/v1/alerts/{alert_id}/assign", response_model=AlertDetail)
def assign(
    alert_id: AlertId,
    body: AssignBody,
    user: Changer,
    store: StoreDep,
    policy: Policy,
    now: NowDep,
    ip: ClientIp,
) -> AlertDetail:
    """交办: to an existing, enabled officer, monitor or admin (422 on ``body.assignee``
    otherwise); ``department`` hands it over to another department."""
    saved = web.assign(store, alert_id, body, web.Actor(user.name, ip, now, policy[0]))
    return web.alert_detail(store, saved, policy[0], now)


@router.post("/api/v1/alerts/{alert_id}/respond", response_model=AlertDetail)
def respond(
    alert_id: AlertId,
    body: RespondBody,
    user: Changer,
    store: StoreDep,
    policy: Policy,
    now: NowDep,
    ip: ClientIp,
) -> AlertDetail:
    """已回应: the official post's link; it meets ``deadline`` (default: the first response
    clock, else the earliest still running)."""
    saved = web.respond(store, alert_id, body, web.Actor(user.name, ip, now, policy[0]))
    return web.alert_detail(store, saved, policy[0], now)


@router.post("/api/v1/alerts/{alert_id}/close", response_model=AlertDetail)
def close(
    alert_id: AlertId,
    body: CloseBody,
    user: Changer,
    store: StoreDep,
    policy: Policy,
    now: NowDep,
    ip: ClientIp,
) -> AlertDetail:
    """关闭, with a reason. A closed alert takes no further step (409 on ``status``)."""
    saved = web.close(store, alert_id, body, web.Actor(user.name, ip, now, policy[0]))
    return web.alert_detail(store, saved, policy[0], now)


@router.get("/api/v1/silences", response_model=SilencesPublic, tags=["alerts"])
def list_silences(
    user: CurrentUser,
    store: StoreDep,
    now: NowDep,
    include_ended: Annotated[bool, Query(description="also ended and removed ones")] = False,
) -> SilencesPublic:
    """Silences in force (soonest end first); ``include_ended`` adds the past ones."""
    return web.silences(store, now, include_ended)


@router.post("/api/v1/silences", response_model=SilencePublic, status_code=201)
def add_silence(
    body: SilenceCreate, user: Changer, store: StoreDep, now: NowDep, ip: ClientIp
) -> SilencePublic:
    """Mute an incident, a keyword or a source for ``minutes`` or ``until`` a time, with a
    reason; its end is reminded to whoever set it."""
    saved = web.add_silence(store, body, actor=user.name, ip=ip, now=now)
    return web.silence_public(saved, now)


@router.delete("/api/v1/silences/{silence_id}", response_model=SilencePublic)
def remove_silence(
    silence_id: SilenceId, user: Changer, store: StoreDep, now: NowDep, ip: ClientIp
) -> SilencePublic:
    saved = web.remove_silence(store, silence_id, actor=user.name, ip=ip, now=now)
    return web.silence_public(saved, now)
