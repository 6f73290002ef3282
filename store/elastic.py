"""Elasticsearch backend (official ``elasticsearch`` 8.x client, for an ES 8 server).

Index layout, templates and the mapping version live in :mod:`store.es_mappings`; the query
bodies in :mod:`store.es_query`. Behaviour matches the SQLite backend (one contract suite,
``tests/store/test_contract.py``, runs against both):

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
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch import ConflictError as ESConflictError
from elasticsearch import NotFoundError as ESNotFoundError

from models import Alert, Bulletin, Incident, MetricSnapshot, Post, Record
from nlp.tokenize import index_text
from store import es_query
from store.base import (
    ConflictError,
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
from store.es_mappings import (
    MAPPING_VERSION,
    RECORDS_MAPPING,
    SNAPSHOTS_MAPPING,
    STATE_MAPPING,
    IndexNames,
    fixed_index_body,
    posts_template,
)
from store.highlight import query_terms, snippet
from store.merge import merge_post

if TYPE_CHECKING:
    from tingfeng.config import StoreConfig

log = logging.getLogger(__name__)

Refresh = bool | Literal["wait_for"]

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


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip(": ")
        cause = error.get("caused_by")
        return f"{text} ({_reason(cause)})" if isinstance(cause, dict) else text
    return str(error)


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
        self.refresh = refresh
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.replicas = replicas
        self._owns_client = owns_client
        self._ready_aliases: set[str] = set()
        if ensure_schema:
            try:
                self.ensure_schema()
            except BaseException:
                self.close()
                raise

    @classmethod
    def from_config(cls, cfg: StoreConfig, **options: Any) -> ElasticStore:
        kwargs: dict[str, Any] = {
            "verify_certs": cfg.verify_certs,
            "request_timeout": 30,
            "retry_on_timeout": True,
            "max_retries": 3,
        }
        if cfg.username:
            kwargs["basic_auth"] = (cfg.username, cfg.password or "")
        if cfg.ca_certs:
            kwargs["ca_certs"] = str(cfg.ca_certs)
        if not cfg.verify_certs and cfg.url and cfg.url.startswith("https:"):
            # The operator chose this: say it once in the log rather than warn per request.
            kwargs["ssl_show_warn"] = False
            log.warning(
                "store.verify_certs is false: the TLS certificate of %s is not checked", cfg.url
            )
        client = Elasticsearch(cfg.url, **kwargs)
        options.setdefault("batch_size", cfg.batch_size)
        return cls(client, index_prefix=cfg.index_prefix, owns_client=True, **options)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # -- schema --------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Install the index template and create the fixed indices; idempotent.

        Refuses to run against indices written by a newer Tingfeng (higher mapping version);
        a fixed index from an older version is reindexed into the current one and its alias
        swapped atomically.
        """
        names = self.names
        try:
            try:
                found = self.client.indices.get_index_template(name=names.posts_template)
                stored = found["index_templates"][0]["index_template"].get("version") or 0
            except ESNotFoundError:
                stored = 0
            if stored > MAPPING_VERSION:
                raise StoreError(
                    f"elasticsearch: index template {names.posts_template} has mapping version "
                    f"{stored}, newer than this Tingfeng supports ({MAPPING_VERSION}); upgrade"
                )
            self.client.indices.put_index_template(
                name=names.posts_template, **posts_template(names, replicas=self.replicas)
            )
            self._ensure_fixed(names.snapshots, SNAPSHOTS_MAPPING)
            self._ensure_fixed(names.state, STATE_MAPPING)
            for cls in (Incident, Alert, Bulletin):
                self._ensure_fixed(names.records(cls.kind), RECORDS_MAPPING)
        except (ApiError, TransportError) as exc:
            raise self._error("setting up indices", exc) from None

    def _ensure_fixed(self, alias: str, mapping: dict[str, Any]) -> None:
        if alias in self._ready_aliases:
            return
        target = IndexNames.versioned(alias)
        try:
            current = list(self.client.indices.get_alias(name=alias))
        except ESNotFoundError:
            current = []
        if target not in current:
            versions = {i: int(i.rsplit("-v", 1)[-1]) for i in current if "-v" in i}
            newer = [i for i, v in versions.items() if v > MAPPING_VERSION]
            if newer:
                raise StoreError(
                    f"elasticsearch: {newer[0]} was written by a newer Tingfeng "
                    f"(mapping version > {MAPPING_VERSION}); upgrade"
                )
            body = fixed_index_body(mapping, replicas=self.replicas)
            if not current:
                try:
                    self.client.indices.create(index=target, aliases={alias: {}}, **body)
                except ApiError as exc:
                    if "resource_already_exists" not in str(exc):
                        raise
            else:
                self.client.indices.create(index=target, **body)
                self.client.reindex(
                    source={"index": alias},
                    dest={"index": target},
                    wait_for_completion=True,
                    refresh=True,
                )
                self.client.indices.update_aliases(
                    actions=[{"remove": {"index": i, "alias": alias}} for i in current]
                    + [{"add": {"index": target, "alias": alias}}]
                )
        self._ready_aliases.add(alias)

    def refresh_all(self) -> None:
        """Make every write so far visible to search (tests, and after a bulk import)."""
        self.client.indices.refresh(
            index=",".join(self.names.all_patterns()),
            ignore_unavailable=True,
            allow_no_indices=True,
        )

    def drop_all(self) -> None:
        """Delete every index and the template of this prefix (tests and ``--reset``)."""
        names = self.names
        self._ready_aliases.clear()
        opts = self.client.options(ignore_status=404)
        # Deleting by wildcard is refused by default (action.destructive_requires_name), so
        # resolve the patterns to concrete names first.
        found = self.client.indices.get(
            index=",".join(names.all_patterns()),
            expand_wildcards="all",
            allow_no_indices=True,
            ignore_unavailable=True,
            features="aliases",
        )
        indices = sorted(found)
        for start in range(0, len(indices), 50):
            opts.indices.delete(index=",".join(indices[start : start + 50]))
        opts.indices.delete_index_template(name=names.posts_template)

    @staticmethod
    def _error(what: str, exc: Exception) -> StoreError:
        if isinstance(exc, ApiError):
            body = exc.body.get("error") if isinstance(exc.body, dict) else exc.body
            detail = f"{exc.status_code} {_reason(body)}"
        else:
            detail = str(exc)
        return StoreError(f"elasticsearch: {what} failed: {detail}")

    def _refresh_kw(self) -> dict[str, Any]:
        return {"refresh": self.refresh} if self.refresh else {}

    # -- bulk ----------------------------------------------------------------------------
    def _bulk(self, actions: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:
        """Send actions; return ``{id: (status, reason)}`` for items that finally failed.

        429s (per item or for the whole request) are retried by the helper with
        exponential back-off: ``initial_backoff``, doubling, capped at ``max_backoff``,
        ``max_retries`` times.
        """
        if not actions:
            return {}
        failures: dict[str, tuple[int, str]] = {}
        done: set[str] = set()
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=max(len(actions), 1),
                max_retries=self.max_retries,
                initial_backoff=self.initial_backoff,
                max_backoff=self.max_backoff,
                raise_on_error=False,
                raise_on_exception=True,
                yield_ok=True,
                **self._refresh_kw(),
            ):
                if ok:
                    done.add(str(next(iter(item.values())).get("_id")))
                else:
                    info = next(iter(item.values()))
                    status = int(info.get("status") or 0)
                    reason = _reason(info.get("error"))
                    if status == 429:
                        reason = f"rejected (429) after {self.max_retries} retries: {reason}"
                    failures[str(info.get("_id"))] = (status, reason)
        except ApiError as exc:
            if exc.status_code != 429:
                raise self._error("bulk write", exc) from None
            reason = f"request rejected (429) after {self.max_retries} retries"
            for action in actions:  # those not already answered one way or the other
                failures.setdefault(str(action["_id"]), (429, reason))
            for doc_id in done:
                failures.pop(doc_id, None)
        except TransportError as exc:
            raise self._error("bulk write", exc) from None
        return failures

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
            raise self._error("reading posts", exc) from None
        return found

    def _mget(self, docs: list[dict[str, str]]) -> dict[str, _Stored]:
        found: dict[str, _Stored] = {}
        for start in range(0, len(docs), _LOOKUP_CHUNK):
            resp = self.client.mget(docs=docs[start : start + _LOOKUP_CHUNK])
            for doc in resp["docs"]:
                if "error" in doc:
                    if "index_not_found" in str(doc["error"]):
                        continue
                    reason = _reason(doc["error"])
                    raise StoreError(f"elasticsearch: reading {doc['_id']}: {reason}")
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
            for pid, (status, reason) in self._bulk(actions).items():
                if status == 409:  # someone else wrote it since we read it: merge again
                    conflicts[pid] = pending[pid]
                else:
                    failed[pid] = reason
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
                failures = self._bulk(actions)
                errors = {k: r for k, (s, r) in failures.items() if s != 409}
                if errors:
                    pid, reason = next(iter(errors.items()))
                    raise StoreError(f"set_post_fields: {pid}: {reason}")
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
            raise self._error("search", exc) from None
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
                    snippet=snippet(post.text or post.title or "", terms),
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
            raise self._error("count", exc) from None
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
            raise self._error("export", exc) from None
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
            raise self._error("export", exc) from None
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
        failures = self._bulk(actions)
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
            raise self._error(f"reading {index}", exc) from None

    # -- versioned records ---------------------------------------------------------------
    def _records_alias(self, kind: str, *, create: bool = False) -> str:
        alias = self.names.records(kind)
        if create and alias not in self._ready_aliases:
            try:
                self._ensure_fixed(alias, RECORDS_MAPPING)
            except (ApiError, TransportError) as exc:
                raise self._error(f"creating the {kind} index", exc) from None
        return alias

    def _stored_version(self, alias: str, record_id: str) -> int | None:
        try:
            doc = self.client.get(index=alias, id=record_id, source_includes=["version"])
        except ESNotFoundError:
            return None
        return int(doc["_source"]["version"])

    def save_record(self, record: R) -> R:
        kind = type(record).kind
        alias = self._records_alias(kind, create=True)
        saved = record.model_copy(
            update={"version": record.version + 1, "updated_at": datetime.now(UTC)}
        )
        data = saved.model_dump(mode="json")
        document = {
            "id": saved.id,
            "version": saved.version,
            "created_at": data["created_at"],
            "updated_at": data["updated_at"],
            "updated_s": int(saved.updated_at.timestamp()),
            "fields": es_query.record_fields(saved.model_dump()),
            "doc": data,
        }
        try:
            if record.version == 0:
                self.client.create(
                    index=alias, id=record.id, document=document, **self._refresh_kw()
                )
                return saved
            try:
                current = self.client.get(index=alias, id=record.id, source_includes=["version"])
            except ESNotFoundError:
                raise ConflictError(kind, record.id, record.version, None) from None
            stored = int(current["_source"]["version"])
            if stored != record.version:
                raise ConflictError(kind, record.id, record.version, stored)
            self.client.index(
                index=alias,
                id=record.id,
                document=document,
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
                **self._refresh_kw(),
            )
        except ESConflictError:
            raise ConflictError(
                kind, record.id, record.version, self._stored_version(alias, record.id)
            ) from None
        except (ApiError, TransportError) as exc:
            raise self._error(f"saving {kind} {record.id}", exc) from None
        return saved

    def get_record(self, cls: type[R], record_id: str) -> R | None:
        try:
            doc = self.client.get(index=self._records_alias(cls.kind), id=record_id)
        except ESNotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise self._error(f"reading {cls.kind} {record_id}", exc) from None
        return cls.model_validate(doc["_source"]["doc"])

    def list_records(
        self, cls: type[R], *, limit: int = 100, offset: int = 0, **equals: Any
    ) -> list[R]:
        for field in equals:
            if field not in cls.model_fields:
                raise StoreError(f"list_records: {cls.kind} has no field {field!r}")
        try:
            resp = self.client.search(
                index=self._records_alias(cls.kind),
                query=es_query.records_query(equals),
                sort=[{"updated_s": "desc"}, {"id": "asc"}],
                from_=offset,
                size=limit,
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except (ApiError, TransportError) as exc:
            raise self._error(f"listing {cls.kind}", exc) from None
        return [cls.model_validate(h["_source"]["doc"]) for h in resp["hits"]["hits"]]

    def count_records(self, cls: type[Record]) -> int:
        return self._count(self._records_alias(cls.kind))

    def _count(self, index: str) -> int:
        try:
            resp = self.client.count(index=index, ignore_unavailable=True, allow_no_indices=True)
        except (ApiError, TransportError) as exc:
            raise self._error(f"counting {index}", exc) from None
        return int(resp["count"])

    # -- key/value state -----------------------------------------------------------------
    def get_state(self, key: str) -> Any | None:
        try:
            doc = self.client.get(index=self.names.state, id=key)
        except ESNotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise self._error(f"reading state {key!r}", exc) from None
        return doc["_source"].get("value")

    def set_state(self, key: str, value: Any) -> None:
        # Same JSON round trip as the SQLite backend (datetimes and the like become strings).
        plain = orjson.loads(orjson.dumps(value, default=str))
        try:
            self.client.index(
                index=self.names.state,
                id=key,
                document={"key": key, "value": plain, "updated_at": datetime.now(UTC).isoformat()},
                **self._refresh_kw(),
            )
        except (ApiError, TransportError) as exc:
            raise self._error(f"saving state {key!r}", exc) from None

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
            raise self._error("stats", exc) from None
        buckets = resp.get("aggregations", {}).get("per_source", {}).get("buckets", [])
        return {
            "backend": self.backend,
            "posts": resp["hits"]["total"]["value"],
            "snapshots": self._count(self.names.snapshots),
            "incidents": self.count_records(Incident),
            "alerts": self.count_records(Alert),
            "bulletins": self.count_records(Bulletin),
            "per_source": {b["key"]: b["doc_count"] for b in buckets},
        }
