"""Every 4xx answer is JSON naming the field and the problem.

Shape: ``{"detail": [{"field": "query.limit", "problem": "..."}]}``; a 409 adds
``"current"``, the record as it is stored now, so the client can merge and retry.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.services.auth import AuthError, public
from models import FIELD_ERROR, Record, field_error  # noqa: F401 - field_error for routes
from store import ConflictError, StoreError
from text.zh import describe

log = logging.getLogger(__name__)


def _record_kinds() -> dict[str, type[Record]]:
    """Every record class by its kind (incidents, alerts, bulletins, users...), so a 409 on
    any of them returns the current copy."""
    out: dict[str, type[Record]] = {}
    todo = list(Record.__subclasses__())
    while todo:
        cls = todo.pop()
        out.setdefault(cls.kind, cls)
        todo.extend(cls.__subclasses__())
    return out


class ApiError(Exception):
    """Raised by routes and dependencies; rendered as the JSON error above."""

    def __init__(
        self,
        status: int,
        field: str,
        problem: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.status, self.field, self.problem = status, field, problem
        self.headers, self.extra = headers, extra or {}
        super().__init__(f"{field}: {problem}")


class LoginRequired(Exception):
    """A dashboard page asked for without a session: redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def error_body(status: int, problems: list[dict[str, str]], **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": problems, **extra}, status_code=status)


def problem(status: int, field: str, text: str, **extra: Any) -> JSONResponse:
    return error_body(status, [{"field": field, "problem": text}], **extra)


#: Dashboard errors a browser gets as the Chinese error page (title, message).
PAGE_ERRORS = {
    404: ("页面不存在", "没有这个页面。请检查地址，或从导航进入。"),
    405: ("无法打开", "这个地址不能这样打开。请从导航进入。"),
}


def wants_page(request: Request) -> bool:
    """A browser asking for a dashboard page: HTML accepted and not an API, static or
    health path (those keep their JSON or plain answers)."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or path in ("/healthz", "/metrics"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, status: int) -> Response:
    from api.deps import principal_of
    from api.pages import render

    try:
        user = principal_of(request)
    except Exception:  # a broken session or store must not turn a 404 into a 500
        user = None
    title, message = PAGE_ERRORS[status]
    return render(request, "error.html", user, status=status, title=title, message=message)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "(request)"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        resp = problem(exc.status, exc.field, exc.problem, **exc.extra)
        for key, value in (exc.headers or {}).items():
            resp.headers[key] = value
        return resp

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        return problem(exc.status, exc.field, exc.problem)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            if err.get("type") == FIELD_ERROR:
                loc = [*loc[:1], (err.get("ctx") or {}).get("field", "")]
            # pydantic's own messages are English ("Input should be less than or equal to
            # 100") and the dashboard shows the problem as it is: worded in Chinese.
            problems.append({"field": _loc(loc), "problem": describe(err)})
        return error_body(422, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in PAGE_ERRORS and wants_page(request):
            return _error_page(request, exc.status_code)
        field = {404: "path", 405: "method"}.get(exc.status_code, "request")
        return problem(exc.status_code, field, str(exc.detail), headers=None)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        cls = _record_kinds().get(exc.kind)
        store = request.app.state.store
        current = store.get_record(cls, exc.record_id) if cls else None
        return problem(
            409,
            "version",
            f"已被他人修改：你编辑的是第 {exc.expected} 版，当前为第 {exc.actual} 版；请刷新后重试 "
            f"(stale version {exc.expected}, stored {exc.actual})",
            current=public(current) if current is not None else None,
        )

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error on %s %s: %s", request.method, request.url.path, exc)
        return problem(503, "store", "存储暂时不可用 (store unavailable)")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> RedirectResponse:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)
