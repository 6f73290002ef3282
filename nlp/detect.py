"""Hot-topic detection: incidents, velocity, heat, bursts and virality in one pass.

:class:`HotTopics` is the live pipeline without storage: posts go in (:meth:`ingest`),
figures come out (:meth:`evaluate`). :func:`run_detect` is one scheduled pass against a
store: load the detector state, assign posts written since the last pass (minus a late
margin), evaluate every active incident, save the incidents and the state.

An incident is *hot* by :func:`nlp.hot_decision.hot_reasons`: a burst (its last-hour
posts improbable under its locality's own expected rate, :class:`nlp.heat.SpikeDetector`)
told by several source posts written within that hour, or a single post's burst that the
virality model confirms, or virality alone, or size. It stays hot while a reason holds and
for ``hot_cooldown`` after. Every change of hot state, heat band, rumor band and
membership is appended to the incident's :class:`models.records.IncidentHistory`.

All settings come from :class:`nlp.hot_config.HotConfigSection` (the ``hot:`` section).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from models import Incident, Post, now_utc
from models.records import (
    HEAT_BANDS,
    RUMOR_BANDS,
    IncidentChange,
    IncidentHistory,
    band_of,
)
from nlp.heat import SpikeDetector, heat_score
from nlp.hot_config import HotConfigSection
from nlp.hot_decision import HotSignals, hot_reasons
from nlp.incidents import (
    Assignment,
    IncidentArchive,
    IncidentCluster,
    IncidentEngine,
    epoch_to_dt,
    load_categories,
)
from nlp.spread import count_between, velocity
from nlp.virality import ViralityModel, load_model
from store import ConflictError, PostFilter, Store

log = logging.getLogger(__name__)

STATE_KEY = "hot.detector"
#: The two cursors of that state alone (small: a pass reads it to size its backlog before
#: it loads the whole state).
CURSOR_KEY = "hot.detector.cursors"
#: Key prefix of the states of incidents that left the live detector (see StoreArchive).
ARCHIVE_KEY = "hot.archive."
#: A thread is rescored for rumor once it has grown by this factor since its last score:
#: every new post while it is small, every tenth of its size once it is large (a thread
#: of 20,000 reposts is not reloaded every minute for one more repost).
RESCORE_GROWTH = 1.1
DEFAULT_LOCALITY = "全市"


@dataclass
class _HotState:
    hot: bool = False
    since: float | None = None
    last_reason_at: float | None = None
    reasons: list[str] = field(default_factory=list)
    notified: int = 0


@dataclass
class Evaluation:
    """Figures of one incident at one moment, ready to become an :class:`Incident` record."""

    cluster: IncidentCluster
    at: float
    velocity: dict[str, float]
    heat: float
    burst: bool
    burst_reason: str
    burst_ratio: float | None
    burst_figures: dict[str, float | int]
    virality: float | None
    hot: bool
    hot_since: float | None
    reasons: list[str]
    notify: bool
    rumor_score: float | None = None

    def to_incident(self, base: Incident | None = None) -> Incident:
        """The record of this evaluation, merged into ``base`` (the stored record): what
        the record had is kept (root posts, counts, first seen, title, keywords), so a
        cluster rebuilt with less than the record knew never shrinks it."""
        c = self.cluster
        roots = list(base.root_ids) if base else []
        known = set(roots)
        roots += [r for r in c.root_ids if r not in known]
        first = epoch_to_dt(c.first_seen)
        last = epoch_to_dt(c.last_seen)
        if base is not None:
            if base.first_seen is not None and (first is None or base.first_seen < first):
                first = base.first_seen
            if base.last_seen is not None and (last is None or base.last_seen > last):
                last = base.last_seen
        fields = {
            "title": c.title or (base.title if base else ""),
            "keywords": c.keywords() or (list(base.keywords) if base else []),
            "district": c.district or (base.district if base else None),
            "category": c.category or (base.category if base else None),
            "first_seen": first,
            "last_seen": last,
            "root_ids": roots,
            "post_count": max(len(c.stats.times), base.post_count if base else 0),
            "heat": self.heat,
            "velocity": self.velocity,
            "burst": self.burst,
            "virality": self.virality,
            "hot": self.hot,
            "hot_since": epoch_to_dt(self.hot_since),
            "rumor_score": self.rumor_score
            if self.rumor_score is not None
            else (base.rumor_score if base else None),
        }
        extra = dict(base.extra) if base else {}
        extra.update(
            {
                "evaluated_at": epoch_to_dt(self.at).isoformat() if self.at else None,
                "burst_reason": self.burst_reason,
                "burst_ratio": self.burst_ratio,
                "burst_figures": self.burst_figures,
                "hot_reasons": self.reasons,
                "reach": int(self.velocity.get("reach", 0)),
                "unique_authors": int(self.velocity.get("unique_authors", 0)),
                "verified": int(self.velocity.get("verified", 0)),
            }
        )
        if self.hot and "first_hot_at" not in extra:
            extra["first_hot_at"] = epoch_to_dt(self.hot_since or self.at).isoformat()
            extra["first_hot_reasons"] = list(self.reasons)
        fields["extra"] = extra
        if base is None:
            return Incident(id=c.id, **fields)
        return base.model_copy(update=fields)

    def figures(self) -> dict:
        """The numbers behind a change, for the incident history."""
        return {
            "heat": self.heat,
            "posts": len(self.cluster.stats.times),
            "posts_per_h_1h": round(self.velocity.get("posts_per_h_1h", 0.0), 2),
            "unique_authors": int(self.velocity.get("unique_authors", 0)),
            "burst": self.burst,
            **{f"burst_{k}": v for k, v in self.burst_figures.items()},
            "virality": self.virality,
            "rumor_score": self.rumor_score,
        }

    def changes(self, base: Incident | None) -> list[IncidentChange]:
        """What changed since the stored record ``base`` (hot state, bands, membership)."""
        at = epoch_to_dt(self.at)
        assert at is not None
        out: list[IncidentChange] = []
        figures = self.figures()
        posts = len(self.cluster.stats.times)
        if base is None:
            out.append(
                IncidentChange(
                    at=epoch_to_dt(self.cluster.first_seen) or at,
                    change="opened",
                    new=self.cluster.title,
                    reason="新事件",
                    figures=figures,
                )
            )
        old_hot = base.hot if base else False
        if self.hot != old_hot:
            when = epoch_to_dt(self.hot_since) if self.hot and self.hot_since else at
            reason = "；".join(self.reasons) if self.hot else "热点信号已回落"
            out.append(
                IncidentChange(
                    at=when or at,
                    change="hot",
                    old=old_hot,
                    new=self.hot,
                    reason=reason,
                    figures=figures,
                )
            )
        old_band = band_of(base.heat, HEAT_BANDS) if base else None
        new_band = band_of(self.heat, HEAT_BANDS)
        if new_band != old_band:
            out.append(
                IncidentChange(
                    at=at,
                    change="heat_band",
                    old=old_band,
                    new=new_band,
                    reason=f"热度 {self.heat:.1f}",
                    figures=figures,
                )
            )
        rumor = (
            self.rumor_score
            if self.rumor_score is not None
            else (base.rumor_score if base else None)
        )
        old_rumor = band_of(base.rumor_score, RUMOR_BANDS) if base else None
        new_rumor = band_of(rumor, RUMOR_BANDS)
        if new_rumor != old_rumor:
            out.append(
                IncidentChange(
                    at=at,
                    change="rumor_band",
                    old=old_rumor,
                    new=new_rumor,
                    reason=f"谣言评分 {rumor:.2f}" if rumor is not None else "谣言评分未知",
                    figures=figures,
                )
            )
        old_posts = base.post_count if base else 0
        if posts > old_posts:
            known = set(base.root_ids) if base else set()
            roots = [r for r in self.cluster.root_ids if r not in known]
            out.append(
                IncidentChange(
                    at=at,
                    change="membership",
                    old=old_posts,
                    new=posts,
                    reason=f"新增 {posts - old_posts} 帖（其中源帖 {len(roots)} 条）",
                    figures=figures | {"roots_added": roots[:20]},
                )
            )
        return out


class HotTopics:
    """The live hot-topic pipeline (pure: no store, no clock)."""

    def __init__(
        self,
        config: HotConfigSection | None = None,
        model: ViralityModel | None = None,
        *,
        archive: IncidentArchive | None = None,
        rumor_model: str | None = None,
    ):
        self.config = config or HotConfigSection()
        cats = self.config.categories
        lexicon = load_categories(str(cats) if cats is not None else None)
        self.engine = IncidentEngine(self.config.cluster, lexicon, archive)
        #: rumor model file (``nlp.rumor_model``), None for the shipped one
        self.rumor_model = rumor_model
        self.spike = SpikeDetector(self.config.burst)
        vm = self.config.virality_model
        self.model = model if model is not None else load_model(str(vm) if vm else None)
        self.hot: dict[str, _HotState] = {}
        #: signature of the figures last written per incident (skip unchanged saves)
        self.saved: dict[str, list] = {}
        self._vir_cache: dict[str, tuple[tuple, float | None]] = {}
        #: latest post time seen (epoch seconds): the cursor of the next store pass
        self.cursor: float | None = None
        #: wall-clock start of the last store pass (epoch seconds): posts collected since
        #: then are read whatever time they were written
        self.fetched_cursor: float | None = None
        #: per source post: [posts of its thread seen, thread size at its last rumor score]
        self.rumor_sizes: dict[str, list[int]] = {}
        #: posts per thread assigned by a backlog chunk (:func:`run_detect`) whose rumor
        #: rescoring is still to be decided (:meth:`take_pending`)
        self.rumor_pending: Counter[str] = Counter()

    @property
    def virality_threshold(self) -> float:
        thr = self.config.virality_threshold
        return self.model.threshold if thr is None else thr

    def locality_of(self, post: Post, cluster: IncidentCluster | None) -> str:
        if post.region_tags:
            return post.region_tags[0]
        if cluster is not None and cluster.district:
            return cluster.district
        return self.config.locality

    def ingest(self, posts: Iterable[Post]) -> list[Assignment]:
        out = []
        for post in posts:
            result = self.engine.assign(post)
            out.append(result)
            if result.how == "seen":
                continue
            cluster = self.engine.incidents[result.incident_id]
            ts = post.created_at.timestamp()
            author = post.author.id or f"post:{post.id}"
            self.spike.observe(result.incident_id, ts, author=author)
            self.spike.observe("loc:" + self.locality_of(post, cluster), ts)
            if self.cursor is None or ts > self.cursor:
                self.cursor = ts
        return out

    def active_ids(self, now: float) -> list[str]:
        horizon = now - self.config.active.total_seconds()
        return [
            inc_id
            for inc_id, c in self.engine.incidents.items()
            if (c.last_seen is not None and c.last_seen >= horizon)
            or c.dirty
            or self.hot.get(inc_id, _HotState()).hot
        ]

    def evaluate(
        self,
        now: datetime | float,
        incident_ids: Iterable[str] | None = None,
        snapshots: dict[str, dict[str, list[tuple[float, int, int]]]] | None = None,
    ) -> list[Evaluation]:
        """Figures and hot decisions at ``now`` for the active incidents (or the given)."""
        ts = now.timestamp() if isinstance(now, datetime) else float(now)
        ids = list(incident_ids) if incident_ids is not None else self.active_ids(ts)
        clusters = [
            c
            for c in (self.engine.incidents.get(i) for i in ids)
            if c is not None and c.stats.times
        ]
        virality = self._virality(clusters, ts)
        return [
            self._evaluate_one(c, ts, (snapshots or {}).get(c.id), vir)
            for c, vir in zip(clusters, virality, strict=True)
        ]

    def _virality(self, clusters: list[IncidentCluster], ts: float) -> list[float | None]:
        """Virality per incident, recomputed when the incident reaches the next of the
        model's checkpoint ages (5, 10, 15, 30, 60, 120, 240, 360 minutes) and frozen after
        the last (see :meth:`ViralityModel.checkpoint_age`)."""
        out: list[float | None] = []
        todo: list[int] = []
        for i, cluster in enumerate(clusters):
            stats = cluster.stats
            origin = stats.root_times[0] if stats.root_times else stats.times[0]
            # Late posts written before the checkpoint change its counts: part of the key.
            key = (self.model.checkpoint_age((ts - origin) / 60.0), len(stats.times), origin)
            cached = self._vir_cache.get(cluster.id)
            if cached is not None and cached[0] == key:
                out.append(cached[1])
            else:
                out.append(None)
                todo.append(i)
                self._vir_cache[cluster.id] = (key, None)
        if todo:
            scores = self.model.score_many([clusters[i].stats for i in todo], ts)
            for i, score in zip(todo, scores, strict=True):
                out[i] = score
                key = self._vir_cache[clusters[i].id][0]
                self._vir_cache[clusters[i].id] = (key, score)
        return out

    def _evaluate_one(
        self,
        cluster: IncidentCluster,
        ts: float,
        snapshots: dict[str, list[tuple[float, int, int]]] | None,
        vir: float | None,
    ) -> Evaluation:
        stats = cluster.stats
        vel = velocity(stats, ts, snapshots)
        heat = heat_score(
            int(vel["posts"]),
            vel["posts_per_h_1h"],
            stats.reach,
            len(stats.verified),
            stats.engagement_total,
        )
        locality = "loc:" + (cluster.district or self.config.locality)
        burst = self.spike.evaluate(cluster.id, ts, reference_key=locality)
        signals = HotSignals(
            burst=burst.flagged,
            burst_reason=burst.reason,
            virality=vir,
            roots=len(stats.root_times),
            posts=len(stats.times),
            burst_p_value=burst.p_value,
            roots_in_window=count_between(
                stats.root_times, ts - self.config.burst.current.total_seconds(), ts
            ),
        )
        reasons = hot_reasons(signals, self.config, self.virality_threshold)
        state = self.hot.setdefault(cluster.id, _HotState())
        notify = False
        if reasons:
            state.last_reason_at = ts
            state.reasons = reasons
            if not state.hot:
                state.hot, state.since = True, ts
                notify = burst.notify or state.notified == 0
                state.notified += int(notify)
        elif state.hot:
            quiet_since = state.last_reason_at or ts
            if ts - quiet_since >= self.config.hot_cooldown.total_seconds():
                state.hot, state.since, state.reasons = False, None, []
        return Evaluation(
            cluster=cluster,
            at=ts,
            velocity=vel,
            heat=heat,
            burst=burst.flagged,
            burst_reason=burst.reason,
            burst_ratio=burst.ratio,
            burst_figures={
                "current": burst.current,
                "expected": burst.expected,
                "p_value": float(f"{burst.p_value:.3g}"),
                "authors": burst.authors,
            },
            virality=vir,
            hot=state.hot,
            hot_since=state.since,
            reasons=list(state.reasons),
            notify=notify,
        )

    def changed(self, ev: Evaluation) -> bool:
        """Whether ``ev`` differs enough from the last saved figures to be written again."""
        sig = [
            round(ev.heat, 1),
            ev.hot,
            ev.burst,
            None if ev.virality is None else round(ev.virality, 2),
            len(ev.cluster.stats.times),
            ev.rumor_score,
            round(ev.velocity.get("posts_per_h_1h", 0.0), 1),
        ]
        if self.saved.get(ev.cluster.id) == sig and not ev.cluster.dirty:
            return False
        self.saved[ev.cluster.id] = sig
        return True

    def prune(self, now: float) -> None:
        cfg = self.config
        gone = self.engine.prune(now - cfg.retention.total_seconds())
        self.spike.forget(gone)
        self.spike.prune(now - self.spike.keep_seconds)
        self.hot = {k: v for k, v in self.hot.items() if k in self.engine.incidents}
        self.saved = {k: v for k, v in self.saved.items() if k in self.engine.incidents}
        self._vir_cache = {k: v for k, v in self._vir_cache.items() if k in self.engine.incidents}
        live = self.engine.incidents
        self.rumor_sizes = {
            k: v for k, v in self.rumor_sizes.items() if self.engine.post_incident.get(k) in live
        }

    def take_pending(self, limit: int | None = None) -> Counter[str]:
        """Take (up to ``limit`` threads of) the growth backlog chunks left for
        :meth:`rumor_due` to decide."""
        roots = list(self.rumor_pending)[:limit]
        return Counter({root: self.rumor_pending.pop(root) for root in roots})

    def rumor_due(self, grown: Counter[str]) -> list[str]:
        """Source posts whose threads grew enough to be rescored, given the new posts per
        thread (keyed by source post id, see :func:`thread_of`)."""
        due = []
        for root, n in grown.items():
            sizes = self.rumor_sizes.setdefault(root, [0, 0])
            sizes[0] += n
            if sizes[1] == 0 or sizes[0] >= round(sizes[1] * RESCORE_GROWTH, 6):
                sizes[1] = sizes[0]
                due.append(root)
        return due

    # -- persistence --------------------------------------------------------------------
    def to_state(self) -> dict:
        return {
            "version": 1,
            "cursor": self.cursor,
            "fetched_cursor": self.fetched_cursor,
            "rumor_sizes": self.rumor_sizes,
            "rumor_pending": dict(self.rumor_pending),
            "engine": self.engine.to_state(),
            "spike": self.spike.to_state(),
            "hot": {
                k: [v.hot, v.since, v.last_reason_at, v.reasons, v.notified]
                for k, v in self.hot.items()
            },
            "saved": self.saved,
        }

    @classmethod
    def from_state(
        cls,
        state: dict | None,
        config: HotConfigSection | None = None,
        model: ViralityModel | None = None,
        *,
        archive: IncidentArchive | None = None,
        rumor_model: str | None = None,
    ) -> HotTopics:
        det = cls(config, model, archive=archive, rumor_model=rumor_model)
        if not state:
            return det
        det.cursor = state.get("cursor")
        det.fetched_cursor = state.get("fetched_cursor")
        det.rumor_sizes = {k: list(v) for k, v in state.get("rumor_sizes", {}).items()}
        det.rumor_pending = Counter(state.get("rumor_pending", {}))
        det.engine = IncidentEngine.from_state(
            state.get("engine"), det.config.cluster, det.engine.lexicon, det.engine.archive
        )
        det.spike = SpikeDetector.from_state(state.get("spike"), det.config.burst)
        det.hot = {k: _HotState(*v) for k, v in state.get("hot", {}).items()}
        det.saved = dict(state.get("saved", {}))
        return det


# -- against a store -----------------------------------------------------------------------
@dataclass
class DetectReport:
    """What one detection pass did."""

    at: datetime
    read: int = 0
    late: int = 0
    assigned: int = 0
    new_incidents: int = 0
    rumor_scored: int = 0
    evaluated: int = 0
    saved: int = 0
    hot: int = 0
    notify: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "read": self.read,
            "late": self.late,
            "assigned": self.assigned,
            "new_incidents": self.new_incidents,
            "rumor_scored": self.rumor_scored,
            "evaluated": self.evaluated,
            "saved": self.saved,
            "hot": self.hot,
            "notify": self.notify,
            "seconds": self.seconds,
        }


class StoreArchive(IncidentArchive):
    """The archive of incidents that left the live detector, kept in the store: each
    incident's clustering state under ``hot.archive.<id>``, and each post's incident id on
    the post itself."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.revived = 0

    def put(self, cluster: IncidentCluster, posts: dict[str, str]) -> None:
        self.store.set_state(ARCHIVE_KEY + cluster.id, cluster.to_state())

    def get(self, incident_id: str) -> IncidentCluster | None:
        data = self.store.get_state(ARCHIVE_KEY + incident_id)
        return IncidentCluster.from_state(data) if data else None

    def incident_of(self, post_id: str) -> str | None:
        post = self.store.get_post(post_id)
        return post.incident_id if post else None


