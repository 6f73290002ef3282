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
Modelled on elastalert2's ``SpikeRule``: per key a *reference* window followed by a *current*
window. The reference count is normalised to the current window's length. A key fires when

* the reference window has been covered by observations (no firing on an empty history),
* the current count is at least ``min_current`` and the reference at least ``min_reference``
  (so ``0 vs 0`` and "3 posts after nothing" never fire),
* ``current / reference ≥ ratio``.

The *reference* may be another key's history: an incident's current count is compared with
its locality's (district's) usual volume without the incident's own posts, so 30 posts an
hour is a burst in a quiet county and not in a big city. Once fired a key *stays flagged*
while ``current / reference`` stays above ``ratio · release`` and for ``cooldown`` after it
drops; a new onset within the back-off period after a clear is flagged but not re-notified,
and the back-off doubles each time (``max_backoff`` caps it), so a flapping incident does
not flood the channel.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


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


@dataclass(frozen=True)
class SpikeConfig:
    """Windows and thresholds of :class:`SpikeDetector` (the ``hot.burst`` config section)."""

    reference: timedelta = timedelta(days=7)
    current: timedelta = timedelta(hours=1)
    ratio: float = 3.0
    min_current: int = 30
    min_reference: int = 100
    release: float = 0.5
    cooldown: timedelta = timedelta(minutes=30)
    backoff: timedelta = timedelta(hours=1)
    max_backoff: timedelta = timedelta(hours=8)
    #: Buckets are this many seconds wide; counts within one bucket are merged.
    bucket_seconds: int = 60

    def __post_init__(self) -> None:
        if self.reference <= timedelta(0) or self.current <= timedelta(0):
            raise ValueError("burst windows must be positive")
        if self.ratio <= 0 or not 0 < self.release <= 1:
            raise ValueError("burst ratio must be > 0 and release in (0, 1]")
        if self.min_current < 1:
            raise ValueError("burst min_current must be at least 1 (0 vs 0 never fires)")


@dataclass
class SpikeResult:
    """What :meth:`SpikeDetector.evaluate` decided for one key at one moment."""

    key: str
    flagged: bool
    notify: bool
    current: int
    reference: float
    ratio: float | None
    reason: str
    since: datetime | None = None


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

    def total(self, lo: int, hi: int) -> int:
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


