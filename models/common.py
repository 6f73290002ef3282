"""Time helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: Local time of every source Tingfeng is built for; naive times from a source mean this zone.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(UTC)


def ensure_aware(value: datetime) -> datetime:
    """Return ``value`` with a time zone, reading a naive time as Asia/Shanghai."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=SHANGHAI)
    return value