def load_detector(
    store: Store, config: HotConfigSection | None = None, rumor_model: str | None = None
) -> HotTopics:
    return HotTopics.from_state(
        store.get_state(STATE_KEY), config, archive=StoreArchive(store), rumor_model=rumor_model
    )


def put_state(store: Store, state: dict) -> None:
    """Store the detector's state, and its cursors under :data:`CURSOR_KEY`."""
    store.set_state(STATE_KEY, state)
    cursors = {"cursor": state.get("cursor"), "fetched_cursor": state.get("fetched_cursor")}
    store.set_state(CURSOR_KEY, cursors)


def save_evaluations(store: Store, evaluations: list[Evaluation]) -> int:
    """Write incidents, keeping what people edited (status, extra keys) and what the record
    already had (posts, counts) on it; a concurrent edit (version conflict) is re-read and
    retried once. Changes since the stored record go to its :class:`IncidentHistory`."""
    saved = 0
    for ev in evaluations:
        for _attempt in range(2):
            base = store.get_record(Incident, ev.cluster.id)
            try:
                store.save_record(ev.to_incident(base))
            except ConflictError:
                continue
            saved += 1
            append_history(store, ev.cluster.id, ev.changes(base))
            break
    return saved


def append_history(store: Store, incident_id: str, changes: list[IncidentChange]) -> None:
    """Append ``changes`` to the incident's history record (the detector is its only
    writer; a conflict is re-read and retried)."""
    if not changes:
        return
    for _attempt in range(3):
        history = store.get_record(IncidentHistory, incident_id) or IncidentHistory(
            id=incident_id, incident_id=incident_id
        )
        history = history.model_copy(update={"changes": [*history.changes, *changes]})
        try:
            store.save_record(history)
            return
        except ConflictError:
            continue


