"""The storage contract every backend fulfils (tests/store/test_contract.py checks it)."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from models import Incident, MetricSnapshot, Post, Record, Tier
from models.post import AwareTime
from nlp.tokenize import index_text

R = TypeVar("R", bound=Record)


class StoreError(Exception):
    """A storage problem worth showing to a user (no traceback)."""


class ConflictError(StoreError):
    """A record was changed by someone else since it was read."""

    def __init__(self, kind: str, record_id: str, expected: int, actual: int | None) -> None:
        self.kind, self.record_id, self.expected, self.actual = kind, record_id, expected, actual
        super().__init__(
            f"{kind} {record_id!r} was changed by someone else "
            f"(you edited version {expected}, stored version is {actual}); reload and retry"
        )


class NotFoundError(StoreError):
    pass


class PostFilter(BaseModel):
    """Filters shared by search, export and counting. All given conditions must hold."""

    model_config = ConfigDict(extra="forbid")

    since: AwareTime | None = None
    until: AwareTime | None = None
    #: Posts collected (``fetched_at``) at or after this moment, however long ago they were
    #: written: how the detection pass finds posts that were crawled late.
    fetched_since: AwareTime | None = None
    sources: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    incident_ids: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    root_ids: list[str] = Field(default_factory=list)
    min_rumor_score: float | None = Field(default=None, ge=0, le=1)
    max_rumor_score: float | None = Field(default=None, ge=0, le=1)


FacetName = Literal["day", "hour", "source", "region"]


class SearchQuery(PostFilter):
    """A full-text search: ``text`` is free user input (any string is safe)."""

    text: str = ""
    sort: Literal["relevance", "time", "time_asc"] = "relevance"
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=20, ge=0, le=1000)
    facets: list[FacetName] = Field(default_factory=list)
    #: Highlighted snippets on the hits (callers that make their own, from masked text,
    #: turn them off).
    snippets: bool = True


class SearchHit(BaseModel):
    post: Post
    score: float | None = None
    snippet: str = ""


Facets = dict[str, list[tuple[str, int]]]


class SearchResult(BaseModel):
    total: int
    hits: list[SearchHit]
    facets: Facets = Field(default_factory=dict)


IncidentSort = Literal["heat", "last_seen", "rumor", "size"]
#: A value of the incident list's tier filter: a tier, or ``none`` for never alerted.
TierFilter = Literal["I", "II", "III", "IV", "none"]


class IncidentQuery(BaseModel):
    """One page of incidents, filtered, sorted and counted by the store.

    Every given condition must hold. ``seen_since``: last seen at or after (an incident
    never seen is left out); ``seen_until``: first seen before. ``min_rumor_score`` is
    inclusive and ``below_rumor_score`` exclusive; both leave unscored incidents out, and
    ``rumor_scored=False`` keeps only those. ``text``: a case-insensitive substring of the
    title or of one keyword. ``ids``: only these incidents (an empty list matches none);
    ``exclude_ids``: none of these. ``tiers``: the incident's current tier (响应级别 of
    its current alert: the open one, else the latest; ``none``: never alerted) is one of
    these; the store keeps it beside the incident, written with every alert change.
    Orders: ``heat`` highest first; ``last_seen``
    and ``rumor`` latest/highest first with unknown values last; ``size`` most posts
    first; ties by id.
    """

    model_config = ConfigDict(extra="forbid")

    seen_since: AwareTime | None = None
    seen_until: AwareTime | None = None
    district: str | None = None
    category: str | None = None
    hot: bool | None = None
    min_rumor_score: float | None = Field(default=None, ge=0, le=1)
    below_rumor_score: float | None = Field(default=None, ge=0, le=1)
    rumor_scored: bool | None = None
    text: str = ""
    ids: list[str] | None = None
    exclude_ids: list[str] | None = None
    tiers: list[TierFilter] = Field(default_factory=list, max_length=5)
    sort: IncidentSort = "heat"
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=20, ge=0, le=1000)


class IncidentPage(BaseModel):
    """The incidents of one page, how many match in all, and the current tier of each
    incident of the page that was ever alerted (absent: never alerted)."""

    total: int
    incidents: list[Incident]
    tiers: dict[str, Tier] = Field(default_factory=dict)


class UpsertResult(BaseModel):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = Field(default_factory=list)

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed.extend(other.failed)
        return self


class PreparedPost(NamedTuple):
    """A post with the CPU-heavy work done (JSON document, index tokens, filter columns).

    Preparing is pure, so bulk imports do it in worker processes and hand the store
    ready rows; a backend merges with a stored copy only when the id already exists.
    A named tuple, because plain tuples cross process boundaries several times faster.
    """

    id: str
    source: str
    kind: str
    created_at: int
    author_id: str | None
    root_id: str | None
    incident_id: str | None
    rumor_score: float | None
    region_tags: tuple[str, ...]
    doc: bytes
    tokens: str
    fetched_at: int

    @classmethod
    def of(cls, post: Post) -> PreparedPost:
        return cls(
            post.id,
            post.source,
            post.kind,
            int(post.created_at.timestamp()),
            post.author.id,
            post.root_id,
            post.incident_id,
            post.rumor_score,
            tuple(post.region_tags),
            post.model_dump_json(exclude_none=True).encode(),
            index_text(post.title, post.text),
            int(post.fetched_at.timestamp()),
        )

    def post(self) -> Post:
        return Post.model_validate_json(self.doc)


class Store(abc.ABC):
    """Posts, metric snapshots and versioned records, with Chinese full-text search.

    Post upserts are idempotent: the same id twice gives one post; counts from the copy
    fetched later win; fields the newer copy lacks keep their stored values; region tags
    are merged. Records (incidents, alerts, bulletins...) use optimistic concurrency.
    """

    backend: str = "abstract"

    # -- posts ---------------------------------------------------------------------------
    @abc.abstractmethod
    def upsert_posts(self, posts: Iterable[Post]) -> UpsertResult: ...

    def upsert_prepared(self, items: Iterable[PreparedPost]) -> UpsertResult:
        """Upsert posts prepared elsewhere (see :class:`PreparedPost`)."""
        return self.upsert_posts(item.post() for item in items)

    @contextlib.contextmanager
    def bulk_load(self, on_index: Callable[[int, int], None] | None = None) -> Iterator[bool]:
        """Around a large import: a backend may defer index upkeep while it runs (SQLite
        does on an empty store) and catch up on leaving, calling ``on_index(done, total)``
        as it does. Yields whether it deferred; searches stay correct either way."""
        yield False

    @abc.abstractmethod
    def get_post(self, post_id: str) -> Post | None: ...

    @abc.abstractmethod
    def get_posts(self, post_ids: Iterable[str]) -> list[Post]: ...

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abc.abstractmethod
    def iter_posts(
        self, flt: PostFilter | None = None, *, text: str = "", order: str = "time_asc"
    ) -> Iterator[Post]:
        """Stream matching posts in time order with bounded memory (for export and replay)."""

    @abc.abstractmethod
    def count_posts(self, flt: PostFilter | None = None) -> int: ...

    @abc.abstractmethod
    def set_post_fields(self, updates: dict[str, dict[str, Any]]) -> int:
        """Set derived fields (``incident_id``, ``rumor_score``, ``region_tags``,
        ``near_duplicate_of``) on stored posts, by id. Returns the number updated."""

    # -- metric snapshots ----------------------------------------------------------------
    @abc.abstractmethod
    def add_snapshots(self, snapshots: Iterable[MetricSnapshot]) -> int:
        """Append snapshots; the same (post, observed_at) twice is stored once."""

    @abc.abstractmethod
    def get_snapshots(
        self, post_ids: Iterable[str], since: datetime | None = None
    ) -> list[MetricSnapshot]: ...

    # -- versioned records ---------------------------------------------------------------
    @abc.abstractmethod
    def save_record(self, record: R) -> R:
        """Insert (``version == 0``) or update (version equal to the stored one).

        Returns the saved copy with ``version`` incremented; raises :class:`ConflictError`
        when the stored version differs (someone else saved in between).
        """

    def save_records(self, records: Sequence[Record]) -> list[Record]:
        """Save several records as one change: all of them or none (alert + outbox).

        Every record is checked as :meth:`save_record` checks it. The SQLite store does this
        in one write transaction. This default (used by Elasticsearch, which has no
        multi-document transaction) saves one after another and stops at the first
        :class:`ConflictError`: best-effort, records saved before it stay saved, so callers
        write the record whose change must not be lost (the outbox message) first.
        """
        return [self.save_record(record) for record in records]

    @abc.abstractmethod
    def get_record(self, cls: type[R], record_id: str) -> R | None: ...

    @abc.abstractmethod
    def list_records(
        self, cls: type[R], *, limit: int = 100, offset: int = 0, **equals: Any
    ) -> list[R]:
        """Records of one kind, newest update first, filtered by top-level field equality."""

    @abc.abstractmethod
    def count_records(self, cls: type[R]) -> int: ...

    @abc.abstractmethod
    def list_incidents(self, query: IncidentQuery) -> IncidentPage:
        """One page of incidents and the number matching, filtered and sorted by the
        backend from indexed fields (no record outside the page is read whole)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Around a unit of work that must be all or nothing (a replay interval with its
        checkpoint, one detection pass): on SQLite, one write transaction, so a process
        killed inside leaves none of it, and reads inside see its writes. This default
        (Elasticsearch, which has no multi-document transaction) writes as it goes:
        best-effort, a unit cut short leaves what it wrote so far."""
        yield

    # -- key/value state (crawl cursors, model versions, detector state) ------------------
    @abc.abstractmethod
    def get_state(self, key: str) -> Any | None: ...

    @abc.abstractmethod
    def set_state(self, key: str, value: Any) -> None: ...

    def update_state(self, key: str, change: Callable[[Any | None], Any | None]) -> Any | None:
        """Read-modify-write one state value atomically, across processes: ``change`` gets
        the stored value (``None`` if unset) and returns the new one (``None`` deletes the
        key); returns what was stored. ``change`` may run more than once (a backend retries
        it when another writer came in between), so it must be a pure function of its
        argument. SQLite: one write transaction; Elasticsearch: ``if_seq_no`` with retries.
        This default (a backend without either) is read then write, not atomic."""
        value = change(self.get_state(key))
        self.set_state(key, value)
        return value

    # -- overview ------------------------------------------------------------------------
    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """``{"posts": n, "snapshots": n, "incidents": n, "alerts": n, "bulletins": n,
        "per_source": {source: n}}``"""

    def change_token(self) -> object | None:
        """A cheap value that differs after any write committed since it was last taken
        (by this process or another), so callers may cache answers until it changes;
        ``None`` when the backend cannot tell (then nothing may be cached on it)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
