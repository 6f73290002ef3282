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
def healthz(store: StoreDep) -> JSONResponse:
    """200 when the store answers, 503 otherwise. No scheduler exists yet, so none is
    reported (the alerting issue adds it)."""
    try:
        store.get_state("healthz:probe")
    except Exception as exc:  # any backend failure means "not healthy"
        log.warning("healthz: store unreachable: %s", exc)
        return JSONResponse({"status": "error", "store": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "store": "ok", "backend": store.backend})


@router.get("/metrics", response_class=Response)
def metrics(request: Request, user: CurrentUser) -> Response:
    """Prometheus text format (needs a token or session, like every route but /healthz)."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