def thread_of(post: Post) -> str:
    """The source post of a post's thread: its root, or the post itself."""
    return post.root_id or post.id


def rescore_rumors(
    store: Store,
    roots: Iterable[str],
    config: HotConfigSection,
    rumor_model: str | None = None,
    office: object | None = None,
) -> int:
    """Recompute ``rumor_score`` of the given source posts from everything stored so far.

    A model that cannot be loaded is logged and skipped: detection must go on without it.
    """
    roots = list(roots)
    if not config.score_rumors or not roots:
        return 0
    from nlp.rumor.model import ModelError
    from nlp.rumor.scoring import cached_model, score_roots

    try:
        model = cached_model(rumor_model)
    except ModelError as exc:
        log.warning("rumor scoring skipped: %s", exc)
        return 0
    return score_roots(store, roots, model=model, office=office)


def attach_rumor_scores(
    store: Store, evaluations: list[Evaluation], office: object | None = None
) -> None:
    """Give each evaluated incident the rumor score of its core claim, from its stored
    source posts (``nlp.rumor.incident.score_incident``: claim posts weigh most, official
    responses of ``office``, the ``office:`` config section, are never rumors and lower
    it)."""
    from nlp.rumor.incident import score_incident

    roots = {r for ev in evaluations for r in ev.cluster.root_ids}
    if not roots:
        return
    posts = {p.id: p for p in store.get_posts(roots)}
    for ev in evaluations:
        found = [posts[r] for r in ev.cluster.root_ids if r in posts]
        ev.rumor_score = score_incident(found, office).score if found else None


