"""Dashboard pages (server-rendered Jinja2, Simplified Chinese).

Each page renders its first view on the server from the same service functions the API
routes call; its script (``/static/js/<page>.js``, never inline) draws the charts and polls
the JSON API for live updates. Data for scripts travels in ``<script type=
"application/json">`` blocks, which CSP does not execute.
"""

from __future__ import annotations

import hmac
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.deps import (
    SESSION_COOKIE,
    ClientIp,
    ConfigDep,
    NowDep,
    PageUser,
    Principal,
    SettingsDep,
    StoreDep,
    check_csrf,
    principal_of,
)
from api.errors import ApiError
from api.routers.auth import login, set_session_cookie
from api.security import new_secret
from api.services.alerts import monitor_feed
from api.services.auth import end_session
from api.services.incidents import IncidentFilters, incident_detail, list_incidents
from api.services.posts import BAND_LABELS, PostSearchParams, search_posts_cached
from api.services.sources import list_sources
from models import FIELD_ERROR, SHANGHAI, Alert, Incident, Role
from models.auth import ROLE_LABELS
from text.zh import describe

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["localtime"] = lambda t: t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
#: Ⅰ级…Ⅳ级: the tier as every page writes it (never "I", "III 级").
TIER_NAMES = {"I": "Ⅰ级", "II": "Ⅱ级", "III": "Ⅲ级", "IV": "Ⅳ级"}
templates.env.filters["tier_name"] = lambda t: TIER_NAMES.get(str(getattr(t, "value", t)), t)
router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "tf_login_csrf"

FACET_LABELS = {"source": "来源", "region": "区域", "day": "日期"}
KIND_LABELS = {
    "post": "微博",
    "repost": "转发",
    "comment": "评论",
    "reply": "回帖",
    "thread": "主帖",
    "article": "文章",
    "message": "留言",
}
NAV = [
    ("/", "监测台"),
    ("/tasks", "我的待办"),
    ("/incidents", "事件"),
    ("/search", "检索"),
    ("/bulletins", "通报"),
    ("/reports", "报告"),
    ("/sources", "来源"),
    ("/docs", "接口"),
    ("/admin", "管理"),
]


def render(
    request: Request, name: str, user: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    from api.services.alerts import CHANGERS
    from api.services.tasks import task_count

    settings = request.app.state.config.api
    nav = [
        (href, label)
        for href, label in NAV
        if (href != "/admin" or (user and user.role == Role.ADMIN))
        and (href != "/tasks" or (user and user.role in CHANGERS))
    ]
    counts = {}
    if user is not None and user.role in CHANGERS:
        counts["/tasks"] = task_count(request.app.state.store, user.name, user.role)
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "role_label": ROLE_LABELS.get(user.role, "") if user else "",
            "nav": nav,
            "nav_counts": counts,
            "path": request.url.path,
            "poll_ms": int(settings.poll_seconds * 1000),
            "band_labels": BAND_LABELS,
            "kind_labels": KIND_LABELS,
            **context,
        },
        status_code=status,
    )


FIELD_LABELS = {
    "q": "关键词",
    "since": "起始日期",
    "until": "截止日期",
    "source": "来源",
    "region": "区域",
    "kind": "类型",
    "incident": "事件",
    "rumor": "谣言可能",
    "sort": "排序",
    "page": "页码",
    "per_page": "每页条数",
    "facets": "分面",
}


def _problem_zh(err: dict[str, Any]) -> str:
    """A validation problem of the search form, in Chinese, naming the field."""
    loc = [str(p) for p in err.get("loc", ())]
    label = FIELD_LABELS.get(loc[0], loc[0]) if loc else "查询"
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"{label}：不是可用的检索条件"
    if kind.startswith(("datetime", "date")):  # the form's fields are dates
        return f"{label}：不是有效的日期"
    if kind == FIELD_ERROR and ctx.get("field") == "since":
        return "起始日期：必须早于截止日期"
    return f"{label}：{describe(err)}"


_OR_TOKEN = re.compile(r'"[^"]*"|(\S+)')
_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"', "「": '"', "」": '"'})


def or_alternatives(q: str) -> list[str] | None:
    """The alternatives of a query written with ``OR`` (or ``|``), which search does not
    support (every word is required): the searches to run one by one instead, as the
    CLI's hint says; None for a query without OR."""
    text = q.translate(_QUOTES)
    parts: list[list[str]] = [[]]
    found = False
    for m in _OR_TOKEN.finditer(text):
        if m.group(1) in ("OR", "|"):
            found = True
            parts.append([])
        else:
            parts[-1].append(m.group(0))
    if not found:
        return None
    return [" ".join(p) for p in parts if p]


