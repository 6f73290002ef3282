"""Incidents for the API: filtered lists and the detail page's figures.

Store queries per request are bounded and do not grow with the rows shown, nor with the
alerts stored: the list is one :meth:`store.Store.list_incidents` call (filtered, ordered,
counted and paged by the store, the tier filter and column included: the store keeps each
incident's current tier; SQLite: a count and the page's rows); the detail is the record,
its alerts, one faceted search (hourly series), one batch read of source posts, and one
scan of the top rumor thread's reposts for its explanation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.security import mask_personal
from api.services.alerts_policy import tier_name
from api.services.posts import BAND_LABELS, BANDS, PostPublic, band_of
from models import Incident, Post, Tier, now_utc
from store import PostFilter, SearchQuery, Store
from tingfeng.services.alerts import alert_for_incident
from tingfeng.services.incidents import (  # noqa: F401 - the API's names for them
    MAX_LIST_WINDOW,
    IncidentFilters,
    incident_query,
)

log = logging.getLogger(__name__)

#: Source posts read for a detail page (top posts, claims, timeline).
DETAIL_ROOTS = 300
#: Reposts read to explain the rumor score of the top thread.
EXPLAIN_REPOSTS = 2000
SPARK_WINDOWS = ("6h", "1h", "15m")


class IncidentPublic(BaseModel):
    id: str
    version: int
    title: str
    keywords: list[str]
    district: str | None
    category: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    post_count: int
    heat: float
    velocity: dict[str, float]
    sparkline: list[float]
    burst: bool
    virality: float | None
    hot: bool
    hot_since: datetime | None
    hot_reasons: list[str]
    rumor_score: float | None
    rumor_band: str
    rumor_band_label: str
    tier: Tier | None = Field(description="响应级别 of the current alert; null if never alerted")
    tier_name: str | None = Field(description="Ⅰ级…Ⅳ级")
    status: str
    updated_at: datetime

    @classmethod
    def of(cls, inc: Incident, tier: Tier | None = None) -> IncidentPublic:
        band = band_of(inc.rumor_score)
        return cls(
            id=inc.id,
            version=inc.version,
            title=mask_personal(inc.title) or "",
            keywords=inc.keywords,
            district=inc.district,
            category=inc.category,
            first_seen=inc.first_seen,
            last_seen=inc.last_seen,
            post_count=inc.post_count,
            heat=round(inc.heat, 2),
            velocity=inc.velocity,
            sparkline=[inc.velocity.get(f"posts_per_h_{w}", 0.0) for w in SPARK_WINDOWS],
            burst=inc.burst,
            virality=inc.virality,
            hot=inc.hot,
            hot_since=inc.hot_since,
            hot_reasons=[str(r) for r in inc.extra.get("hot_reasons") or []],
            rumor_score=inc.rumor_score,
            rumor_band=band,
            rumor_band_label=BAND_LABELS[band],
            tier=tier,
            tier_name=tier_name(tier) if tier else None,
            status=inc.status,
            updated_at=inc.updated_at,
        )


class IncidentsPublic(BaseModel):
    data: list[IncidentPublic]
    count: int
    page: int
    per_page: int


@dataclass
class _Kept:
    token: object
    at: float
    value: Any


class IncidentCache:
    """Answers of the incident list (each page of each filter), kept ``ttl`` seconds.

    Twenty dashboards poll the same few pages; a second or two of staleness is invisible
    next to the poll interval, so an answer is served for its TTL even if a write came in
    meanwhile. Past the TTL it is kept for another TTL when the store says nothing was
    written since it was computed (:meth:`store.Store.change_token`), else recomputed
    (one store query pair: cheap, so in the request). The TTL runs on the monotonic
    clock (it is a cache, not a domain time); 0 disables it.
    """

    MAX_ENTRIES = 256

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: str) -> Any | None:
        """The answer for ``key`` if within its TTL (no store access, never waits)."""
        if self.ttl <= 0:
            return None
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or self.clock() - kept.at >= self.ttl:
                return None
            self._kept.move_to_end(key)
            return kept.value

    def get(self, store: Store, key: str, compute: Callable[[], Any]) -> Any:
        if self.ttl <= 0:
            return compute()
        value = self.peek(key)
        if value is not None:
            return value
        token = store.change_token()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and token is not None and kept.token == token:
                kept.at = self.clock()  # nothing written since: keep it another TTL
                return kept.value
        value = compute()  # token taken before: a write during compute re-reads next time
        with self._lock:
            self._kept[key] = _Kept(token, self.clock(), value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.MAX_ENTRIES:
                self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def _page(store: Store, f: IncidentFilters) -> IncidentsPublic:
    page = store.list_incidents(incident_query(f))
    return IncidentsPublic(
        data=[IncidentPublic.of(r, page.tiers.get(r.id)) for r in page.incidents],
        count=page.total,
        page=f.page,
        per_page=f.per_page,
    )


def list_incidents(
    store: Store, f: IncidentFilters, cache: IncidentCache | None = None
) -> IncidentsPublic:
    """One page of the list: filtered, ordered, counted and paged by the store."""
    if cache is None:
        return _page(store, f)
    return cache.get(store, "model:" + f.model_dump_json(), lambda: _page(store, f))


def list_incidents_json(
    store: Store, f: IncidentFilters, cache: IncidentCache | None = None
) -> bytes:
    """:func:`list_incidents` as the JSON the API sends (kept as JSON by the cache)."""

    def compute() -> bytes:
        return _page(store, f).model_dump_json().encode()

    if cache is None:
        return compute()
    return cache.get(store, "json:" + f.model_dump_json(), compute)


def kept_incidents_json(f: IncidentFilters, cache: IncidentCache | None) -> bytes | None:
    """This page's JSON if the cache holds it within its TTL (never waits, no store)."""
    return cache.peek("json:" + f.model_dump_json()) if cache is not None else None