def assign_stored(
    store: Store, posts: Iterable[Post], config: HotConfigSection | None = None
) -> int:
    """Assign posts that were just written to the store (an import or crawl hook), however
    late they were written; the next pass evaluates their incidents. Returns how many."""
    with store.transaction():  # the posts' incident ids and the state that counts them
        det = load_detector(store, config)
        fresh = [p for p in posts if p.incident_id is None]
        assignments = det.ingest(fresh)
        if assignments:
            store.set_post_fields({a.post_id: {"incident_id": a.incident_id} for a in assignments})
        put_state(store, det.to_state())
    return len(assignments)


def visible(post: Post, at: datetime) -> bool:
    """Whether a pass at ``at`` may see ``post``: written by then. When was it collected
    does not matter: live, ``at`` is now and everything stored was collected by then; a pass
    stepped through a past evening after one late crawl (or an import) sees the evening as
    it was written, so its bursts are found when they happened, not never (a crawl at 23:00
    would otherwise hide the whole evening from every earlier pass, and the 23:00 pass's
    window would hold none of it)."""
    return post.created_at <= at


def run_detect(
    store: Store,
    config: HotConfigSection | None = None,
    now: datetime | None = None,
    detector: HotTopics | None = None,
    save_state: bool = True,
    rescan: timedelta | None = None,
    rumor_model: str | None = None,
    office: object | None = None,
) -> DetectReport:
    """One detection pass at ``now`` (the reference clock; default the wall clock): the
    pass sees exactly the posts written by ``now`` (:func:`visible`),
    so passes at increasing ``now`` over historic data reproduce what the live system
    would have flagged, and when. ``office`` (the ``office:`` config section) names the
    accounts whose posts are official responses, never scored as rumors. ``rescan`` widens
    this pass's look-back for unassigned posts (default ``config.late_margin``).

    The pass is one store transaction (:meth:`store.Store.transaction`): a pass killed
    mid-way leaves no post assigned that the saved detector state does not count, no
    record without its history; the next pass does the work again. A backlog of more than
    :data:`BACKLOG_CHUNK` unassigned posts (the first pass after a bulk import) is first
    assigned in chunks, each its own transaction with the detector state that counts it,
    and their threads' rumor scores in chunks of :data:`RESCORE_CHUNK` after them; so
    on SQLite other writers (crawls, officers' actions) wait for one chunk at most, not
    for the whole backlog. The incidents come out the same."""
    at = now or now_utc()
    backlog = None
    if detector is None and save_state:
        backlog = _assign_backlog(store, config, at, rescan, rumor_model, office)
    with store.transaction():
        report = _run_detect(store, config, at, detector, save_state, rescan, rumor_model, office)
    if backlog is not None:  # the chunks' work is this pass's too
        for name in ("assigned", "new_incidents", "rumor_scored"):
            setattr(report, name, getattr(report, name) + getattr(backlog, name))
        # the pass proper re-reads the end of the backlog's window: posts read, once each
        report.read, report.late = max(report.read, backlog.read), max(report.late, backlog.late)
        report.seconds["backlog"] = backlog.seconds["backlog"]
        report.seconds["total"] = round(report.seconds["total"] + backlog.seconds["backlog"], 3)
    return report