def _safe_next(value: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    if principal_of(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = new_secret(16)
    response = render(
        request,
        "login.html",
        None,
        title="登录",
        next=_safe_next(next),
        login_csrf=token,
        error=None,
    )
    settings = request.app.state.config.api
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/login",
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    ip: ClientIp,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")

    def again(message: str, status: int) -> Response:
        token = new_secret(16)
        resp = render(
            request,
            "login.html",
            None,
            status=status,
            title="登录",
            next=_safe_next(next),
            login_csrf=token,
            error=message,
            username=username,
        )
        resp.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
            path="/login",
        )
        return resp

    if not cookie or not csrf or not hmac.compare_digest(cookie, csrf):
        return again("页面已过期，请重新登录", 403)
    if not username or not password:
        return again("请输入用户名和密码", 422)
    try:
        new = login(request, store, settings, now, ip, username, password)
    except ApiError as exc:
        return again(exc.problem.split(" (")[0], exc.status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, new, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_submit(
    request: Request,
    user: PageUser,
    store: StoreDep,
    ip: ClientIp,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, user, csrf)
    if user.session is not None:
        end_session(store, user.session, ip=ip)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def monitor(request: Request, user: PageUser, store: StoreDep, config: ConfigDep, now: NowDep):
    cache = request.app.state.incident_cache
    hot = list_incidents(store, IncidentFilters(hot=True, per_page=20), cache)
    recent = list_incidents(store, IncidentFilters(sort="last_seen", per_page=10), cache)
    sources = list_sources(store, config, now, counts=False)
    attention = [s for s in sources.data if s.configured and s.enabled and s.healthy is False]
    feed = monitor_feed(store, user)
    return render(
        request,
        "monitor.html",
        user,
        title="监测台",
        hot=hot,
        recent=recent,
        attention=attention,
        page_data={"hot": hot.model_dump(mode="json"), "attention": len(attention), **feed},
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    incident_id: str, request: Request, user: PageUser, store: StoreDep, config: ConfigDep
):
    inc = store.get_record(Incident, incident_id)
    if inc is None:
        return render(
            request,
            "error.html",
            user,
            status=404,
            title="未找到",
            message=f"没有事件 {incident_id}",
        )
    model = str(config.nlp.rumor_model) if config.nlp.rumor_model else None
    detail = incident_detail(store, inc, model_path=model)
    from api.services.bulletins import WRITERS, draft_choices
    from models import Bulletin

    alerts = store.list_records(Alert, limit=200, incident_id=inc.id)
    can_draft = user.role in WRITERS
    choices = []
    if can_draft:
        bulletins = store.list_records(Bulletin, limit=200, incident_id=inc.id)
        choices = draft_choices(inc, alerts, bulletins)
    return render(
        request,
        "incident.html",
        user,
        title=detail.incident.title or inc.id,
        d=detail,
        can_draft=can_draft,
        draft_choices=choices,
        page_data={
            "series": [s.model_dump() for s in detail.series],
            "deadline_labels": deadline_labels(request, store, inc.id, alerts),
        },
    )


def deadline_labels(
    request: Request, store: Any, incident_id: str, alerts: list[Alert] | None = None
) -> dict[str, str]:
    """Each deadline's Chinese label by its name (``tonggao`` → 通稿): the tier policy's
    clocks and tracks, then the clocks this incident's alerts actually carry (an older
    policy's names stay readable)."""
    from api.services.alerts_policy import app_policy
    from api.services.bulletins import DEADLINE_LABELS

    labels = dict(DEADLINE_LABELS)
    try:
        policy, _ = app_policy(request)
    except ApiError:  # a policy that does not load: the alerts' own labels still count
        policy = None
    if policy is not None:
        for spec in policy.tiers.values():
            labels.update({d.name: d.label for d in spec.follow_up})
        for rule in policy.rules:
            labels.update({t.name: t.label for t in rule.tracks})
    if alerts is None:
        alerts = store.list_records(Alert, limit=200, incident_id=incident_id)
    for alert in alerts:
        labels.update({d.name: d.label for d in alert.deadlines})
    return labels


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, user: PageUser, store: StoreDep, config: ConfigDep):
    raw = {k: v for k, v in request.query_params.multi_items() if v != ""}
    lists = ("source", "region", "kind")
    data: dict[str, Any] = {k: v for k, v in raw.items() if k not in lists}
    for key in lists:
        values = [v for v in request.query_params.getlist(key) if v]
        if values:
            data[key] = values
    data["facets"] = ["day", "source", "region"]
    error = None
    try:
        params = PostSearchParams.model_validate(data)
    except ValidationError as exc:
        error = "；".join(_problem_zh(e) for e in exc.errors())
        params = PostSearchParams(facets=["day", "source", "region"])
    alternatives = or_alternatives(params.q) if error is None else None
    cache = request.app.state.search_cache
    result = (
        search_posts_cached(store, params, cache)
        if error is None and alternatives is None
        else None
    )
    export_query = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if v and k not in ("page", "per_page", "sort")
    ]

    def with_params(**change: Any) -> str:
        items = [(k, v) for k, v in request.query_params.multi_items() if v and k not in change]
        for k, v in change.items():
            if v is not None:
                items.append((k, str(v)))
        return "/search?" + urlencode(items)

    pages = 0
    if result is not None:
        pages = min(500, (result.count + params.per_page - 1) // params.per_page)
    return render(
        request,
        "search.html",
        user,
        status=422 if error else 200,
        title="检索",
        params=params,
        result=result,
        error=error,
        facet_labels=FACET_LABELS,
        source_names={s.name: s.title or s.name for s in config.sources},
        alternatives=alternatives,
        export_qs=urlencode(export_query),
        with_params=with_params,
        pages=pages,
        page_data={
            "days": (result.facets.get("day", []) if result else [])
            and [f.model_dump() for f in result.facets["day"]]
        },
    )


@router.get("/bulletins", response_class=HTMLResponse)
def bulletins_page(request: Request, user: PageUser, store: StoreDep):
    from api.services import bulletins as bsvc

    status = request.query_params.get("status") or None
    try:
        filters = bsvc.BulletinFilters(status=status, per_page=200)
    except ValidationError:
        filters, status = bsvc.BulletinFilters(per_page=200), None
    result = bsvc.list_bulletins(store, filters)
    labels = bsvc.STATUS_LABELS
    return render(
        request,
        "bulletins.html",
        user,
        title="通报",
        result=result,
        current=status,
        status_labels=labels,
    )


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def bulletin_page(bulletin_id: str, request: Request, user: PageUser, store: StoreDep):
    from api.services import bulletins as bsvc

    found = store.get_record(bsvc.Bulletin, bulletin_id) if len(bulletin_id) <= 200 else None
    if found is None:
        message = f"没有通报 {bulletin_id}"
        return render(request, "error.html", user, status=404, title="未找到", message=message)
    b = bsvc.public(found, user)
    inc = store.get_record(Incident, found.incident_id) if found.incident_id else None
    return render(
        request,
        "bulletin.html",
        user,
        title=b.title or b.id,
        b=b,
        incident_title=inc.title if inc else None,
        page_data={"bulletin": b.model_dump(mode="json")},
    )


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: PageUser, store: StoreDep, config: ConfigDep, now: NowDep):
    from api.services import reports as rsvc

    period = request.query_params.get("period") or "weekly"
    error = None
    try:
        query = rsvc.ReportQuery.model_validate({"on": request.query_params.get("on") or None})
        if period not in rsvc.PERIOD_LABELS:
            raise ValueError(period)
    except (ValidationError, ValueError):
        error = "报告周期或日期无效，已显示本周周报"
        period, query = "weekly", rsvc.ReportQuery()
    report = rsvc.report(store, config, period, on=query.on, now=now)  # type: ignore[arg-type]
    return render(
        request,
        "reports.html",
        user,
        status=422 if error else 200,
        title=report.label,
        r=report,
        period=period,
        on=query.on,
        error=error,
        periods=rsvc.PERIOD_LABELS,
        page_data={"report": report.model_dump(mode="json")},
    )


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, user: PageUser, store: StoreDep, config: ConfigDep, now: NowDep):
    sources = list_sources(store, config, now)
    return render(request, "sources.html", user, title="来源", sources=sources)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, user: PageUser):
    if user.role != Role.ADMIN:
        return render(
            request,
            "error.html",
            user,
            status=403,
            title="无权访问",
            message="只有管理员可以管理用户、令牌和审计日志。",
        )
    roles = [(r.value, ROLE_LABELS[r]) for r in Role]
    return render(request, "admin.html", user, title="管理", roles=roles)


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The OpenAPI operations, flattened for the docs page (grouped by tag in order)."""
    ops = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                {
                    "name": p["name"],
                    "where": p.get("in", ""),
                    "required": p.get("required", False),
                    "type": _type_of(p.get("schema", {})),
                    "description": p.get("description")
                    or p.get("schema", {}).get("description", ""),
                }
                for p in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            ops.append(
                {
                    "tag": (op.get("tags") or ["other"])[0],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": (op.get("description") or "").strip(),
                    "params": params,
                    "body": ref.rsplit("/", 1)[-1],
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return ops


def _type_of(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if schema.get("type") == "array":
        return f"[{_type_of(schema.get('items', {}))}]"
    return str(
        schema.get("format") or schema.get("type") or schema.get("$ref", "").rsplit("/", 1)[-1]
    )


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, user: PageUser):
    """The OpenAPI schema as a page (no Swagger UI: it would need a CDN and inline script)."""
    ops = _operations(request.app.openapi())
    tags: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        tags.setdefault(op["tag"], []).append(op)
    return render(request, "apidocs.html", user, title="接口文档", tags=tags)
