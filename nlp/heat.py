"""Heat (热度) of an incident and burst detection against the locality's own baseline.

Both are pure: they take figures and timestamped counts and never read a clock, so tests
feed them times directly and replays run at any speed.

Heat
----
One number per incident on a 0–100 scale (see ``docs/hot-topics.md``)::

    raw  = 12·log10(1+N) + 18·log10(1+v1h) + 8·log10(1+R/1000) + 6·log2(1+V) + 6·log10(1+E)
    heat = 100·(1 − exp(−raw / 60))

``N`` posts in the incident, ``v1h`` posts per hour over the last hour, ``R`` reach (summed
followers of distinct participating authors), ``V`` verified participants, ``E`` engagement
(reposts + comments + likes reported on its root posts). Logarithms keep one giant account or
one huge thread from dominating; the exponential squashes the open-ended sum into 0–100 so
tier bands can be stated as fixed numbers.

Burst rule
----------
An incident bursts when its posts of the last ``current_minutes`` are improbable under its
locality's own expected rate (``docs/hot-topics.md`` has a worked example):

* expected hourly rate from the locality's last ``history_days`` (without the incident's
  own posts), shrunk towards a prior worth ``prior_days`` of a place of ``residents``
  each writing ``posts_per_resident_day`` posts a day::

      r_flat = (n_history + r_prior·h_prior) / (h_observed + h_prior)

* the same-time-of-day rate (the same clock window on each earlier day covered), shrunk
  towards ``r_flat`` with two hours of weight, mixed in by ``time_of_day``; the larger of
  the two is used, so an evening peak is not a burst::

      r_tod = (n_same_window + r_flat·2) / (days·h_current + 2)
      λ     = h_current · max(r_flat, w·r_tod + (1−w)·r_flat)

* it fires when ``P(X ≥ current | λ) ≤ p_value`` (Poisson tail), ``current ≥ min_posts``
  and at least ``min_authors`` distinct authors posted in the window. A locality with no
  history at all uses the prior alone, so a quiet town can fire on its first evening.

Once fired a key stays flagged while the tail probability stays at or below
``release_p_value`` and for ``cooldown_minutes`` after; a new onset within the back-off
period after a clear is flagged but not re-notified, and the back-off doubles each time
(``max_backoff_minutes`` caps it), so a flapping incident does not flood the channel.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scipy.special import pdtrc

from nlp.hot_config import HotBurstConfig


def heat_score(
    posts: int,
    posts_per_hour_1h: float,
    reach: int,
    verified: int,
    engagement: int,
) -> float:
    """Heat on a 0–100 scale; see the module docstring for the formula and its reasons."""
    raw = (
        12.0 * math.log10(1 + max(posts, 0))
        + 18.0 * math.log10(1 + max(posts_per_hour_1h, 0.0))
        + 8.0 * math.log10(1 + max(reach, 0) / 1000.0)
        + 6.0 * math.log2(1 + max(verified, 0))
        + 6.0 * math.log10(1 + max(engagement, 0))
    )
    return round(100.0 * (1.0 - math.exp(-raw / 60.0)), 2)


DAY = 86400.0
BUCKET_SECONDS = 60
#: Hours of weight of ``r_flat`` behind the same-time-of-day rate.
TOD_PRIOR_HOURS = 2.0


def chance(p: float) -> str:
    """A tail probability as an officer reads it: 「约千分之三」 is clearer than P=3e-03; the
    exact figure stays in ``burst_figures``."""
    if p < 1e-6:
        return "不到百万分之一"
    if p >= 0.01:
        return f"约 {p * 100:.0f}%"
    scales = ((1e-3, "千分之"), (1e-4, "万分之"), (1e-5, "十万分之"))
    scale, word = next(((s, w) for s, w in scales if p >= s), (1e-6, "百万分之"))
    return f"约{word}{max(1, round(p / scale))}"


def poisson_tail(count: int, expected: float) -> float:
    """``P(X ≥ count)`` for ``X ~ Poisson(expected)``."""
    if count <= 0:
        return 1.0
    return float(pdtrc(count - 1, max(expected, 1e-9)))


@dataclass
class SpikeResult:
    """What :meth:`SpikeDetector.evaluate` decided for one key at one moment."""

    key: str
    flagged: bool
    notify: bool
    current: int
    #: Posts expected in the current window at the locality's rate.
    expected: float
    p_value: float
    authors: int
    reason: str
    since: datetime | None = None

    @property
    def ratio(self) -> float | None:
        return round(self.current / self.expected, 3) if self.expected > 0 else None


@dataclass
class _Series:
    """Sorted bucket starts (epoch seconds) and their counts."""

    starts: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    first: int | None = None

    def add(self, bucket: int, n: int) -> None:
        if self.starts and self.starts[-1] == bucket:  # the common case: same minute
            self.counts[-1] += n
            return
        i = bisect.bisect_left(self.starts, bucket)
        if i < len(self.starts) and self.starts[i] == bucket:
            self.counts[i] += n
        else:
            self.starts.insert(i, bucket)
            self.counts.insert(i, n)
        if self.first is None or bucket < self.first:
            self.first = bucket

    def total(self, lo: float, hi: float) -> int:
        """Sum of buckets starting in ``[lo, hi)``."""
        i = bisect.bisect_left(self.starts, lo)
        j = bisect.bisect_left(self.starts, hi)
        return sum(self.counts[i:j])

    def prune(self, before: int) -> None:
        i = bisect.bisect_left(self.starts, before)
        if i:
            del self.starts[:i]
            del self.counts[:i]


@dataclass
class _Flag:
    flagged: bool = False
    since: int | None = None
    below_since: int | None = None
    cleared_at: int | None = None
    backoff: float = 0.0
    last_notified: int | None = None


@dataclass
class _Baseline:
    """The locality's windows at one moment (shared by all its incidents)."""

    flat: tuple[float, float]  # [lo, hi) of the history actually covered
    hours: float
    count: int
    tod: list[tuple[float, float]]
    tod_count: int