#: Unassigned posts above which a pass assigns them in chunks first, and the chunk size;
#: threads rescored for rumor per transaction after a chunked backlog.
BACKLOG_CHUNK = 20_000
RESCORE_CHUNK = 500


def _windows(
    cfg: HotConfigSection,
    cursor: float | None,
    fetched_cursor: float | None,
    at: datetime,
    rescan: timedelta | None,
) -> tuple[PostFilter, PostFilter | None]:
    """What a pass at ``at`` reads: posts written in its window (from the detector's
    cursor minus the late margin, or the retention when cold), and posts collected since
    the last pass (minus the margin) written within the retention (None on a first pass)."""
    margin = cfg.late_margin if rescan is None else rescan
    until = at + timedelta(seconds=1)  # the store compares whole seconds; visible() is exact
    if cursor is None:
        since = at - cfg.retention
    else:
        since = min(datetime.fromtimestamp(cursor, UTC), at) - margin
    window = PostFilter(since=since, until=until)
    if fetched_cursor is None:
        return window, None
    arrived = datetime.fromtimestamp(fetched_cursor, UTC) - margin
    return window, PostFilter(fetched_since=arrived, since=at - cfg.retention, until=until)


def _unassigned(
    store: Store, det: HotTopics, at: datetime, rescan: timedelta | None, report: DetectReport
) -> list[Post]:
    """The posts a pass at ``at`` assigns: written by then within its window, or collected
    since the last pass (late), and in no incident yet; in post-time order."""
    window, late = _windows(det.config, det.cursor, det.fetched_cursor, at, rescan)
    fresh: list[Post] = []
    seen: set[str] = set()
    for post in store.iter_posts(window):
        if not visible(post, at):
            continue
        report.read += 1
        seen.add(post.id)
        if post.incident_id is None and post.id not in det.engine.post_incident:
            fresh.append(post)
    if late is not None:
        # Posts that arrived since the last pass but were written before its window (a
        # crawl that caught up hours later): placed at the time they were written.
        for post in store.iter_posts(late):
            if post.id in seen or not visible(post, at):
                continue
            report.read += 1
            if post.incident_id is None and post.id not in det.engine.post_incident:
                fresh.append(post)
                report.late += 1
        fresh.sort(key=lambda p: p.created_at)
    return fresh