class SeriesPoint(BaseModel):
    hour: str
    posts: int


class TimelineEvent(BaseModel):
    at: datetime
    kind: Literal["first_post", "post", "hot", "peak", "last_seen"]
    text: str
    post_id: str | None = None


class Claim(BaseModel):
    text: str
    posts: int
    reposts: int
    first_seen: datetime
    post_ids: list[str]


class Reason(BaseModel):
    feature: str
    text: str
    direction: str
    weight: float


class RumorExplanation(BaseModel):
    post_id: str
    probability: float
    missing: list[str]
    toward_rumor: list[Reason]
    toward_non_rumor: list[Reason]


class IncidentDetail(BaseModel):
    incident: IncidentPublic
    series: list[SeriesPoint]
    timeline: list[TimelineEvent]
    top_posts: list[PostPublic]
    claims: list[Claim]
    rumor: RumorExplanation | None
    rumor_note: str | None = None


def _spread(post: Post) -> int:
    return post.reposts + post.comments + post.likes


def _claims(roots: list[Post], limit: int = 8) -> list[Claim]:
    """Group the incident's source posts by the claim they make (nlp.claims similarity)."""
    from nlp.claims import ClaimIndex, ClaimItem

    texts = [p for p in roots if (p.text or p.title or "").strip()]
    index = ClaimIndex()
    index.add(ClaimItem(p.id, p.text or p.title or "", p.created_at, "post") for p in texts)
    by_id = {p.id: p for p in texts}
    taken: set[str] = set()
    claims: list[Claim] = []
    for post in sorted(texts, key=lambda p: (-_spread(p), p.created_at)):
        if post.id in taken:
            continue
        group = [post.id]
        taken.add(post.id)
        for match in index.match(post.text or post.title or "", top=len(texts)):
            if match.id not in taken:
                taken.add(match.id)
                group.append(match.id)
        members = [by_id[i] for i in group]
        claims.append(
            Claim(
                text=mask_personal(post.text or post.title or "") or "",
                posts=len(members),
                reposts=sum(m.reposts for m in members),
                first_seen=min(m.created_at for m in members),
                post_ids=group[:20],
            )
        )
    claims.sort(key=lambda c: (-c.posts, -c.reposts, c.first_seen))
    return claims[:limit]


_MODEL_LOCK = threading.Lock()


def rumor_model(model_path: str | None = None):
    """The rumor model, loaded once per process (several seconds); serialised so a warm-up
    thread and the first incident page do not load two copies."""
    from nlp.rumor.scoring import cached_model

    with _MODEL_LOCK:
        return cached_model(model_path)


def warm_up(model_path: str | None = None) -> None:
    """Load the rumor model and run one explanation, so the first incident page is fast."""
    from nlp.rumor.explain import explain
    from nlp.rumor.features import RumorInput

    try:
        model = rumor_model(model_path)
        sample = Post(source="warmup", native_id="1", text="网传某地发生爆炸", created_at=now_utc())
        explain(model, RumorInput.from_posts(sample, []))
    except Exception as exc:  # the page says the model is unavailable; serving goes on
        log.warning("rumor model warm-up failed: %s", exc)


#: Explanations by (post id, its score, reposts seen): the same thread is not re-read and
#: re-explained for every visitor of a busy incident page.
_EXPLAINED: OrderedDict[tuple[str, float | None, int, int], RumorExplanation] = OrderedDict()
_EXPLAINED_MAX = 256


