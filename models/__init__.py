"""Shared domain vocabulary of Tingfeng.

Every other package imports from here; this package imports from none of them, so the
models can be used by the crawler, the NLP layer, the store, alerting and the API alike.
"""

from models.alerting import OutboxMessage, OutboxStatus, Silence, SilenceTarget
from models.auth import ApiToken, AuditEntry, Role, Session, User
from models.common import (
    FIELD_ERROR,
    SHANGHAI,
    ensure_aware,
    field_error,
    now_utc,
    window_problem,
)
from models.post import Author, MetricSnapshot, Post, PostKind, make_post_id
from models.records import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertStatus,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Deadline,
    Incident,
    OfficialResponse,
    Record,
    Tier,
    find_placeholders,
)
from models.source import Source, SourceKind

__all__ = [
    "FIELD_ERROR",
    "SHANGHAI",
    "Alert",
    "AlertEvent",
    "AlertKind",
    "AlertStatus",
    "ApiToken",
    "AuditEntry",
    "Author",
    "Bulletin",
    "BulletinKind",
    "BulletinStatus",
    "Deadline",
    "Incident",
    "MetricSnapshot",
    "OfficialResponse",
    "OutboxMessage",
    "OutboxStatus",
    "Post",
    "PostKind",
    "Record",
    "Role",
    "Session",
    "Silence",
    "SilenceTarget",
    "Source",
    "SourceKind",
    "Tier",
    "User",
    "ensure_aware",
    "field_error",
    "find_placeholders",
    "make_post_id",
    "now_utc",
    "window_problem",
]