def _assign_backlog(
    store: Store,
    config: HotConfigSection | None,
    at: datetime,
    rescan: timedelta | None,
    rumor_model: str | None,
    office: object | None,
) -> DetectReport | None:
    """Assign a large backlog in chunks before the pass (see :func:`run_detect`); None when
    there is none (the pass does it all in its own transaction). Read
    without the write lock; each chunk reloads the detector in its transaction (an import
    hook may have assigned some of its posts meanwhile) and stores it with the chunk's
    assignments. The chunks' threads are rescored for rumor after the last chunk, as one
    pass over the whole backlog would rescore them, :data:`RESCORE_CHUNK` at a time."""
    t0 = time.perf_counter()
    # How many posts the pass could read, by counting (cheap; no detector built): a
    # steady pass reads a few thousand and goes straight to its one transaction.
    # (an older store has no cursor record: the whole state, once)
    state = store.get_state(CURSOR_KEY) or store.get_state(STATE_KEY) or {}
    cfg = config or HotConfigSection()
    reads = _windows(cfg, state.get("cursor"), state.get("fetched_cursor"), at, rescan)
    if sum(store.count_posts(flt) for flt in reads if flt is not None) <= BACKLOG_CHUNK:
        return None
    det = load_detector(store, config, rumor_model)
    report = DetectReport(at=at)
    backlog = _unassigned(store, det, at, rescan, report)
    if len(backlog) <= BACKLOG_CHUNK:
        return None
    for start in range(0, len(backlog), BACKLOG_CHUNK):
        with store.transaction():
            det = load_detector(store, config, rumor_model)
            todo = [
                p for p in backlog[start : start + BACKLOG_CHUNK]
                if p.id not in det.engine.post_incident
            ]  # fmt: skip
            assignments = det.ingest(todo)
            report.assigned += len(assignments)
            report.new_incidents += sum(a.new_incident for a in assignments)
            if assignments:
                fields = {a.post_id: {"incident_id": a.incident_id} for a in assignments}
                store.set_post_fields(fields)
            det.rumor_pending.update(Counter(thread_of(p) for p in todo))
            put_state(store, det.to_state())
    while True:
        with store.transaction():
            det = load_detector(store, config, rumor_model)
            if not det.rumor_pending:
                report.seconds["backlog"] = round(time.perf_counter() - t0, 3)
                return report
            due = det.rumor_due(det.take_pending(RESCORE_CHUNK))
            report.rumor_scored += rescore_rumors(store, due, det.config, det.rumor_model, office)
            put_state(store, det.to_state())