class SpikeDetector:
    """Per-key burst detection against a locality's expected rate (pure; no clock).

    Feed counts with :meth:`observe` (any order: late counts land in their own bucket) and
    ask :meth:`evaluate` at a moment ``now``; state (flags, back-off) moves only in
    ``evaluate``, which should be called with non-decreasing ``now`` per key.
    """

    def __init__(self, config: HotBurstConfig | None = None) -> None:
        self.config = config or HotBurstConfig()
        self._series: dict[str, _Series] = {}
        self._flags: dict[str, _Flag] = {}
        #: key -> author -> latest post time (distinct authors in the current window)
        self._authors: dict[str, dict[str, float]] = {}
        self._base_cache: dict[str, tuple[float, _Baseline]] = {}

    # -- feeding --------------------------------------------------------------------------
    def observe(
        self, key: str, at: datetime | float, count: int = 1, author: str | None = None
    ) -> None:
        if count <= 0:
            return
        ts = at.timestamp() if isinstance(at, datetime) else float(at)
        bucket = int(ts // BUCKET_SECONDS) * BUCKET_SECONDS
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        series.add(bucket, count)
        if author is not None:
            seen = self._authors.setdefault(key, {})
            if ts > seen.get(author, -1.0):
                seen[author] = ts
        if self._base_cache:
            self._base_cache.pop(key, None)

    def count(self, key: str, start: float, end: float) -> int:
        """Observations of ``key`` in ``[start, end)`` (epoch seconds, bucket precision)."""
        series = self._series.get(key)
        return series.total(start, end) if series else 0

    def authors_since(self, key: str, start: float, end: float, enough: int | None = None) -> int:
        """Distinct authors of ``key`` whose latest post is in ``[start, end]``; counting
        stops at ``enough`` when given."""
        n = 0
        for ts in self._authors.get(key, {}).values():
            if start <= ts <= end:
                n += 1
                if enough is not None and n >= enough:
                    break
        return n

    def prune(self, before: datetime | float) -> None:
        """Forget buckets older than ``before`` (keep at least history + current back)."""
        ts = int(before.timestamp() if isinstance(before, datetime) else before)
        for series in self._series.values():
            series.prune(ts)
        for key, seen in list(self._authors.items()):
            kept = {a: t for a, t in seen.items() if t >= ts}
            if kept:
                self._authors[key] = kept
            else:
                del self._authors[key]
        self._base_cache.clear()

    def forget(self, keys: Iterable[str]) -> None:
        """Drop keys entirely (incidents that left the live detector)."""
        for key in keys:
            self._series.pop(key, None)
            self._flags.pop(key, None)
            self._authors.pop(key, None)
            self._base_cache.pop(key, None)

    @property
    def keep_seconds(self) -> float:
        """How far back counts are needed."""
        cfg = self.config
        return cfg.history.total_seconds() + cfg.current.total_seconds() + BUCKET_SECONDS

    # -- deciding -------------------------------------------------------------------------
    def _baseline(self, key: str, now: float) -> _Baseline:
        cached = self._base_cache.get(key)
        if cached is not None and cached[0] == now:
            return cached[1]
        cfg = self.config
        cur = cfg.current.total_seconds()
        hist_hi = now - cur
        hist_lo = hist_hi - cfg.history.total_seconds()
        series = self._series.get(key)
        first = series.first if series is not None and series.first is not None else hist_hi
        lo = min(max(hist_lo, float(first)), hist_hi)
        count = series.total(lo, hist_hi) if series else 0
        tod: list[tuple[float, float]] = []
        d = 1
        while d * DAY <= cfg.history.total_seconds():
            start, end = now - d * DAY - cur, now - d * DAY
            if start >= lo:
                tod.append((start, end))
            d += 1
        tod_count = sum(series.total(a, b) for a, b in tod) if series else 0
        base = _Baseline((lo, hist_hi), (hist_hi - lo) / 3600.0, count, tod, tod_count)
        # The windows end where the current one starts, so posts observed since cannot
        # change them, except late ones: observe() clears the cache.
        self._base_cache[key] = (now, base)
        return base

    def expected(self, key: str, now: float, reference_key: str | None = None) -> float:
        """Posts expected in ``key``'s current window at ``now`` from the reference
        (locality) history without ``key``'s own posts."""
        cfg = self.config
        ref_key = reference_key or key
        base = self._baseline(ref_key, now)
        n_hist, n_tod = base.count, base.tod_count
        if ref_key != key:
            # The locality's series holds this key's own posts too: an incident is not its
            # own baseline.
            n_hist -= self.count(key, *base.flat)
            n_tod -= sum(self.count(key, a, b) for a, b in base.tod)
        prior_h = cfg.prior_days * 24.0
        r_flat = (max(n_hist, 0) + cfg.prior_per_hour * prior_h) / (base.hours + prior_h)
        cur_h = cfg.current.total_seconds() / 3600.0
        rate = r_flat
        if base.tod and cfg.time_of_day > 0:
            days = len(base.tod)
            r_tod = (max(n_tod, 0) + r_flat * TOD_PRIOR_HOURS) / (days * cur_h + TOD_PRIOR_HOURS)
            rate = max(r_flat, cfg.time_of_day * r_tod + (1 - cfg.time_of_day) * r_flat)
        return rate * cur_h

    def evaluate(
        self, key: str, now: datetime | float, reference_key: str | None = None
    ) -> SpikeResult:
        """Decide whether ``key`` is bursting at ``now``.

        ``reference_key`` names the series whose history is the baseline (the incident's
        locality); by default the key's own history.
        """
        cfg = self.config
        ts = now.timestamp() if isinstance(now, datetime) else float(now)
        cur_start = ts - cfg.current.total_seconds()
        # The current window includes the bucket containing ``now``.
        current = self.count(key, cur_start, ts + BUCKET_SECONDS)
        flag = self._flags.setdefault(key, _Flag())
        lam = self.expected(key, ts, reference_key)
        p = poisson_tail(current, lam)
        limit = cfg.release_p_value if flag.flagged else cfg.p_value
        authors = 0
        if current < cfg.min_posts:
            hot, reason = False, f"{current} 帖 < 最少 {cfg.min_posts} 帖"
        elif p > limit:
            hot, reason = (
                False,
                f"{current} 帖，本地同期预期约 {lam:.1f} 帖，"
                f"未达突发标准（偶然达到的概率{chance(p)}）",
            )
        else:
            authors = self.authors_since(key, cur_start, ts + BUCKET_SECONDS)
            if authors < cfg.min_authors:
                hot = False
                reason = f"{current} 帖仅 {authors} 位作者 < 最少 {cfg.min_authors} 位"
            else:
                hot = True
                reason = (
                    f"{cfg.current_minutes} 分钟内 {current} 帖、{authors} 位作者，"
                    f"本地同期预期约 {lam:.1f} 帖（偶然达到的概率{chance(p)}）"
                )
        notify = False
        now_i = int(ts)
        if hot:
            flag.below_since = None
            if not flag.flagged:
                flag.flagged, flag.since = True, now_i
                window_end = (flag.cleared_at or 0) + flag.backoff
                if flag.cleared_at is not None and now_i < window_end:
                    # Flapping: flag again but stay quiet; back off further next time.
                    flag.backoff = min(
                        max(flag.backoff, cfg.backoff_minutes * 60.0) * 2,
                        cfg.max_backoff_minutes * 60.0,
                    )
                    reason += "（退避期内再次爆发：不重复通知）"
                else:
                    notify = True
                    flag.last_notified = now_i
                    if flag.cleared_at is None:
                        flag.backoff = cfg.backoff_minutes * 60.0
        elif flag.flagged:
            if flag.below_since is None:
                flag.below_since = now_i
            if now_i - flag.below_since >= cfg.cooldown_minutes * 60:
                flag.flagged, flag.since = False, None
                flag.cleared_at, flag.below_since = now_i, None
                reason += "（已回落）"
            else:
                reason += "（回落观察中：仍标记）"
        since = datetime.fromtimestamp(flag.since, UTC) if flag.since else None
        return SpikeResult(
            key=key,
            flagged=flag.flagged,
            notify=notify,
            current=current,
            expected=round(lam, 3),
            p_value=p,
            authors=authors,
            reason=reason,
            since=since,
        )

    # -- persistence (plain JSON, for the store's key/value state) ------------------------
    def to_state(self) -> dict:
        return {
            "series": {
                # A locality emptied by pruning keeps when it was first seen (its history
                # length), as it does in memory.
                k: [s.starts, s.counts, s.first]
                for k, s in self._series.items()
                if s.starts or s.first is not None
            },
            "flags": {
                k: [f.flagged, f.since, f.below_since, f.cleared_at, f.backoff, f.last_notified]
                for k, f in self._flags.items()
            },
            "authors": self._authors,
        }

    @classmethod
    def from_state(cls, state: dict | None, config: HotBurstConfig | None = None) -> SpikeDetector:
        det = cls(config)
        if not state:
            return det
        for key, (starts, counts, first) in state.get("series", {}).items():
            det._series[key] = _Series(list(starts), list(counts), first)
        for key, values in state.get("flags", {}).items():
            det._flags[key] = _Flag(*values)
        det._authors = {k: dict(v) for k, v in state.get("authors", {}).items()}
        return det
