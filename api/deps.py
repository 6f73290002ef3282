"""Dependencies as ``Annotated`` aliases (full-stack-fastapi-template style).

``CurrentUser`` accepts either an API token (``Authorization: Bearer tf_…``) or the
dashboard's session cookie; with the cookie, every unsafe method must carry the session's
CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError, LoginRequired
from api.services.auth import session_of, token_of
from api.settings import ApiSettings
from models import Role, Session, User
from store import Store
from tingfeng.config import Config

SESSION_COOKIE = "tf_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: a logged-in user or an integration's token, with its role."""

    name: str
    role: Role
    via: str  # "session" | "token"
    session: Session | None = None
    display_name: str = ""

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""

    def has(self, *roles: Role) -> bool:
        return self.role in roles


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_config(request: Request) -> Config:
    return request.app.state.config


async def get_settings(request: Request) -> ApiSettings:
    return request.app.state.config.api


async def get_now(request: Request) -> datetime:
    return request.app.state.clock()


async def get_clock_rate(request: Request) -> float:
    return float(request.app.state.clock_rate())


async def get_secret(request: Request) -> str:
    return request.app.state.secret


async def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# The accessors above are ``async`` only so FastAPI calls them on the event loop instead of
# hopping to a worker thread for each one; they never wait on anything.
StoreDep = Annotated[Store, Depends(get_store)]
ConfigDep = Annotated[Config, Depends(get_config)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
#: Seconds of that clock per real second (a demo's story clock runs faster).
ClockRateDep = Annotated[float, Depends(get_clock_rate)]
ClientIp = Annotated[str, Depends(client_ip)]
SecretDep = Annotated[str, Depends(get_secret)]


def principal_of(request: Request) -> Principal | None:
    """The caller, or None; cached on the request (at most two store reads)."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    app = request.app.state
    store: Store = app.store
    now = app.clock()
    found: Principal | None = None
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value:
            token = token_of(store, value.strip(), secret=app.secret, now=now)
            if token is not None:
                found = Principal(token.created_by + ":" + token.name, token.role, "token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        session = session_of(store, cookie, secret=app.secret, now=now) if cookie else None
        if session is not None:
            user = store.get_record(User, session.username)
            if user is not None and not user.disabled:
                found = Principal(user.id, user.role, "session", session, user.display_name)
    request.state.principal = found
    return found


def check_csrf(request: Request, principal: Principal, supplied: str | None = None) -> None:
    if request.method in SAFE_METHODS or principal.via != "session":
        return
    given = supplied if supplied is not None else request.headers.get(CSRF_HEADER, "")
    if not given or not hmac.compare_digest(given, principal.csrf_token):
        raise ApiError(403, CSRF_HEADER, "缺少或错误的 CSRF 令牌 (missing or wrong CSRF token)")


def current_user(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None:
        raise ApiError(
            401,
            "authorization",
            "需要登录或 API 令牌 (log in, or send Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_csrf(request, principal)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    names = "、".join(r.value for r in roles)

    async def dependency(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise ApiError(
                403, "role", f"角色 {user.role.value} 无权执行此操作（需要 {names}） (forbidden)"
            )
        return user

    return dependency


AdminUser = Annotated[Principal, Depends(require(Role.ADMIN))]
RawReader = Annotated[Principal, Depends(require(Role.ANALYST, Role.ADMIN))]


def page_user(request: Request) -> Principal:
    """For dashboard pages: a session or a redirect to the login page."""
    principal = principal_of(request)
    if principal is None or principal.via != "session":
        raise LoginRequired(str(request.url.path))
    return principal


PageUser = Annotated[Principal, Depends(page_user)]
