"""Users, API tokens, sessions and the audit log, over the store's versioned records.

Every state change goes through :func:`audit`; secrets (password hashes, token and
session hashes, CSRF tokens) are left out of what the audit log records.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from api.security import (
    hash_password,
    keyed_hash,
    new_api_token,
    new_secret,
    password_problem,
    split_api_token,
    verify_password,
)
from models import ApiToken, AuditEntry, Role, Session, User
from models.auth import audit_id
from models.common import now_utc
from store import ConflictError, Store

#: Fields never written to the audit log.
SECRET_FIELDS = frozenset({"password_hash", "secret_hash", "csrf_token"})


class AuthError(Exception):
    """A refused request: ``field`` names what was wrong (for the JSON error)."""

    def __init__(self, field: str, problem: str, status: int = 422) -> None:
        self.field, self.problem, self.status = field, problem, status
        super().__init__(f"{field}: {problem}")


def public(record: Any) -> dict[str, Any]:
    """A record (or a plain mapping) as JSON data, without its secret fields."""
    if isinstance(record, dict):
        return {k: v for k, v in record.items() if k not in SECRET_FIELDS}
    return record.model_dump(mode="json", exclude=SECRET_FIELDS)


def audit(
    store: Store,
    actor: str,
    action: str,
    *,
    target: Any = None,
    before: Any = None,
    after: Any = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    at = at or now_utc()
    entry = AuditEntry(
        id=audit_id(at, secrets.token_hex(4)),
        actor=actor,
        action=action,
        target_kind=type(target).kind if target is not None else "",
        target_id=getattr(target, "id", "") if target is not None else "",
        at=at,
        ip=ip,
        before=public(before) if before is not None else None,
        after=public(after) if after is not None else None,
    )
    return store.save_record(entry)


# -- users ---------------------------------------------------------------------------------
def create_user(
    store: Store,
    name: str,
    role: Role,
    password: str,
    *,
    actor: str,
    display_name: str = "",
    ip: str | None = None,
) -> User:
    problem = password_problem(password)
    if problem:
        raise AuthError("password", problem)
    if store.get_record(User, name) is not None:
        raise AuthError("name", f"用户 {name} 已存在 (user exists)", status=409)
    try:
        user = User(
            id=name, role=role, password_hash=hash_password(password), display_name=display_name
        )
    except ValueError:
        raise AuthError(
            "name", "只能包含字母、数字和 ._-，2–32 个字符 (letters, digits, ._-; 2-32)"
        ) from None
    try:
        saved = store.save_record(user)
    except ConflictError:
        raise AuthError("name", f"用户 {name} 已存在 (user exists)", status=409) from None
    audit(store, actor, "user.create", target=saved, after=saved, ip=ip)
    return saved


def update_user(
    store: Store,
    name: str,
    *,
    version: int,
    actor: str,
    role: Role | None = None,
    disabled: bool | None = None,
    display_name: str | None = None,
    password: str | None = None,
    ip: str | None = None,
) -> User:
    """Change a user; raises :class:`store.ConflictError` when ``version`` is stale."""
    current = store.get_record(User, name)
    if current is None:
        raise AuthError("name", f"没有用户 {name} (no such user)", status=404)
    changes: dict[str, Any] = {"version": version}
    if role is not None:
        changes["role"] = role
    if disabled is not None:
        changes["disabled"] = disabled
    if display_name is not None:
        changes["display_name"] = display_name
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise AuthError("password", problem)
        changes["password_hash"] = hash_password(password)
    if name == actor and (changes.get("disabled") or changes.get("role", Role.ADMIN) != Role.ADMIN):
        raise AuthError("role", "不能停用自己或撤销自己的管理员角色 (cannot demote yourself)", 403)
    saved = store.save_record(current.model_copy(update=changes))
    audit(store, actor, "user.update", target=saved, before=current, after=saved, ip=ip)
    return saved


def authenticate(store: Store, name: str, password: str) -> User | None:
    user = store.get_record(User, name) if name else None
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        return None
    return user


# -- sessions ------------------------------------------------------------------------------
@dataclass
class NewSession:
    cookie: str
    session: Session


def start_session(
    store: Store,
    user: User,
    *,
    secret: str,
    lifetime: timedelta,
    now: datetime,
    ip: str | None = None,
) -> NewSession:
    cookie = new_secret()
    session = Session(
        id=keyed_hash(secret, cookie),
        username=user.id,
        csrf_token=new_secret(24),
        expires_at=now + lifetime,
        ip=ip,
        created_at=now,
    )
    saved = store.save_record(session)
    audit(store, user.id, "session.login", target=user, ip=ip, at=now)
    return NewSession(cookie, saved)


def session_of(store: Store, cookie: str, *, secret: str, now: datetime) -> Session | None:
    if not cookie or len(cookie) > 128:
        return None
    session = store.get_record(Session, keyed_hash(secret, cookie))
    if session is None or session.revoked or session.expires_at <= now:
        return None
    return session


def end_session(store: Store, session: Session, *, ip: str | None = None) -> None:
    for _attempt in range(2):
        current = store.get_record(Session, session.id)
        if current is None or current.revoked:
            return
        try:
            store.save_record(current.model_copy(update={"revoked": True}))
            break
        except ConflictError:
            continue
    audit(store, session.username, "session.logout", ip=ip)


# -- API tokens ----------------------------------------------------------------------------
def create_token(
    store: Store,
    name: str,
    role: Role,
    *,
    secret: str,
    actor: str,
    expires_at: datetime | None = None,
    ip: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token; returns the record and the full token (shown once, never stored)."""
    token_id, token_secret, full = new_api_token()
    record = ApiToken(
        id=token_id,
        name=name,
        role=role,
        secret_hash=keyed_hash(secret, token_secret),
        created_by=actor,
        expires_at=expires_at,
    )
    saved = store.save_record(record)
    audit(store, actor, "token.create", target=saved, after=saved, ip=ip)
    return saved, full


def token_of(store: Store, token: str, *, secret: str, now: datetime) -> ApiToken | None:
    import hmac

    parts = split_api_token(token)
    if parts is None:
        return None
    record = store.get_record(ApiToken, parts[0])
    if record is None or record.revoked:
        return None
    if record.expires_at is not None and record.expires_at <= now:
        return None
    if not hmac.compare_digest(record.secret_hash, keyed_hash(secret, parts[1])):
        return None
    return record


def revoke_token(store: Store, token_id: str, *, actor: str, ip: str | None = None) -> ApiToken:
    current = store.get_record(ApiToken, token_id)
    if current is None:
        raise AuthError("token_id", f"没有令牌 {token_id} (no such token)", status=404)
    if current.revoked:
        return current
    saved = store.save_record(current.model_copy(update={"revoked": True}))
    audit(store, actor, "token.revoke", target=saved, before=current, after=saved, ip=ip)
    return saved