def _run_detect(
    store: Store,
    config: HotConfigSection | None,
    now: datetime | None,
    detector: HotTopics | None,
    save_state: bool,
    rescan: timedelta | None,
    rumor_model: str | None,
    office: object | None,
) -> DetectReport:
    t0 = time.perf_counter()
    det = detector or load_detector(store, config, rumor_model)
    at = now or now_utc()
    report = DetectReport(at=at)
    cfg = det.config
    t1 = time.perf_counter()
    fresh = _unassigned(store, det, at, rescan, report)
    assignments = det.ingest(fresh)
    report.assigned = len(assignments)
    report.new_incidents = sum(a.new_incident for a in assignments)
    if assignments:
        store.set_post_fields({a.post_id: {"incident_id": a.incident_id} for a in assignments})
    grown = Counter(thread_of(p) for p in fresh)
    # (threads a killed backlog pass left to decide are decided with this pass's growth)
    due = det.rumor_due(grown + det.take_pending())
    report.rumor_scored = rescore_rumors(store, due, cfg, det.rumor_model, office)
    t2 = time.perf_counter()
    ts = at.timestamp()
    ids = det.active_ids(ts)
    root_ids = [r for i in ids for r in det.engine.incidents[i].root_ids]
    series: dict[str, dict[str, list[tuple[float, int, int]]]] = {}
    if root_ids:
        owner = {r: i for i in ids for r in det.engine.incidents[i].root_ids}
        for snap in store.get_snapshots(root_ids):
            if snap.observed_at > at:
                continue
            per = series.setdefault(owner[snap.post_id], {})
            per.setdefault(snap.post_id, []).append(
                (snap.observed_at.timestamp(), snap.reposts, snap.comments)
            )
    evaluations = det.evaluate(ts, ids, series)
    attach_rumor_scores(store, evaluations, office)
    t3 = time.perf_counter()
    report.evaluated = len(evaluations)
    report.hot = sum(ev.hot for ev in evaluations)
    report.notify = [ev.cluster.id for ev in evaluations if ev.notify]
    changed = [ev for ev in evaluations if det.changed(ev)]
    report.saved = save_evaluations(store, changed)
    for ev in evaluations:
        ev.cluster.dirty = False
    det.prune(ts)
    # The next pass reads what was collected since this one's clock (minus the margin).
    det.fetched_cursor = ts
    if save_state:
        put_state(store, det.to_state())
    t4 = time.perf_counter()
    report.seconds = {
        "load_state": round(t1 - t0, 3),
        "read_and_assign": round(t2 - t1, 3),
        "evaluate": round(t3 - t2, 3),
        "save": round(t4 - t3, 3),
        "total": round(t4 - t0, 3),
    }
    return report
