"""Sources: configured and imported, with health and last crawl."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ConfigDep, CurrentUser, NowDep, StoreDep
from api.errors import ApiError
from api.services.sources import SourcePublic, SourcesPublic, list_sources

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


@router.get("", response_model=SourcesPublic)
def list_(
    user: CurrentUser,
    store: StoreDep,
    config: ConfigDep,
    now: NowDep,
    counts: Annotated[bool, Query(description="count posts per source (scans the store)")] = True,
) -> SourcesPublic:
    """Sources needing attention first (blocked, only errors, stale, never crawled)."""
    return list_sources(store, config, now, counts=counts)


@router.get("/{name}", response_model=SourcePublic)
def one(
    name: str, user: CurrentUser, store: StoreDep, config: ConfigDep, now: NowDep
) -> SourcePublic:
    for row in list_sources(store, config, now).data:
        if row.name == name:
            return row
    raise ApiError(404, "name", f"没有来源 {name} (no such source)")
