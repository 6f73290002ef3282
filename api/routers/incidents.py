"""Incidents: filtered list and the detail with series, timeline, posts, claims, reasons."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ConfigDep, CurrentUser, NowDep, StoreDep
from api.errors import ApiError
from api.services.incident_export import export_incidents
from api.services.incidents import (
    IncidentDetail,
    IncidentFilters,
    IncidentsPublic,
    incident_detail,
    kept_incidents_json,
    list_incidents_json,
)
from models import SHANGHAI, Incident

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.get("", response_model=IncidentsPublic)
async def list_(
    filters: Annotated[IncidentFilters, Query()],
    user: CurrentUser,
    store: StoreDep,
    request: Request,
) -> Response:
    """Incidents by heat (or last seen, or rumor score), filtered by time, district,
    category, hot, rumor band (低 <0.5, 中 0.5–0.8, 高 ≥0.8, 未评分), tier (响应级别 of the
    current alert: the open one, else the latest; ``none``: never alerted) and
    title/keyword text; ``count`` is every match; pages reach at most 10,000 rows deep."""
    # An answer the cache holds within its TTL is sent from the event loop; the store
    # query (a count and one page) and building the JSON go to a worker thread.
    cache = request.app.state.incident_cache
    body = kept_incidents_json(filters, cache)
    if body is None:
        body = await run_in_threadpool(list_incidents_json, store, filters, cache)
    return Response(body, media_type="application/json")


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM"}},
)
def export(
    filters: Annotated[IncidentFilters, Query()],
    user: CurrentUser,
    store: StoreDep,
    config: ConfigDep,
    now: NowDep,
) -> StreamingResponse:
    """Every incident the list's filters match (``page``/``per_page`` ignored, at most
    10,000), in the list's ``sort``, as CSV with Chinese headers (事件编号, 标题, 区域, 类别,
    首次出现, 最近出现, 帖数, 热度, 热点, 谣言分, 谣言可能, 响应级别, 关键词, 链接), UTF-8
    with a BOM so Excel opens it; times in 北京时间."""
    name = f"事件列表-{now.astimezone(SHANGHAI):%Y%m%d-%H%M}.csv"
    disposition = f"attachment; filename=\"incidents.csv\"; filename*=UTF-8''{quote(name)}"
    return StreamingResponse(
        export_incidents(store, filters, config.api.base_url or ""),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.get("/{incident_id}", response_model=IncidentDetail)
def detail(
    incident_id: str, user: CurrentUser, store: StoreDep, config: ConfigDep
) -> IncidentDetail:
    inc = store.get_record(Incident, incident_id)
    if inc is None:
        raise ApiError(404, "incident_id", f"没有事件 {incident_id} (no such incident)")
    model = str(config.nlp.rumor_model) if config.nlp.rumor_model else None
    return incident_detail(store, inc, model_path=model)