class SpikeDetector:
    """Per-key spike detection with a reference and a current window (pure; no clock).

    Feed counts with :meth:`observe` (any order: late counts land in their own bucket) and
    ask :meth:`evaluate` at a moment ``now``; state (flags, back-off) moves only in
    ``evaluate``, which should be called with non-decreasing ``now`` per key.
    """

    def __init__(self, config: SpikeConfig | None = None) -> None:
        self.config = config or SpikeConfig()
        self._series: dict[str, _Series] = {}
        self._flags: dict[str, _Flag] = {}
        self._ref_cache: dict[str, tuple[float, float, bool]] = {}

    # -- feeding --------------------------------------------------------------------------
    def observe(self, key: str, at: datetime | float, count: int = 1) -> None:
        if count <= 0:
            return
        ts = at.timestamp() if isinstance(at, datetime) else float(at)
        width = self.config.bucket_seconds
        bucket = int(ts // width) * width
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        series.add(bucket, count)
        if self._ref_cache:
            self._ref_cache.pop(key, None)

    def count(self, key: str, start: float, end: float) -> int:
        """Observations of ``key`` in ``[start, end)`` (epoch seconds, bucket precision)."""
        series = self._series.get(key)
        return series.total(int(start), int(end)) if series else 0

    def prune(self, before: datetime | float) -> None:
        """Forget buckets older than ``before`` (keep at least reference + current back)."""
        ts = int(before.timestamp() if isinstance(before, datetime) else before)
        for series in self._series.values():
            series.prune(ts)
        self._ref_cache.clear()

    def forget(self, keys: Iterable[str]) -> None:
        """Drop keys entirely (incidents that left the live detector)."""
        for key in keys:
            self._series.pop(key, None)
            self._flags.pop(key, None)
            self._ref_cache.pop(key, None)

    # -- deciding -------------------------------------------------------------------------
    def windows(self, now: float) -> tuple[float, float, float]:
        cur = self.config.current.total_seconds()
        ref = self.config.reference.total_seconds()
        return now - cur - ref, now - cur, now

    def reference_rate(self, key: str, now: float) -> tuple[float, bool]:
        """Reference count normalised to one current window, and whether the reference
        window is covered by data (the key's first observation is at or before its start)."""
        cached = self._ref_cache.get(key)
        if cached is not None and cached[0] == now:
            return cached[1], cached[2]
        ref_start, cur_start, _ = self.windows(now)
        series = self._series.get(key)
        if series is None or series.first is None:
            return 0.0, False
        filled = series.first <= ref_start
        ref_count = series.total(int(ref_start), int(cur_start))
        scale = self.config.current.total_seconds() / self.config.reference.total_seconds()
        # Every incident of a locality shares this reference at one moment. The reference
        # window ends where the current one starts, so counts observed since (for ``now``)
        # cannot change it, except late ones: observe() clears the cache.
        self._ref_cache[key] = (now, ref_count * scale, filled)
        return ref_count * scale, filled

    def evaluate(
        self, key: str, now: datetime | float, reference_key: str | None = None
    ) -> SpikeResult:
        """Decide whether ``key`` is bursting at ``now``.

        ``reference_key`` names the series whose reference window is the baseline (the
        incident's locality); by default the key's own history.
        """
        cfg = self.config
        ts = now.timestamp() if isinstance(now, datetime) else float(now)
        _, cur_start, _ = self.windows(ts)
        # The current window includes the bucket containing ``now``.
        current = self.count(key, cur_start, ts + cfg.bucket_seconds)
        ref_key = reference_key or key
        reference, filled = self.reference_rate(ref_key, ts)
        scale = cfg.current.total_seconds() / cfg.reference.total_seconds()
        raw_ref = reference / scale
        if ref_key != key:
            # The locality's series holds this key's own posts too: the baseline is
            # everything else that went on there, so an incident is not its own baseline.
            ref_start, ref_end, _ = self.windows(ts)
            raw_ref = max(raw_ref - self.count(key, ref_start, ref_end), 0.0)
            reference = raw_ref * scale
        ratio = current / reference if reference > 0 else None
        flag = self._flags.setdefault(key, _Flag())
        now_i = int(ts)

        if not filled:
            hot, reason = False, "reference window not yet filled"
        elif raw_ref < cfg.min_reference:
            hot, reason = False, f"reference {raw_ref:.0f} < min_reference {cfg.min_reference}"
        elif current < cfg.min_current:
            hot, reason = False, f"current {current} < min_current {cfg.min_current}"
        else:
            assert ratio is not None
            threshold = cfg.ratio * (cfg.release if flag.flagged else 1.0)
            hot = ratio >= threshold
            reason = f"current {current} vs reference {reference:.1f}: ratio {ratio:.1f}" + (
                f" ≥ {threshold:.1f}" if hot else f" < {threshold:.1f}"
            )

        notify = False
        if hot:
            flag.below_since = None
            if not flag.flagged:
                flag.flagged, flag.since = True, now_i
                window_end = (flag.cleared_at or 0) + flag.backoff
                if flag.cleared_at is not None and now_i < window_end:
                    # Flapping: flag again but stay quiet; back off further next time.
                    flag.backoff = min(
                        max(flag.backoff, cfg.backoff.total_seconds()) * 2,
                        cfg.max_backoff.total_seconds(),
                    )
                    reason += " (re-flagged within back-off: not re-notified)"
                else:
                    notify = True
                    flag.last_notified = now_i
                    if flag.cleared_at is None:
                        flag.backoff = cfg.backoff.total_seconds()
        elif flag.flagged:
            if flag.below_since is None:
                flag.below_since = now_i
            if now_i - flag.below_since >= cfg.cooldown.total_seconds():
                flag.flagged, flag.since = False, None
                flag.cleared_at, flag.below_since = now_i, None
                reason += " (cooled down)"
            else:
                reason += " (cooling down: still flagged)"
        since = datetime.fromtimestamp(flag.since, UTC) if flag.since else None
        return SpikeResult(
            key=key,
            flagged=flag.flagged,
            notify=notify,
            current=current,
            reference=round(reference, 3),
            ratio=None if ratio is None else round(ratio, 3),
            reason=reason,
            since=since,
        )

    # -- persistence (plain JSON, for the store's key/value state) ------------------------
    def to_state(self) -> dict:
        return {
            "series": {
                k: [s.starts, s.counts, s.first] for k, s in self._series.items() if s.starts
            },
            "flags": {
                k: [f.flagged, f.since, f.below_since, f.cleared_at, f.backoff, f.last_notified]
                for k, f in self._flags.items()
            },
        }

    @classmethod
    def from_state(cls, state: dict | None, config: SpikeConfig | None = None) -> SpikeDetector:
        det = cls(config)
        if not state:
            return det
        for key, (starts, counts, first) in state.get("series", {}).items():
            det._series[key] = _Series(list(starts), list(counts), first)
        for key, values in state.get("flags", {}).items():
            det._flags[key] = _Flag(*values)
        return det
