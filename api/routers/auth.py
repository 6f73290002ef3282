"""Logging in and out (JSON, for scripts and the dashboard's own calls) and ``/me``."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.deps import SESSION_COOKIE, ClientIp, CurrentUser, NowDep, SettingsDep, StoreDep
from api.errors import ApiError
from api.services.auth import NewSession, audit, authenticate, end_session, start_session
from models import Role
from models.auth import ROLE_LABELS

router = APIRouter(prefix="/api/v1", tags=["auth"])


def wait_zh(seconds: float) -> str:
    """A wait as people say it: 「 45 秒」 under a minute, else 「约 15 分钟」 (rounded up)."""
    if seconds < 60:
        return f" {max(1, int(seconds + 0.999))} 秒"
    return f"约 {int(-(-seconds // 60))} 分钟"


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    name: str
    role: Role
    role_label: str
    via: str
    csrf_token: str = ""


def login(
    request: Request, store, settings, now, ip: str, username: str, password: str
) -> NewSession:
    """Check the rate limits, then the password; shared by the API and the login page."""
    limiter = request.app.state.limiter
    keys = (f"user:{username.lower()}", f"ip:{ip}")
    wait = limiter.retry_after(*keys)
    if wait is not None:
        raise ApiError(
            429,
            "username",
            f"登录失败次数过多，请{wait_zh(wait)}后再试 (too many failed logins)",
            headers={"Retry-After": str(wait)},
        )
    user = authenticate(store, username, password)
    if user is None:
        limiter.failed(*keys)
        left = limiter.remaining(keys[0])
        locked = left == 0 or limiter.remaining(keys[1]) == 0
        audit(
            store,
            username[:64] or "-",
            "session.login_locked" if locked else "session.login_failed",
            ip=ip,
            at=now,
        )
        problem = "用户名或密码错误"
        pause = wait_zh(limiter.window.total_seconds())
        if locked:
            problem += f"；失败次数过多，暂停登录{pause}"
        elif left <= 2:
            problem += f"；再错 {left} 次将暂停登录{pause}"
        raise ApiError(401, "password", f"{problem} (wrong user name or password)")
    limiter.succeeded(keys[0])
    return start_session(
        store,
        user,
        secret=request.app.state.secret,
        lifetime=timedelta(hours=settings.session_hours),
        now=now,
        ip=ip,
    )


def set_session_cookie(response: Response, new: NewSession, settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


@router.post("/login", response_model=Me)
def api_login(
    body: LoginRequest,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    ip: ClientIp,
) -> Me:
    new = login(request, store, settings, now, ip, body.username, body.password)
    set_session_cookie(response, new, settings)
    from models import User

    user = store.get_record(User, new.session.username)
    assert user is not None
    return Me(
        name=user.id,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        via="session",
        csrf_token=new.session.csrf_token,
    )


@router.post("/logout", status_code=204)
def api_logout(user: CurrentUser, store: StoreDep, response: Response, ip: ClientIp) -> None:
    if user.session is not None:
        end_session(store, user.session, ip=ip)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    return Me(
        name=user.name,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        via=user.via,
        csrf_token=user.csrf_token,
    )
