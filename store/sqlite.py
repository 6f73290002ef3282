"""Embedded SQLite backend: the default store, no server to install.

The backend is split by concern, as the Elasticsearch one is:

- :mod:`store.sqlite_schema`: schema, forward migrations, the writer connection with its one
  write-transaction helper, and read-only reader connections (one per thread);
- :mod:`store.sqlite_posts`: posts, full-text search and metric snapshots;
- :mod:`store.sqlite_records`: versioned records, key/value state and the overview.

``SQLiteStore(path, readonly=True)`` never creates, migrates or writes the file, and never
waits for a writer (WAL readers): what read-only commands (``stats``, ``search``) open.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from models import MetricSnapshot, Post, Record
from store.base import (
    IncidentPage,
    IncidentQuery,
    PostFilter,
    PreparedPost,
    R,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    UpsertResult,
)
from store.sqlite_posts import LOCAL_OFFSET, PostTables, fts_match
from store.sqlite_records import RecordTables
from store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION, Connections

#: Kept under the old private name for callers and tests that quote the FTS expression.
_fts_match = fts_match

__all__ = ["LOCAL_OFFSET", "MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "fts_match"]


class SQLiteStore(Store):
    """The embedded store. Safe to share between threads; one writer at a time."""

    backend = "sqlite"

    def __init__(self, path: str | Path, *, batch_size: int = 2000, readonly: bool = False) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.readonly = readonly
        try:
            self.conns = Connections(self.path, readonly=readonly)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: 无法打开 SQLite 数据库（{exc}）") from None
        self.posts = PostTables(self.conns, batch_size)
        self.records = RecordTables(self.conns)

    @property
    def schema_version(self) -> int:
        return self.conns.schema_version()

    @property
    def _db(self) -> sqlite3.Connection:
        """The writer connection (tests build old schema versions through it)."""
        if self.conns._writer is None:
            raise StoreError(f"{self.path}: 存储以只读方式打开")
        return self.conns._writer

    def _read(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.conns.read(sql, params)

    def change_token(self) -> object | None:
        return self.conns.data_version()

    def close(self) -> None:
        conns = getattr(self, "conns", None)
        if conns is not None:
            conns.close()

    # -- posts ---------------------------------------------------------------------------
    def upsert_posts(self, posts: Iterable[Post]) -> UpsertResult:
        return self.posts.upsert_prepared(PreparedPost.of(post) for post in posts)

    def upsert_prepared(self, items: Iterable[PreparedPost]) -> UpsertResult:
        return self.posts.upsert_prepared(items)

    def set_post_fields(self, updates: dict[str, dict[str, Any]]) -> int:
        return self.posts.set_post_fields(updates)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conns.transaction():
            yield

    @contextlib.contextmanager
    def bulk_load(self, on_index: Callable[[int, int], None] | None = None) -> Iterator[bool]:
        with self.conns.bulk_load(on_index) as deferred:
            yield deferred

    def get_post(self, post_id: str) -> Post | None:
        return self.posts.get_post(post_id)

    def get_posts(self, post_ids: Iterable[str]) -> list[Post]:
        return self.posts.get_posts(post_ids)

    def count_posts(self, flt: PostFilter | None = None) -> int:
        return self.posts.count_posts(flt)

    def search(self, query: SearchQuery) -> SearchResult:
        return self.posts.search(query)

    def iter_posts(
        self, flt: PostFilter | None = None, *, text: str = "", order: str = "time_asc"
    ) -> Iterator[Post]:
        return self.posts.iter_posts(flt, text=text, order=order)

    # -- snapshots -----------------------------------------------------------------------
    def add_snapshots(self, snapshots: Iterable[MetricSnapshot]) -> int:
        return self.posts.add_snapshots(snapshots)

    def get_snapshots(
        self, post_ids: Iterable[str], since: datetime | None = None
    ) -> list[MetricSnapshot]:
        return self.posts.get_snapshots(post_ids, since)

    # -- records and state ---------------------------------------------------------------
    def save_record(self, record: R) -> R:
        return self.records.save_record(record)

    def save_records(self, records: Sequence[Record]) -> list[Record]:
        return self.records.save_records(records)

    def get_record(self, cls: type[R], record_id: str) -> R | None:
        return self.records.get_record(cls, record_id)

    def list_records(
        self, cls: type[R], *, limit: int = 100, offset: int = 0, **equals: Any
    ) -> list[R]:
        return self.records.list_records(cls, limit=limit, offset=offset, **equals)

    def list_incidents(self, query: IncidentQuery) -> IncidentPage:
        return self.records.list_incidents(query)

    def count_records(self, cls: type[Record]) -> int:
        return self.records.count_records(cls)

    def get_state(self, key: str) -> Any | None:
        return self.records.get_state(key)

    def set_state(self, key: str, value: Any) -> None:
        self.records.set_state(key, value)

    def update_state(self, key: str, change: Callable[[Any | None], Any | None]) -> Any | None:
        return self.records.update_state(key, change)

    def stats(self) -> dict[str, Any]:
        return self.records.stats(self.backend)
