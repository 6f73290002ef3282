"""Post search and export for the API: filters, facets, highlighting, masking."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.errors import field_error
from api.security import mask_personal
from api.services.cache import AnswerCache
from models import Post, window_problem
from store import PostFilter, SearchQuery, Store
from store.highlight import query_terms, snippet

RumorBand = Literal["low", "medium", "high", "unscored"]
#: Rumor bands: [0, 0.5), [0.5, 0.8), [0.8, 1] (0.8 ≈ 8 in 10 are rumors, docs/rumor.md);
#: the lower edges of 中 and 高, used by every band filter and label.
BAND_MEDIUM, BAND_HIGH = 0.5, 0.8
BANDS: dict[str, tuple[float, float]] = {
    "low": (0.0, BAND_MEDIUM - 0.0001),
    "medium": (BAND_MEDIUM, BAND_HIGH - 0.0001),
    "high": (BAND_HIGH, 1.0),
}
BAND_LABELS = {"low": "低", "medium": "中", "high": "高", "unscored": "未评分"}
MAX_QUERY_CHARS = 200


def band_of(score: float | None) -> str:
    if score is None:
        return "unscored"
    return "high" if score >= BAND_HIGH else "medium" if score >= BAND_MEDIUM else "low"


class PostSearchParams(BaseModel):
    """Query parameters of ``GET /api/v1/posts`` (and the export)."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=MAX_QUERY_CHARS, description="全文检索词")
    since: datetime | None = None
    until: datetime | None = None
    source: list[str] = Field(default_factory=list, max_length=50)
    region: list[str] = Field(default_factory=list, max_length=50)
    kind: list[str] = Field(default_factory=list, max_length=10)
    incident: str | None = Field(default=None, max_length=200)
    rumor: RumorBand | None = None
    sort: Literal["relevance", "time", "time_asc"] = "relevance"
    page: int = Field(default=1, ge=1, le=500)
    per_page: int = Field(default=20, ge=1, le=100)
    facets: list[Literal["day", "hour", "source", "region"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _window(self) -> PostSearchParams:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                from models import ensure_aware

                setattr(self, name, ensure_aware(value))
        if (problem := window_problem(self.since, self.until)) is not None:
            raise field_error("since", problem)
        if any(len(s) > 100 for s in (*self.source, *self.region, *self.kind)):
            name = next(
                n
                for n in ("source", "region", "kind")
                if any(len(v) > 100 for v in getattr(self, n))
            )
            raise field_error(name, f"{name}：每个取值最多 100 个字符")
        return self

    def post_filter(self) -> PostFilter:
        lo = hi = None
        if self.rumor in BANDS:
            lo, hi = BANDS[self.rumor]
        return PostFilter(
            since=self.since,
            until=self.until,
            sources=self.source,
            regions=self.region,
            kinds=self.kind,
            incident_ids=[self.incident] if self.incident else [],
            min_rumor_score=lo,
            max_rumor_score=hi,
        )


class ExportParams(PostSearchParams):
    """``GET /api/v1/posts/export``: the search filters plus the file format."""

    format: Literal["csv", "jsonl"] = "csv"


class PostPublic(BaseModel):
    """A post as the API shows it: phone and ID-card numbers masked."""

    id: str
    source: str
    kind: str
    url: str | None
    author_id: str | None
    author_name: str | None
    author_verified: bool
    title: str | None
    text: str
    created_at: datetime
    reposts: int
    comments: int
    likes: int
    region_tags: list[str]
    incident_id: str | None
    rumor_score: float | None
    rumor_band: str
    snippet: str = ""

    @classmethod
    def of(cls, post: Post, terms: list[str] | None = None) -> PostPublic:
        text = mask_personal(post.text) or ""
        return cls(
            id=post.id,
            source=post.source,
            kind=post.kind,
            url=post.url,
            author_id=post.author.id,
            author_name=mask_personal(post.author.name),
            author_verified=post.author.verified,
            title=mask_personal(post.title),
            text=text,
            created_at=post.created_at,
            reposts=post.reposts,
            comments=post.comments,
            likes=post.likes,
            region_tags=post.region_tags,
            incident_id=post.incident_id,
            rumor_score=post.rumor_score,
            rumor_band=band_of(post.rumor_score),
            snippet=snippet(text or (mask_personal(post.title) or ""), terms or []),
        )


class FacetValue(BaseModel):
    value: str
    count: int


class PostsPublic(BaseModel):
    data: list[PostPublic]
    count: int
    page: int
    per_page: int
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)


def search_posts_json(
    store: Store, params: PostSearchParams, cache: AnswerCache[Any] | None = None
) -> bytes:
    """:func:`search_posts` as the JSON the API sends, reused from ``cache`` while the
    store is unchanged (the same question asked again costs no store query)."""

    def compute() -> bytes:
        return search_posts(store, params).model_dump_json().encode()

    if cache is None:
        return compute()
    return cache.get(store, _json_key(params), compute)


def kept_search_json(
    store: Store, params: PostSearchParams, cache: AnswerCache[Any] | None
) -> bytes | None:
    """The kept JSON answer of this search if there is a fresh one (never waits)."""
    return None if cache is None else cache.peek(store, _json_key(params))


def _json_key(params: PostSearchParams) -> str:
    return "json:" + params.model_dump_json()


def search_posts_cached(
    store: Store, params: PostSearchParams, cache: AnswerCache[Any] | None = None
) -> PostsPublic:
    """:func:`search_posts` reused from ``cache`` like :func:`search_posts_json` (the
    search page); the answer is shared, so callers must not change it."""
    if cache is None:
        return search_posts(store, params)
    key = "model:" + params.model_dump_json()
    return cache.get(store, key, lambda: search_posts(store, params))


def search_posts(store: Store, params: PostSearchParams) -> PostsPublic:
    flt = params.post_filter()
    sort = params.sort if params.q.strip() or params.sort != "relevance" else "time"
    query = SearchQuery(
        **flt.model_dump(),
        text=params.q,
        sort=sort,
        offset=(params.page - 1) * params.per_page,
        limit=params.per_page,
        facets=params.facets,
        snippets=False,  # made below from the masked text
    )
    result = store.search(query)
    terms = query_terms(params.q) if params.q.strip() else []
    return PostsPublic(
        data=[PostPublic.of(hit.post, terms) for hit in result.hits],
        count=result.total,
        page=params.page,
        per_page=params.per_page,
        # Built without validation: the store's (str, int) pairs, hundreds for a day facet.
        facets={
            name: [FacetValue.model_construct(value=v, count=n) for v, n in values]
            for name, values in result.facets.items()
        },
    )


EXPORT_COLUMNS = (
    "id",
    "source",
    "kind",
    "created_at",
    "author_name",
    "title",
    "text",
    "url",
    "reposts",
    "comments",
    "likes",
    "region_tags",
    "incident_id",
    "rumor_score",
)


def _export_row(post: Post) -> dict[str, object]:
    pub = PostPublic.of(post)
    row = pub.model_dump(mode="json", include=set(EXPORT_COLUMNS))
    row["region_tags"] = "、".join(pub.region_tags)
    return {c: row.get(c) for c in EXPORT_COLUMNS}


def export_posts(
    store: Store, params: PostSearchParams, fmt: Literal["csv", "jsonl"], max_rows: int
) -> Iterator[bytes]:
    """Stream matching posts (masked) oldest first, with bounded memory."""
    posts = store.iter_posts(params.post_filter(), text=params.q)
    try:
        yield from _rows(posts, fmt, max_rows)
    finally:
        close = getattr(posts, "close", None)
        if close:
            close()


def _rows(posts: Iterator[Post], fmt: str, max_rows: int) -> Iterator[bytes]:
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS)
        # BOM: spreadsheet programs on Chinese Windows read UTF-8 CSV correctly with it.
        yield "\ufeff".encode()
        writer.writeheader()
    for n, post in enumerate(itertools.islice(posts, max_rows), start=1):
        row = _export_row(post)
        if fmt == "csv":
            writer.writerow(row)
            if n % 200 == 0:
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()
        else:
            yield orjson.dumps(row) + b"\n"
    if fmt == "csv":
        yield buf.getvalue().encode()
