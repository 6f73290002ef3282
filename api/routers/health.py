"""``/healthz`` (the one route readable without auth) and Prometheus ``/metrics``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import CurrentUser, StoreDep

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz(request: Request, store: StoreDep) -> JSONResponse:
    """200 when the store answers and the scheduler runs (or is ``disabled`` by
    ``--no-scheduler``); 503 when the store does not answer or the scheduler stopped."""
    scheduler = request.app.state.scheduler
    body: dict[str, str] = {
        "status": "ok",
        "store": "ok",
        "scheduler": "disabled" if scheduler is None else scheduler.state,
        "backend": store.backend,
    }
    try:
        store.get_state("healthz:probe")
    except Exception as exc:  # any backend failure means "not healthy"
        log.warning("healthz: store unreachable: %s", exc)
        body["store"] = "unreachable"
    if body["store"] != "ok" or body["scheduler"] == "stopped":
        body["status"] = "error"
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


@router.get("/metrics", response_class=Response)
def metrics(request: Request, user: CurrentUser) -> Response:
    """Prometheus text format (needs a token or session, like every route but /healthz)."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
