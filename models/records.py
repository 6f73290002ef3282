"""Incidents, alerts and bulletins: records people edit, guarded by a version number.

Every record carries ``version``: the store only saves a record whose version matches the
stored one and then increments it, so two people editing one record cannot silently
overwrite each other (optimistic concurrency).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.common import now_utc
from models.post import AwareTime


class Tier(StrEnum):
    """Response tier (响应级别); I is the most urgent."""

    I = "I"  # noqa: E741 - the tier's official name
    II = "II"
    III = "III"
    IV = "IV"

    @property
    def label(self) -> str:
        """Ⅰ级…Ⅳ级: the tier as users read it (never "I 级" or "III级")."""
        return {"I": "Ⅰ级", "II": "Ⅱ级", "III": "Ⅲ级", "IV": "Ⅳ级"}[self.value]


class Record(BaseModel):
    """Base of every versioned record kept by the store."""

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str] = "record"

    id: str = Field(min_length=1)
    version: int = Field(default=0, ge=0)
    created_at: AwareTime = Field(default_factory=now_utc)
    updated_at: AwareTime = Field(default_factory=now_utc)


class Incident(Record):
    """Posts about the same real-world happening, grouped automatically."""

    kind: ClassVar[str] = "incident"

    title: str = ""
    keywords: list[str] = Field(default_factory=list)
    district: str | None = None
    category: str | None = None
    first_seen: AwareTime | None = None
    last_seen: AwareTime | None = None
    root_ids: list[str] = Field(default_factory=list)
    post_count: int = Field(default=0, ge=0)
    heat: float = 0.0
    velocity: dict[str, float] = Field(default_factory=dict)
    burst: bool = False
    virality: float | None = None
    #: Hot topic: bursting against its locality's baseline or predicted to end large.
    hot: bool = False
    hot_since: AwareTime | None = None
    rumor_score: float | None = Field(default=None, ge=0.0, le=1.0)
    status: str = "open"
    extra: dict[str, Any] = Field(default_factory=dict)


#: Heat bands (热度等级) by lower bound on the 0–100 heat scale; the first that fits wins.
HEAT_BANDS: tuple[tuple[float, str], ...] = (
    (80.0, "极高"),
    (60.0, "高"),
    (40.0, "中"),
    (0.0, "低"),
)
#: Rumor bands (谣言风险) by lower bound on the incident's rumor score.
RUMOR_BANDS: tuple[tuple[float, str], ...] = ((0.8, "高"), (0.5, "中"), (0.0, "低"))


def band_of(value: float | None, bands: tuple[tuple[float, str], ...]) -> str | None:
    """The band a figure falls in (``None`` for an unknown figure)."""
    if value is None:
        return None
    for low, name in bands:
        if value >= low:
            return name
    return bands[-1][1]


ChangeKind = Literal["opened", "hot", "heat_band", "rumor_band", "membership"]


class IncidentChange(BaseModel):
    """One change of an incident, as the detector saw it at ``at`` (the pass's clock).

    ``old``/``new`` are the hot state (bool), a band name, or for ``membership`` the post
    count before and after; ``reason`` says why in words (Simplified Chinese), ``figures``
    holds the numbers behind it (heat, velocity, burst counts, virality, rumor score...).
    """

    model_config = ConfigDict(extra="forbid")

    at: AwareTime
    change: ChangeKind
    old: Any = None
    new: Any = None
    reason: str = ""
    figures: dict[str, Any] = Field(default_factory=dict)

    def shift_zh(self) -> str:
        """``old → new`` as users read it: 「否 → 是」 for the hot state, 「新事件」 for an
        opening (no 「None → …」), post counts and band names as they are."""

        def word(value: Any) -> str:
            if isinstance(value, bool):
                return "是" if value else "否"
            return "—" if value is None else str(value)

        if self.change == "opened" or self.old is None:
            return word(self.new)
        return f"{word(self.old)} → {word(self.new)}"


class IncidentHistory(Record):
    """Every recorded change of one incident, oldest first (``id`` = the incident's id).

    Written by the detector only; "when was it first flagged, and why" is the first
    ``change == "hot"`` entry with ``new`` true.
    """

    kind: ClassVar[str] = "incident_history"

    incident_id: str = Field(min_length=1)
    changes: list[IncidentChange] = Field(default_factory=list)

    def first(self, change: str, new: Any = True) -> IncidentChange | None:
        return next((c for c in self.changes if c.change == change and c.new == new), None)


class AlertStatus(StrEnum):
    """Where an alert is in its life: new → notified → acknowledged → assigned → responded
    → closed. Only ``closed`` ends it; any open state may be closed."""

    NEW = "new"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESPONDED = "responded"
    CLOSED = "closed"


class AlertKind(StrEnum):
    INCIDENT = "incident"
    #: An unhealthy source (login wall, captcha, failing endpoint, silence).
    SOURCE = "source"
    #: The system itself (messages that could not be delivered): for the administrator.
    SYSTEM = "system"


class Deadline(BaseModel):
    """One clock of an alert: when it runs out, which reminders and escalations it sent."""

    model_config = ConfigDict(extra="forbid")

    name: str
    label: str
    hours: float = Field(gt=0)
    due: AwareTime
    met_at: AwareTime | None = None
    met_by: str | None = None
    #: Shares of the deadline whose reminder was already sent (0.5, 0.9).
    reminded: list[float] = Field(default_factory=list)
    overdue_at: AwareTime | None = None
    #: Escalation steps already taken, and when the next one falls due.
    escalations: int = 0
    next_escalation_at: AwareTime | None = None


class AlertEvent(BaseModel):
    """One entry of an alert's history (audit trail)."""

    model_config = ConfigDict(extra="forbid")

    at: AwareTime
    action: str
    actor: str = "system"
    text: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class Alert(Record):
    """A tiered notice about one incident or one unhealthy source; one per incident,
    updated as it develops. ``revision`` counts the changes that were notified."""

    kind: ClassVar[str] = "alert"

    alert_kind: AlertKind = AlertKind.INCIDENT
    incident_id: str | None = None
    source_name: str | None = None
    title: str = ""
    tier: Tier
    rule: str = Field(min_length=1)
    reason: str = ""
    #: The figures the placing rule saw (heat, posts per hour, rumor score...).
    figures: dict[str, Any] = Field(default_factory=dict)
    district: str | None = None
    category: str | None = None
    department: str | None = None
    #: 属地 (by district) and 主管 (by category) departments, as the policy gave them.
    departments: dict[str, str] = Field(default_factory=dict)
    status: AlertStatus = AlertStatus.NEW
    opened_at: AwareTime = Field(default_factory=now_utc)
    acknowledged_by: str | None = None
    acknowledged_at: AwareTime | None = None
    assignee: str | None = None
    assigned_department: str | None = None
    response_url: str | None = None
    responded_at: AwareTime | None = None
    closed_at: AwareTime | None = None
    close_reason: str | None = None
    #: The incident has cooled (已平息); the recovery notice was sent.
    recovered_at: AwareTime | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    revision: int = Field(default=0, ge=0)
    history: list[AlertEvent] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.CLOSED

    def deadline(self, name: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.name == name), None)


class BulletinKind(StrEnum):
    """What a bulletin is; the value is how an officer names it."""

    SITUATION = "情况通报"
    REBUTTAL = "辟谣声明"
    RESPONSE = "回应"
    PROGRESS = "进展通报"


class BulletinStatus(StrEnum):
    """draft → submitted → approved → published (an edit sends it back to draft)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"


#: The visible gap a draft leaves for a fact the office must confirm (快报事实、慎报原因).
PLACEHOLDER_MARK = "待核实"
_PLACEHOLDER = re.compile(r"\[待核实[^\]]*\]")


def find_placeholders(*texts: str) -> list[str]:
    """Every ``[待核实…]`` gap left in the given texts, in order."""
    return [m.group(0) for text in texts for m in _PLACEHOLDER.finditer(text or "")]


class Bulletin(Record):
    """A public text the office issues; drafted by the system, approved by a second person.

    ``placeholders`` is recomputed from ``title`` and ``body`` on every validation, so it
    always says which gaps remain; a bulletin with gaps cannot be approved.
    """

    kind: ClassVar[str] = "bulletin"

    incident_id: str | None = None
    bulletin_kind: BulletinKind = BulletinKind.SITUATION
    #: The registered template it was drafted from (``situation``, an office's own...).
    template: str = "situation"
    title: str = ""
    body: str = ""
    #: Issuing office and date, as printed under the body.
    issuer: str = ""
    issued_on: date | None = None
    status: BulletinStatus = BulletinStatus.DRAFT
    drafted_by: str | None = None
    submitted_by: str | None = None
    approved_by: str | None = None
    approved_at: AwareTime | None = None
    published_at: AwareTime | None = None
    #: The official post that carried it, once published.
    published_url: str | None = None
    placeholders: list[str] = Field(default_factory=list)
    #: The figures the draft was filled from (claims, counts, times), kept for audit.
    facts: dict[str, Any] = Field(default_factory=dict)
    history: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Bulletin:
        self.placeholders = find_placeholders(self.title, self.body)
        approved = self.status in (BulletinStatus.APPROVED, BulletinStatus.PUBLISHED)
        if approved:
            if self.placeholders:
                raise ValueError(
                    f"status: cannot be {self.status.value} while placeholders remain "
                    f"({', '.join(self.placeholders)})"
                )
            if not self.approved_by:
                raise ValueError(f"approved_by: required for status {self.status.value}")
        if self.approved_by and self.approved_by == self.drafted_by:
            raise ValueError("approved_by: must be a different person from drafted_by")
        return self


class OfficialResponse(Record):
    """An official post (the office's account matrix) answering an incident.

    ``deadlines`` are the due times the response is measured against (from the incident's
    alert: first response, follow-up...); ``on_time`` says, per deadline, whether this
    post came in time.
    """

    kind: ClassVar[str] = "response"

    incident_id: str = Field(min_length=1)
    post_id: str = Field(min_length=1)
    url: str | None = None
    author: str | None = None
    source: str = ""
    posted_at: AwareTime
    #: When the incident was first seen: the start of every clock.
    incident_first_seen: AwareTime | None = None
    minutes_after_first_seen: float | None = None
    #: How it was linked: ``incident`` (assigned by detection), ``claim`` (claim matching),
    #: ``manual``.
    linked_by: str = "incident"
    similarity: float | None = None
    deadlines: dict[str, AwareTime] = Field(default_factory=dict)
    on_time: dict[str, bool] = Field(default_factory=dict)
    bulletin_id: str | None = None