def _explain(store: Store, roots: list[Post], model_path: str | None) -> RumorExplanation | None:
    from nlp.rumor.explain import explain
    from nlp.rumor.features import RumorInput

    scored = [p for p in roots if p.rumor_score is not None]
    if not scored:
        return None
    top = max(scored, key=lambda p: (p.rumor_score or 0, _spread(p)))
    key = (top.id, top.rumor_score, top.reposts, top.comments)
    with _MODEL_LOCK:
        cached = _EXPLAINED.get(key)
    if cached is not None:
        return cached
    reposts: list[Post] = []
    posts = store.iter_posts(PostFilter(root_ids=[top.id]))
    try:
        for post in posts:
            if post.id != top.id:
                reposts.append(post)
            if len(reposts) >= EXPLAIN_REPOSTS:
                break
    finally:
        close = getattr(posts, "close", None)
        if close:
            close()
    model = rumor_model(model_path)
    result = explain(model, RumorInput.from_posts(top, reposts))
    result["missing"] = [MISSING_LABELS.get(m, m) for m in result["missing"]]
    explanation = RumorExplanation(post_id=top.id, **result)
    with _MODEL_LOCK:
        _EXPLAINED[key] = explanation
        while len(_EXPLAINED) > _EXPLAINED_MAX:
            _EXPLAINED.popitem(last=False)
    return explanation


#: Longest series filled hour by hour (30 days); longer ones keep only hours with posts.
MAX_FILLED_HOURS = 720
MISSING_LABELS = {
    "text": "原文",
    "author": "作者信息",
    "account age": "账号注册时间",
    "followers": "粉丝数",
    "reposts": "转发",
    "created_at": "发布时间",
}


def _filled(hours: list[tuple[str, int]]) -> list[SeriesPoint]:
    """Hourly counts with the silent hours as zeros, and one empty hour on each side, so a
    one-hour incident still draws as a rise and fall."""
    if not hours:
        return []
    counts = dict(hours)
    start = datetime.fromisoformat(hours[0][0]) - timedelta(hours=1)
    end = datetime.fromisoformat(hours[-1][0]) + timedelta(hours=1)
    span = int((end - start).total_seconds() // 3600) + 1
    if span > MAX_FILLED_HOURS:
        return [SeriesPoint(hour=h, posts=n) for h, n in hours]
    out = []
    for i in range(span):
        key = (start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:00")
        out.append(SeriesPoint(hour=key, posts=counts.get(key, 0)))
    return out


def incident_detail(
    store: Store, inc: Incident, *, model_path: str | None = None
) -> IncidentDetail:
    alert = alert_for_incident(store, inc.id)
    result = store.search(SearchQuery(incident_ids=[inc.id], limit=0, facets=["hour"], sort="time"))
    series = _filled(result.facets.get("hour", []))
    root_ids = inc.root_ids[-DETAIL_ROOTS:]
    roots = sorted(store.get_posts(root_ids), key=lambda p: p.created_at)
    timeline: list[TimelineEvent] = []
    for i, post in enumerate(roots[:12]):
        timeline.append(
            TimelineEvent(
                at=post.created_at,
                kind="first_post" if i == 0 else "post",
                text=(mask_personal(post.title or post.text) or "")[:120],
                post_id=post.id,
            )
        )
    if series:
        peak = max(series, key=lambda s: s.posts)
        from models import SHANGHAI

        peak_at = datetime.fromisoformat(peak.hour).replace(tzinfo=SHANGHAI)
        timeline.append(
            TimelineEvent(at=peak_at, kind="peak", text=f"传播高峰：{peak.posts} 帖/小时")
        )
    if inc.hot_since:
        reasons = "；".join(str(r) for r in inc.extra.get("hot_reasons") or [])
        timeline.append(
            TimelineEvent(
                at=inc.hot_since, kind="hot", text=f"列为热点{('：' + reasons) if reasons else ''}"
            )
        )
    if inc.last_seen:
        timeline.append(TimelineEvent(at=inc.last_seen, kind="last_seen", text="最近一帖"))
    timeline.sort(key=lambda e: e.at)
    top_posts = [PostPublic.of(p) for p in sorted(roots, key=lambda p: -_spread(p))[:10]]
    rumor = None
    note = None
    try:
        rumor = _explain(store, roots, model_path)
        if rumor is None:
            note = "尚无谣言评分（源帖未评分）"
    except Exception as exc:  # a broken model must not take the incident page down
        log.warning("rumor explanation unavailable for %s: %s", inc.id, exc)
        note = "谣言模型不可用，无法给出理由"
    return IncidentDetail(
        incident=IncidentPublic.of(inc, alert.tier if alert else None),
        series=series,
        timeline=timeline,
        top_posts=top_posts,
        claims=_claims(roots),
        rumor=rumor,
        rumor_note=note,
    )


__all__ = ["BANDS", "IncidentDetail", "IncidentFilters", "IncidentsPublic", "list_incidents"]
