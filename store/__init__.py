"""Storage behind one interface: embedded SQLite by default, Elasticsearch at scale.

Every layer (ingest, crawler pipelines, NLP, alerting, API) reaches storage only through
:class:`store.base.Store`, obtained from :func:`open_store`. The backend is a setting.
"""

from store.base import (
    ConflictError,
    Facets,
    IncidentPage,
    IncidentQuery,
    NotFoundError,
    PostFilter,
    SearchHit,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    UpsertResult,
)
from store.factory import open_store

__all__ = [
    "ConflictError",
    "Facets",
    "IncidentPage",
    "IncidentQuery",
    "NotFoundError",
    "PostFilter",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "Store",
    "StoreError",
    "UpsertResult",
    "open_store",
]
