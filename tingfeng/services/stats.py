"""Store figures: posts, snapshots, records, per source."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from store import Store


class StoreStats(BaseModel):
    backend: str
    posts: int
    snapshots: int
    incidents: int
    alerts: int
    bulletins: int
    per_source: dict[str, int] = Field(default_factory=dict)
    #: Further backend-specific figures (file size, index names...).
    extra: dict[str, Any] = Field(default_factory=dict)


def store_stats(store: Store) -> StoreStats:
    figures = dict(store.stats())
    known = {k: figures.pop(k) for k in list(figures) if k in StoreStats.model_fields}
    return StoreStats(**known, extra=figures)
