"""Incidents, alerts and bulletins: records people edit, guarded by a version number.

Every record carries ``version``: the store only saves a record whose version matches the
stored one and then increments it, so two people editing one record cannot silently
overwrite each other (optimistic concurrency).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.common import now_utc
from models.post import AwareTime


class Tier(StrEnum):
    """Response tier (响应级别); I is the most urgent."""

    I = "I"  # noqa: E741 - the tier's official name
    II = "II"
    III = "III"
    IV = "IV"


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
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Alert(Record):
    """A tiered notice about one incident or one unhealthy source."""

    kind: ClassVar[str] = "alert"

    incident_id: str | None = None
    source_name: str | None = None
    tier: Tier
    rule: str = Field(min_length=1)
    reason: str = ""
    department: str | None = None
    status: AlertStatus = AlertStatus.OPEN
    assignee: str | None = None
    first_response_due: AwareTime | None = None
    follow_up_due: AwareTime | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)


class BulletinKind(StrEnum):
    SITUATION = "情况通报"
    REBUTTAL = "辟谣声明"
    RESPONSE = "回应"
    PROGRESS = "进展通报"


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"


class Bulletin(Record):
    """A public text the office issues; drafted by the system, approved by a second person."""

    kind: ClassVar[str] = "bulletin"

    incident_id: str | None = None
    bulletin_kind: BulletinKind = BulletinKind.SITUATION
    title: str = ""
    body: str = ""
    status: BulletinStatus = BulletinStatus.DRAFT
    drafted_by: str | None = None
    approved_by: str | None = None
    published_at: datetime | None = None
