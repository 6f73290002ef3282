"""The 事件 page: the incident list for analysts, its filters a GET form reflected in the
URL (a link to it is the search; the back button walks through earlier ones), sorted,
paged, counted, each row a link to the incident, and the CSV export of the same filters
(``GET /api/v1/incidents/export``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import PageUser, StoreDep
from api.pages import TIER_NAMES, render
from api.services.incidents import IncidentFilters, list_incidents
from api.services.posts import BAND_LABELS
from models import FIELD_ERROR, SHANGHAI
from text.zh import describe
from tingfeng.services.incidents import MAX_LIST_WINDOW

router = APIRouter(include_in_schema=False)

SORT_LABELS = {"last_seen": "最新", "heat": "热度", "rumor": "谣言分", "size": "规模（帖数）"}
HOT_LABELS = {"1": "仅热点", "0": "非热点"}
TIER_CHOICES = [*TIER_NAMES.items(), ("none", "未预警")]
PER_PAGE = 20
#: What a choice field accepts, as the form shows it (for its error message).
CHOICES = {
    "tier": "Ⅰ级、Ⅱ级、Ⅲ级、Ⅳ级、未预警",
    "rumor": "、".join(BAND_LABELS.values()),
    "sort": "、".join(SORT_LABELS.values()),
}
#: The form's fields (the query string's keys) and their Chinese names for errors.
FIELDS = {
    "q": "标题或关键词",
    "since": "起始日期",
    "until": "截止日期",
    "district": "区域",
    "category": "类别",
    "hot": "热点",
    "rumor": "谣言可能",
    "tier": "响应级别",
    "sort": "排序",
    "page": "页码",
}


def _day(name: str, value: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{FIELDS[name]}：不是有效的日期（应为 2026-11-30 这样的日期）")
        return None


def _problem(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    key = loc[0] if loc else ""
    label = FIELDS.get(key, key or "筛选")
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == FIELD_ERROR and ctx.get("field") == "since":
        return "起始日期：必须早于截止日期"
    if key in CHOICES and kind in ("literal_error", "enum"):
        return f"{label}：应为{CHOICES[key]}之一"
    if kind == FIELD_ERROR and ctx.get("field") == "page":
        return f"页码：超出范围，最多翻到第 {MAX_LIST_WINDOW // PER_PAGE} 页，请缩小筛选范围"
    return f"{label}：{describe(err)}"


def read_form(request: Request) -> tuple[dict[str, Any], IncidentFilters, str | None]:
    """The form as typed (to fill it back in), the filters, and a Chinese error (or None).

    Dates are days in 北京时间, both included: 起 is last seen on or after that day's
    start, 止 first seen before the next day's start."""
    params = request.query_params
    form: dict[str, Any] = {k: (params.get(k) or "").strip() for k in FIELDS if k != "tier"}
    form["tier"] = [t for t in params.getlist("tier") if t]
    form["sort"] = form["sort"] or "last_seen"
    problems: list[str] = []
    unknown = sorted(set(params) - set(FIELDS))
    if unknown:
        problems.append(f"{'、'.join(unknown)}：不是可用的筛选条件")
    since, until = _day("since", form["since"], problems), _day("until", form["until"], problems)
    data: dict[str, Any] = {
        "q": form["q"],
        "district": form["district"] or None,
        "category": form["category"] or None,
        "hot": {"1": True, "0": False}.get(form["hot"]),
        "rumor": form["rumor"] or None,
        "tier": form["tier"],
        "sort": form["sort"],
        "page": form["page"] or 1,
        "per_page": PER_PAGE,
    }
    if form["hot"] and form["hot"] not in HOT_LABELS:
        problems.append("热点：应为“仅热点”或“非热点”")
    if since is not None:
        data["since"] = datetime.combine(since, time(0), tzinfo=SHANGHAI)
    if until is not None:
        data["until"] = datetime.combine(until + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    try:
        filters = IncidentFilters.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(e) for e in exc.errors()]
        filters = IncidentFilters(sort="last_seen", per_page=PER_PAGE)
    return form, filters, "；".join(problems) or None


def export_query(f: IncidentFilters) -> list[tuple[str, str]]:
    """The API's query string of the filters (the form's days as the times they stand for)."""
    items: list[tuple[str, str]] = []
    for key in ("since", "until"):
        if (value := getattr(f, key)) is not None:
            items.append((key, value.isoformat()))
    for key in ("district", "category", "rumor"):
        if (value := getattr(f, key)) is not None:
            items.append((key, value))
    if f.hot is not None:
        items.append(("hot", "true" if f.hot else "false"))
    items += [("tier", t) for t in f.tier]
    if f.q:
        items.append(("q", f.q))
    items.append(("sort", f.sort))
    return items


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, user: PageUser, store: StoreDep):
    form, filters, error = read_form(request)
    result = None
    if error is None:
        result = list_incidents(store, filters, request.app.state.incident_cache)
    kept = [(k, v) for k, v in request.query_params.multi_items() if v and k in FIELDS]

    def with_params(**change: Any) -> str:
        items = [(k, v) for k, v in kept if k not in change]
        items += [(k, str(v)) for k, v in change.items() if v is not None]
        return "/incidents" + ("?" + urlencode(items) if items else "")

    pages = 0
    if result is not None:
        pages = min(MAX_LIST_WINDOW // PER_PAGE, -(-result.count // PER_PAGE))
    return render(
        request,
        "incidents.html",
        user,
        status=422 if error else 200,
        title="事件",
        form=form,
        filters=filters,
        result=result,
        error=error,
        pages=pages,
        with_params=with_params,
        export_qs=urlencode(export_query(filters)),
        sort_labels=SORT_LABELS,
        hot_labels=HOT_LABELS,
        tier_choices=TIER_CHOICES,
        band_labels=BAND_LABELS,
        filtered=any(k not in ("sort", "page") for k, _ in kept),
    )
