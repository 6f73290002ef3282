"""Shared pieces of an alerting pass: events, the pass report, record listing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models import AlertStatus
from store.base import Store

PRIORITY = [
    "escalated",
    "created",
    "new_appeal",
    "overdue",
    "escalation",
    "dead_letter",
    "source_unhealthy",
    "reminder",
    "recovered",
    "source_recovered",
    "silence_ending",
]
UNACKNOWLEDGED = {AlertStatus.NEW, AlertStatus.NOTIFIED}


@dataclass
class Event:
    name: str
    routes: list[str]
    note: str = ""


@dataclass
class PassReport:
    at: datetime
    incidents: int = 0
    created: int = 0
    escalated: int = 0
    recovered: int = 0
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    source_alerts: int = 0
    silenced: int = 0
    messages: int = 0
    conflicts: int = 0
    seconds: float = 0.0
    changed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["at"] = self.at.isoformat()
        return out


def list_all(store: Store, cls: type, page: int = 1000, **equals: Any) -> list[Any]:
    out: list[Any] = []
    offset = 0
    while True:
        batch = store.list_records(cls, limit=page, offset=offset, **equals)
        out.extend(batch)
        if len(batch) < page:
            return out
        offset += page


def chain_id(base: str, n: int) -> str:
    """Id of the ``n``-th alert (0-based) of a subject: ``base``, ``base-2``, ``base-3``…"""
    return base if n == 0 else f"{base}-{n + 1}"


OPEN_STATUSES = (
    AlertStatus.NEW,
    AlertStatus.NOTIFIED,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.ASSIGNED,
    AlertStatus.RESPONDED,
)
