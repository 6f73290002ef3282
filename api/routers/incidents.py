"""Incidents: filtered list and the detail with series, timeline, posts, claims, reasons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ConfigDep, CurrentUser, StoreDep
from api.errors import ApiError
from api.services.incidents import (
    IncidentDetail,
    IncidentFilters,
    IncidentsPublic,
    incident_detail,
    kept_incidents_json,
    list_incidents_json,
)
from models import Incident

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


@router.get("/{incident_id}", response_model=IncidentDetail)
def detail(
    incident_id: str, user: CurrentUser, store: StoreDep, config: ConfigDep
) -> IncidentDetail:
    inc = store.get_record(Incident, incident_id)
    if inc is None:
        raise ApiError(404, "incident_id", f"没有事件 {incident_id} (no such incident)")
    model = str(config.nlp.rumor_model) if config.nlp.rumor_model else None
    return incident_detail(store, inc, model_path=model)
