"""Elasticsearch backend (official ``elasticsearch`` 8.x client, for an ES 8 server).

Index layout, templates and the mapping version live in :mod:`store.es_mappings` (installed
by :mod:`store.es_schema`); query bodies in :mod:`store.es_query`; bulk writes and errors in
:mod:`store.es_client`; records and state in :mod:`store.es_records`. Behaviour matches the
SQLite backend (one contract suite, ``tests/store/test_contract.py``, runs against both):

- Post ids are the model's deterministic ``source:native_id``, so writing a post twice
  touches one document. An upsert reads the stored copies (a real-time ``mget`` on the
  monthly index the post's ``created_at`` points to, then a search on the alias for copies
  filed elsewhere), merges with :func:`store.merge.merge_post` and writes back guarded by
  ``if_seq_no``/``if_primary_term`` (new posts with ``create``), so two concurrent
  importers cannot overwrite each other's counts: a 409 re-reads and re-merges.
- Bulk writes go through :func:`elasticsearch.helpers.streaming_bulk`, which retries items
  (and whole requests) rejected with 429 with exponential back-off; items that still fail
  are reported in :attr:`UpsertResult.failed` with the server's reason.
- Snippets come from :mod:`store.highlight` (not ES highlighting), so both backends show
  the same text.
- Writes are visible to search after the index refreshes (about a second); pass
  ``refresh=True`` (tests) or ``"wait_for"`` to make each write call wait for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch import NotFoundError as ESNotFoundError

from models import Alert, Bulletin, Incident, MetricSnapshot, Post, Record
from nlp.tokenize import index_text
from store import es_query
from store.base import (
    IncidentPage,
    IncidentQuery,
    PostFilter,
    PreparedPost,
    R,
    SearchHit,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    UpsertResult,
)
from store.es_client import BulkWriter, Refresh, make_client, reason, store_error
from store.es_mappings import IndexNames
from store.es_records import RecordStore
from store.es_schema import Schema
from store.highlight import query_terms, snippet
from store.merge import merge_post

if TYPE_CHECKING:
    from store.config import StoreConfig

#: Fields ``set_post_fields`` may change (the same list as the SQLite backend).
SETTABLE_POST_FIELDS = frozenset(
    {"incident_id", "rumor_score", "region_tags", "near_duplicate_of", "extra"}
)
_LOOKUP_CHUNK = 1000  # ids per mget / ids query
_PAGE = 1000  # hits per page when streaming
_CONFLICT_ROUNDS = 5  # re-read + re-merge rounds when another writer got there first


@dataclass
class _Stored:
    """A post as found in the index, with what is needed to overwrite it safely."""

    index: str
    seq_no: int
    primary_term: int
    post: Post
    tokens: str | None = None


def post_document(post: Post, tokens: str | None = None) -> dict[str, Any]:
    """The indexed document of a post: the model as JSON plus the pretokenised text.

    ``tokens`` are ``index_text(title, text)`` when the caller already has them.
    """
    doc = post.model_dump(mode="json")
    doc["tokens"] = index_text(post.title, post.text) if tokens is None else tokens
    return doc


def _tokens_for(post: Post, *known: tuple[Post, str | None]) -> str | None:
    """Tokens of ``post`` reused from a copy with the same title and text, if any."""
    for other, tokens in known:
        if tokens is not None and (other.title, other.text) == (post.title, post.text):
            return tokens
    return None


def post_from_source(source: dict[str, Any]) -> Post:
    data = {k: v for k, v in source.items() if k != "tokens"}
    return Post.model_validate(data)


def snapshot_id(snap: MetricSnapshot) -> str:
    """Deterministic id: the same (post, observed_at) — at whole-second precision, like the
    SQLite key — is stored once, whatever time zone it was given in."""
    return f"{snap.post_id}@{int(snap.observed_at.timestamp())}"


class ElasticStore(Store):
    """The Elasticsearch store; see the module docstring for the layout and guarantees."""

    backend = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        *,
        index_prefix: str = "tingfeng",
        batch_size: int = 2000,
        refresh: Refresh = False,
        max_retries: int = 5,
        initial_backoff: float = 1.0,
        max_backoff: float = 60.0,
        replicas: int | None = None,
        ensure_schema: bool = True,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.names = IndexNames(index_prefix)
        self.batch_size = batch_size
        self.writer = BulkWriter(client, max_retries, initial_backoff, max_backoff, refresh)
        self.schema = Schema(client, self.names, replicas=replicas)
        self.records = RecordStore(client, self.names, self.schema, self.writer)
        self._owns_client = owns_client
        if ensure_schema:
            try:
                self.schema.ensure()
            except BaseException:
                self.close()
                raise

    @classmethod
    def from_config(cls, cfg: StoreConfig, **options: Any) -> ElasticStore:
        """The store ``store.*`` describes; ``options`` go to the constructor."""
        options.setdefault("batch_size", cfg.batch_size)
        return cls(make_client(cfg), index_prefix=cfg.index_prefix, owns_client=True, **options)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # -- schema and housekeeping --------------------------------------------------------
    def ensure_schema(self) -> None:
        """Install templates and fixed indices (see :meth:`store.es_schema.Schema.ensure`)."""
        self.schema.ensure()

    def refresh_all(self) -> None:
        """Make every write so far visible to search (tests, and after a bulk import)."""
        self.schema.refresh_all()

    def drop_all(self) -> None:
        """Delete every index and the template of this prefix (tests and resets)."""
        self.schema.drop_all()

    # -- locating stored posts -----------------------------------------------------------
    def _locate(
        self, ids: list[str], hints: dict[str, str] | None = None, *, realtime: bool = False
    ) -> dict[str, _Stored]:
        """Stored copies of ``ids``: first a real-time mget on the hinted indices, then an
        ids query on the alias (near-real-time), then — if ``realtime`` — an mget over every
        index behind the alias for what is still missing."""
        found: dict[str, _Stored] = {}
        try:
            if hints:
                docs = [{"_index": hints[i], "_id": i} for i in ids if i in hints]
                found.update(self._mget(docs))
            missing = [i for i in ids if i not in found]
            for start in range(0, len(missing), _LOOKUP_CHUNK):
                chunk = missing[start : start + _LOOKUP_CHUNK]
                resp = self.client.search(
                    index=self.names.posts_alias,
                    query={"ids": {"values": chunk}},
                    size=len(chunk),
                    seq_no_primary_term=True,
                    ignore_unavailable=True,
                    allow_no_indices=True,
                )
                for hit in resp["hits"]["hits"]:
                    found[hit["_id"]] = _Stored(
                        hit["_index"],
                        hit["_seq_no"],
                        hit["_primary_term"],
                        post_from_source(hit["_source"]),
                        hit["_source"].get("tokens"),
                    )
            missing = [i for i in ids if i not in found]
            if realtime and missing:
                try:
                    indices = list(self.client.indices.get_alias(name=self.names.posts_alias))
                except ESNotFoundError:
                    indices = []
                docs = [{"_index": x, "_id": i} for i in missing for x in indices]
                found.update(self._mget(docs))
        except (ApiError, TransportError) as exc:
            raise store_error("reading posts", exc) from None
        return found

    def _mget(self, docs: list[dict[str, str]]) -> dict[str, _Stored]:
        found: dict[str, _Stored] = {}
        for start in range(0, len(docs), _LOOKUP_CHUNK):
            resp = self.client.mget(docs=docs[start : start + _LOOKUP_CHUNK])
            for doc in resp["docs"]:
                if "error" in doc:
                    if "index_not_found" in str(doc["error"]):
                        continue
                    why = reason(doc["error"])
                    raise StoreError(f"elasticsearch: reading {doc['_id']}: {why}")
                if doc.get("found"):
                    found[doc["_id"]] = _Stored(
                        doc["_index"],
                        doc["_seq_no"],
                        doc["_primary_term"],
                        post_from_source(doc["_source"]),
                        doc["_source"].get("tokens"),
                    )
        return found

    # -- posts ---------------------------------------------------------------------------
    def upsert_posts(self, posts: Iterable[Post]) -> UpsertResult:
        return self._upsert((post, None) for post in posts)

    def upsert_prepared(self, items: Iterable[PreparedPost]) -> UpsertResult:
        """Upsert posts tokenised elsewhere (import workers): their tokens are reused."""
        return self._upsert((item.post(), item.tokens) for item in items)

    def _upsert(self, pairs: Iterable[tuple[Post, str | None]]) -> UpsertResult:
        result = UpsertResult()
        batch: dict[str, tuple[Post, str | None]] = {}
        for post, tokens in pairs:
            earlier = batch.get(post.id)
            if earlier is not None:  # the same post twice in one batch: merge first
                merged = merge_post(earlier[0], post)
                if merged is None:
                    post, tokens = earlier
                else:
                    post, tokens = merged, _tokens_for(merged, earlier, (post, tokens))
            batch[post.id] = (post, tokens)
            if len(batch) >= self.batch_size:
                result += self._upsert_batch(batch)
                batch = {}
        if batch:
            result += self._upsert_batch(batch)
        return result

    def _upsert_batch(self, batch: dict[str, tuple[Post, str | None]]) -> UpsertResult:
        outcome: dict[str, str] = {}
        failed: dict[str, str] = {}
        pending = dict(batch)
        for _round in range(_CONFLICT_ROUNDS):
            hints = {pid: self.names.posts_index(p.created_at) for pid, (p, _) in pending.items()}
            stored = self._locate(list(pending), hints)
            actions: list[dict[str, Any]] = []
            for pid, (post, tokens) in pending.items():
                old = stored.get(pid)
                if old is None:
                    outcome[pid] = "inserted"
                    actions.append(
                        {
                            "_op_type": "create",
                            "_index": hints[pid],
                            "_id": pid,
                            "_source": post_document(post, tokens),
                        }
                    )
                    continue
                merged = merge_post(old.post, post)
                if merged is None:
                    outcome[pid] = "unchanged"
                    continue
                outcome[pid] = "updated"
                actions.append(
                    {
                        "_op_type": "index",
                        "_index": old.index,
                        "_id": pid,
                        "if_seq_no": old.seq_no,
                        "if_primary_term": old.primary_term,
                        "_source": post_document(
                            merged, _tokens_for(merged, (old.post, old.tokens), (post, tokens))
                        ),
                    }
                )
            conflicts: dict[str, tuple[Post, str | None]] = {}
            for pid, (status, why) in self.writer.write(actions).items():
                if status == 409:  # someone else wrote it since we read it: merge again
                    conflicts[pid] = pending[pid]
                else:
                    failed[pid] = why
            pending = conflicts
            if not pending:
                break
        for pid in pending:
            failed[pid] = "version conflict: changed by other writers on every retry"
        result = UpsertResult(failed=sorted(failed.items()))
        for pid, what in outcome.items():
            if pid not in failed:
                setattr(result, what, getattr(result, what) + 1)
        return result

    def get_post(self, post_id: str) -> Post | None:
        posts = self.get_posts([post_id])
        return posts[0] if posts else None

    def get_posts(self, post_ids: Iterable[str]) -> list[Post]:
        ids = list(dict.fromkeys(post_ids))
        found = self._locate(ids, realtime=True)
        return [found[i].post for i in ids if i in found]

    def set_post_fields(self, updates: dict[str, dict[str, Any]]) -> int:
        for fields in updates.values():
            bad = set(fields) - SETTABLE_POST_FIELDS
            if bad:
                raise StoreError(f"set_post_fields: cannot set {sorted(bad)}")
        changed = 0
        items = list(updates.items())
        for start in range(0, len(items), self.batch_size):
            pending = dict(items[start : start + self.batch_size])
            for _round in range(_CONFLICT_ROUNDS):
                stored = self._locate(list(pending), realtime=True)
                actions = []
                for pid, fields in pending.items():
                    if pid not in stored:
                        continue
                    old = stored[pid]
                    new = Post.model_validate(old.post.model_copy(update=fields).model_dump())
                    if new != old.post:
                        actions.append(
                            {
                                "_op_type": "index",
                                "_index": old.index,
                                "_id": pid,
                                "if_seq_no": old.seq_no,
                                "if_primary_term": old.primary_term,
                                "_source": post_document(new, old.tokens),
                            }
                        )
                failures = self.writer.write(actions)
                errors = {k: r for k, (s, r) in failures.items() if s != 409}
                if errors:
                    pid, why = next(iter(errors.items()))
                    raise StoreError(f"set_post_fields: {pid}: {why}")
                changed += len(actions) - len(failures)
                pending = {k: pending[k] for k in failures}
                if not pending:
                    break
            if pending:
                raise StoreError(f"set_post_fields: {next(iter(pending))}: changed concurrently")
        return changed

    # -- search --------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        body = es_query.search_body(query)
        if body is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in query.facets})
        if query.offset + query.limit > es_query.MAX_RESULT_WINDOW:
            raise StoreError(
                f"search: offset + limit may not exceed {es_query.MAX_RESULT_WINDOW} on "
                "Elasticsearch; narrow the filters or use export (which streams)"
            )
        try:
            resp = self.client.search(
                index=self.names.posts_alias,
                ignore_unavailable=True,
                allow_no_indices=True,
                **body,
            )
        except (ApiError, TransportError) as exc:
            raise store_error("search", exc) from None
        relevance = body["sort"][0] == "_score"
        terms = query_terms(query.text) if query.text else []
        hits = []
        for hit in resp["hits"]["hits"]:
            post = post_from_source(hit["_source"])
            score = hit.get("_score")
            hits.append(
                SearchHit(
                    post=post,
                    score=float(score) if relevance and score is not None else None,
                    snippet=snippet(post.text or post.title or "", terms) if query.snippets else "",
                )
            )
        facets = es_query.read_facets(resp.get("aggregations", {}), list(query.facets))
        return SearchResult(total=resp["hits"]["total"]["value"], hits=hits, facets=facets)

    def count_posts(self, flt: PostFilter | None = None) -> int:
        query = es_query.post_query(flt or PostFilter())
        assert query is not None  # no text: always a query
        try:
            resp = self.client.count(
                index=self.names.posts_alias,
                query=query,
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except (ApiError, TransportError) as exc:
            raise store_error("count", exc) from None
        return int(resp["count"])

    def iter_posts(
        self, flt: PostFilter | None = None, *, text: str = "", order: str = "time_asc"
    ) -> Iterator[Post]:
        """Stream with a point in time and ``search_after``: one page in memory at a time,
        and a consistent view even while imports keep writing."""
        query = es_query.post_query(flt or PostFilter(), text)
        if query is None:
            return
        sort = es_query.time_sort("desc" if order in ("time_desc", "time") else "asc")
        try:
            if not self.client.indices.exists_alias(name=self.names.posts_alias):
                return
            pit_id = self.client.open_point_in_time(index=self.names.posts_alias, keep_alive="5m")[
                "id"
            ]
        except (ApiError, TransportError) as exc:
            raise store_error("export", exc) from None
        try:
            after: list[Any] | None = None
            while True:
                resp = self.client.search(
                    pit={"id": pit_id, "keep_alive": "5m"},
                    query=query,
                    sort=sort,
                    size=_PAGE,
                    track_total_hits=False,
                    **({"search_after": after} if after is not None else {}),
                )
                pit_id = resp.get("pit_id", pit_id)
                page = resp["hits"]["hits"]
                for hit in page:
                    yield post_from_source(hit["_source"])
                if len(page) < _PAGE:
                    break
                after = page[-1]["sort"]
        except (ApiError, TransportError) as exc:
            raise store_error("export", exc) from None
        finally:
            # If closing fails the point in time still expires after keep_alive.
            with contextlib.suppress(ApiError, TransportError):
                self.client.close_point_in_time(id=pit_id)

    # -- metric snapshots ----------------------------------------------------------------
    def add_snapshots(self, snapshots: Iterable[MetricSnapshot]) -> int:
        added = 0
        batch: list[dict[str, Any]] = []
        for snap in snapshots:
            at = datetime.fromtimestamp(int(snap.observed_at.timestamp()), UTC)
            batch.append(
                {
                    "_op_type": "create",
                    "_index": self.names.snapshots,
                    "_id": snapshot_id(snap),
                    "_source": {
                        "post_id": snap.post_id,
                        "observed_at": at.isoformat(),
                        "reposts": snap.reposts,
                        "comments": snap.comments,
                        "likes": snap.likes,
                    },
                }
            )
            if len(batch) >= self.batch_size:
                added += self._add_snapshot_batch(batch)
                batch = []
        if batch:
            added += self._add_snapshot_batch(batch)
        return added

    def _add_snapshot_batch(self, actions: list[dict[str, Any]]) -> int:
        failures = self.writer.write(actions)
        errors = [(i, r) for i, (s, r) in failures.items() if s != 409]  # 409: already stored
        if errors:
            raise StoreError(
                f"add_snapshots: {len(errors)} failed, first {errors[0][0]}: {errors[0][1]}"
            )
        return len(actions) - len(failures)

    def get_snapshots(
        self, post_ids: Iterable[str], since: datetime | None = None
    ) -> list[MetricSnapshot]:
        ids = list(dict.fromkeys(post_ids))
        out: list[MetricSnapshot] = []
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            filters: list[dict[str, Any]] = [
                {"terms": {"post_id": ids[start : start + _LOOKUP_CHUNK]}}
            ]
            if since is not None:
                moment = datetime.fromtimestamp(int(since.timestamp()), UTC)
                filters.append({"range": {"observed_at": {"gte": moment.isoformat()}}})
            out.extend(
                MetricSnapshot.model_validate(src)
                for src in self._scan(
                    self.names.snapshots,
                    {"bool": {"filter": filters}},
                    [{"post_id": "asc"}, {"observed_at": "asc"}],
                )
            )
        out.sort(key=lambda s: (s.post_id, s.observed_at))
        return out

    def _scan(
        self, index: str, query: dict[str, Any], sort: list[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Every matching ``_source``, page by page with ``search_after``."""
        after: list[Any] | None = None
        try:
            while True:
                resp = self.client.search(
                    index=index,
                    query=query,
                    sort=sort,
                    size=_PAGE,
                    track_total_hits=False,
                    ignore_unavailable=True,
                    allow_no_indices=True,
                    **({"search_after": after} if after is not None else {}),
                )
                page = resp["hits"]["hits"]
                for hit in page:
                    yield hit["_source"]
                if len(page) < _PAGE:
                    return
                after = page[-1]["sort"]
        except (ApiError, TransportError) as exc:
            raise store_error(f"reading {index}", exc) from None

    # -- versioned records and state (store/es_records.py) --------------------------------
    def save_record(self, record: R) -> R:
        return self.records.save(record)

    def get_record(self, cls: type[R], record_id: str) -> R | None:
        return self.records.get(cls, record_id)

    def list_records(
        self, cls: type[R], *, limit: int = 100, offset: int = 0, **equals: Any
    ) -> list[R]:
        return self.records.list(cls, limit=limit, offset=offset, equals=equals)

    def list_incidents(self, query: IncidentQuery) -> IncidentPage:
        return self.records.list_incidents(query)

    def count_records(self, cls: type[Record]) -> int:
        return self.records.count(cls)

    def get_state(self, key: str) -> Any | None:
        return self.records.get_state(key)

    def set_state(self, key: str, value: Any) -> None:
        self.records.set_state(key, value)

    def update_state(self, key: str, change: Callable[[Any | None], Any | None]) -> Any | None:
        return self.records.update_state(key, change)

    # -- overview ------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        try:
            resp = self.client.search(
                index=self.names.posts_alias,
                size=0,
                track_total_hits=True,
                aggs={
                    "per_source": {
                        "terms": {
                            "field": "source",
                            "size": es_query.FACET_SIZE,
                            "order": {"_key": "asc"},
                        }
                    }
                },
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except (ApiError, TransportError) as exc:
            raise store_error("stats", exc) from None
        buckets = resp.get("aggregations", {}).get("per_source", {}).get("buckets", [])
        return {
            "backend": self.backend,
            "posts": resp["hits"]["total"]["value"],
            "snapshots": self.records.count_index(self.names.snapshots),
            "incidents": self.count_records(Incident),
            "alerts": self.count_records(Alert),
            "bulletins": self.count_records(Bulletin),
            "per_source": {b["key"]: b["doc_count"] for b in buckets},
        }
