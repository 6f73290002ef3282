"""The fields of an incident that listing filters and sorts on, derived the same way for
every backend (SQLite's ``incidents`` table, the ``listing`` object of Elasticsearch's
incident records), so both answer :class:`store.base.IncidentQuery` alike.

Times are whole microseconds since the epoch (UTC): exact for any aware datetime, so
``seen_since`` at a sub-second instant and last-seen ordering agree with Python's
comparison of the datetimes. Text is compared lower-cased (``str.lower``, Unicode-aware).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from models import Alert, AlertKind, Incident

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
#: Joins an incident's lower-cased keywords in one SQLite column; never inside a keyword
#: of a needle that can match (a needle holding it matches titles only).
KEYWORD_SEP = "\x1f"


def micros(value: datetime | None) -> int | None:
    """An aware datetime as whole microseconds since 1970-01-01 UTC (None stays None)."""
    if value is None:
        return None
    return (value - _EPOCH) // _MICRO


def fold(text: str) -> str:
    return text.lower()


def incident_fields(inc: Incident) -> dict[str, Any]:
    """The filter and sort fields of one incident."""
    return {
        "hot": bool(inc.hot),
        "district": inc.district,
        "category": inc.category,
        "rumor_score": inc.rumor_score,
        "heat": float(inc.heat),
        "post_count": int(inc.post_count),
        "first_seen_us": micros(inc.first_seen),
        "last_seen_us": micros(inc.last_seen),
        "title_lc": fold(inc.title),
        "keywords_lc": [fold(k) for k in inc.keywords],
    }


#: Tiers of the incident list's tier filter, and ``none``: never alerted.
TIER_VALUES = ("I", "II", "III", "IV")
NO_TIER = "none"


def alert_rank(alert: Alert) -> tuple[bool, int, str] | None:
    """How an incident's alerts compete to be its current one (the highest wins): open
    before closed, then the latest opened, then the greatest id. ``None``: the alert is
    not an incident alert (source and system alerts give no incident a tier)."""
    if alert.alert_kind != AlertKind.INCIDENT or not alert.incident_id:
        return None
    return (alert.is_open, micros(alert.opened_at) or 0, alert.id)


def current_alert(alerts: Iterable[Alert]) -> Alert | None:
    """The incident's current alert (the open one, else the latest), as every backend's
    stored current tier and ``tingfeng.services.alerts.alert_for_incident`` pick it."""
    ranked = [(rank, a) for a in alerts if (rank := alert_rank(a)) is not None]
    return max(ranked, key=lambda pair: pair[0])[1] if ranked else None
