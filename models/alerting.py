"""Silences and outbox messages: the records alerting keeps besides alerts themselves."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from models.post import AwareTime
from models.records import AlertEvent, Record


class SilenceTarget(StrEnum):
    INCIDENT = "incident"
    KEYWORD = "keyword"
    SOURCE = "source"


class Silence(Record):
    """Mute an incident, a keyword or a source until ``ends_at``, with a reason (audited)."""

    kind: ClassVar[str] = "silence"

    target: SilenceTarget
    value: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    created_by: str = Field(min_length=1)
    starts_at: AwareTime
    ends_at: AwareTime
    removed_at: AwareTime | None = None
    removed_by: str | None = None
    #: The "this silence ends soon" reminder to whoever set it was sent.
    reminded_at: AwareTime | None = None
    history: list[AlertEvent] = Field(default_factory=list)

    def active(self, at: Any) -> bool:
        return self.removed_at is None and self.starts_at <= at < self.ends_at


class OutboxStatus(StrEnum):
    PENDING = "pending"
    #: Claimed by a sender whose lease has not run out.
    SENDING = "sending"
    DELIVERED = "delivered"
    #: Kept failing past the configured age; the administrator was told.
    DEAD = "dead"


class Attempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareTime
    ok: bool
    part: int = 1
    detail: str = ""


class OutboxMessage(Record):
    """A notification stored with the alert change that caused it, before any send.

    ``id`` is the idempotency key: a hash of channel, alert and revision, so the same
    change can never be queued twice for one channel.
    """

    kind: ClassVar[str] = "outbox"

    channel: str
    alert_id: str
    revision: int = Field(ge=0)
    #: Why it was sent (created, escalated, reminder, overdue, recovered, ...).
    event: str
    #: Order among the messages of one transaction (several channels, several events).
    seq: int = 0
    enqueued_at: AwareTime
    #: What to say, as :class:`alerting.render.AlertText` data (rendered by the channel).
    content: dict[str, Any] = Field(default_factory=dict)
    status: OutboxStatus = OutboxStatus.PENDING
    lease_owner: str | None = None
    lease_until: AwareTime | None = None
    next_attempt_at: AwareTime | None = None
    attempts: int = 0
    #: Parts already accepted by the platform (a split message resumes where it stopped).
    parts_sent: int = 0
    delivered_at: AwareTime | None = None
    last_error: str | None = None
    log: list[Attempt] = Field(default_factory=list)
