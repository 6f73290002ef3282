"""The OpenAPI schema, behind auth like everything but /healthz."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, user: CurrentUser) -> dict[str, Any]:
    return request.app.openapi()
