"""Users, API tokens, sessions and the audit log: versioned records kept by the store.

Secrets never appear here in clear: a user keeps an argon2 hash of the password, a token
and a session are stored under a keyed hash of their secret part (the id), so a copy of the
store does not let anyone log in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from models.post import AwareTime
from models.records import Record


class Role(StrEnum):
    """What a person may do; the dashboard names them in Chinese (:data:`ROLE_LABELS`)."""

    MONITOR = "monitor"
    OFFICER = "officer"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.MONITOR: "监测员",
    Role.OFFICER: "宣传/发言人",
    Role.ANALYST: "分析员",
    Role.ADMIN: "管理员",
}

#: User names: letters, digits and ``._-``, so they are safe in URLs and audit lines.
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$"


class User(Record):
    """A person who logs in; ``id`` is the user name."""

    kind: ClassVar[str] = "user"

    id: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = ""
    role: Role
    password_hash: str = Field(min_length=1, repr=False)
    disabled: bool = False


class ApiToken(Record):
    """A token for integrations, scoped to one role; ``id`` is the public part of the token."""

    kind: ClassVar[str] = "api_token"

    name: str = Field(min_length=1, max_length=80)
    role: Role
    #: Keyed hash (HMAC-SHA256 with the API secret) of the token's secret part.
    secret_hash: str = Field(min_length=1, repr=False)
    created_by: str
    expires_at: AwareTime | None = None
    revoked: bool = False


class Session(Record):
    """A dashboard login; ``id`` is the keyed hash of the cookie's value."""

    kind: ClassVar[str] = "session"

    username: str
    csrf_token: str = Field(min_length=16, repr=False)
    expires_at: AwareTime
    ip: str | None = None
    revoked: bool = False


class AuditEntry(Record):
    """One state change: who, when, what, and the record before and after."""

    kind: ClassVar[str] = "audit"

    actor: str
    action: str
    target_kind: str = ""
    target_id: str = ""
    at: AwareTime
    ip: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def audit_id(at: datetime, nonce: str) -> str:
    """Time-ordered id, so ids sort like the entries they name."""
    return f"{at.strftime('%Y%m%dT%H%M%S%f')}-{nonce}"
