"""Spread velocity (传播速度) of an incident or a post, on the time each post was written.

Velocity is counted on ``created_at`` (when a post was written), never on when it was
crawled: a post fetched six hours late lands in the window it belongs to and the figures of
that window change. Counts come from two places and the larger wins per window:

* collected posts (the incident's own posts, reposts and comments/replies), and
* metric snapshots of its root posts (``reposts``/``comments`` counters seen over time),
  which also cover reposts the crawler never collected one by one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models import MetricSnapshot, Post

#: Sliding windows of every velocity figure, by name.
WINDOWS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
}
COMMENT_KINDS = frozenset({"comment", "reply"})


@dataclass
class SpreadStats:
    """Everything velocity needs about one incident (or one post and its children).

    Times are epoch seconds kept sorted, so a late post is inserted where it belongs.
    """

    times: list[float] = field(default_factory=list)
    repost_times: list[float] = field(default_factory=list)
    root_times: list[float] = field(default_factory=list)
    comment_times: list[float] = field(default_factory=list)
    #: author id -> followers (largest value seen)
    authors: dict[str, int] = field(default_factory=dict)
    verified: set[str] = field(default_factory=set)
    #: root post id -> (reposts, comments, likes) as last reported by the post itself
    engagement: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    #: root post id -> (author followers, author verified)
    root_authors: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def add(self, post: Post) -> None:
        ts = post.created_at.timestamp()
        _insert(self.times, ts)
        if post.kind == "repost":
            _insert(self.repost_times, ts)
        elif post.kind in COMMENT_KINDS:
            _insert(self.comment_times, ts)
        author = post.author
        if author.id:
            followers = author.followers or 0
            if followers > self.authors.get(author.id, -1):
                self.authors[author.id] = followers
            if author.verified:
                self.verified.add(author.id)
        if (post.root_id is None or post.root_id == post.id) and post.parent_id is None:
            _insert(self.root_times, ts)
            self.engagement[post.id] = (post.reposts, post.comments, post.likes)
            self.root_authors[post.id] = (author.followers or 0, author.verified)

    @property
    def first(self) -> float | None:
        return self.times[0] if self.times else None

    @property
    def last(self) -> float | None:
        return self.times[-1] if self.times else None

    @property
    def reach(self) -> int:
        return sum(self.authors.values())

    @property
    def engagement_total(self) -> int:
        return sum(sum(v) for v in self.engagement.values())

    def to_state(self) -> dict:
        return {
            "t": self.times,
            "r": self.repost_times,
            "o": self.root_times,
            "ra": {k: list(v) for k, v in self.root_authors.items()},
            "c": self.comment_times,
            "a": self.authors,
            "v": sorted(self.verified),
            "e": {k: list(v) for k, v in self.engagement.items()},
        }

    @classmethod
    def from_state(cls, data: dict) -> SpreadStats:
        return cls(
            times=list(data.get("t", [])),
            repost_times=list(data.get("r", [])),
            root_times=list(data.get("o", [])),
            root_authors={k: (v[0], bool(v[1])) for k, v in data.get("ra", {}).items()},
            comment_times=list(data.get("c", [])),
            authors=dict(data.get("a", {})),
            verified=set(data.get("v", [])),
            engagement={k: (v[0], v[1], v[2]) for k, v in data.get("e", {}).items()},
        )


def _insert(values: list[float], ts: float) -> None:
    if not values or ts >= values[-1]:
        values.append(ts)
    else:
        bisect.insort(values, ts)


def count_between(times: list[float], start: float, end: float) -> int:
    """Number of sorted ``times`` in ``(start, end]``."""
    return bisect.bisect_right(times, end) - bisect.bisect_right(times, start)


def _snapshot_value(series: list[tuple[float, int, int]], at: float, which: int) -> int:
    """Latest counter value observed at or before ``at`` (0 before the first snapshot)."""
    i = bisect.bisect_right(series, (at, float("inf"), float("inf")))
    return series[i - 1][which] if i else 0


def snapshot_series(
    snapshots: Iterable[MetricSnapshot],
) -> dict[str, list[tuple[float, int, int]]]:
    """Group snapshots per post as sorted ``(time, reposts, comments)`` tuples."""
    out: dict[str, list[tuple[float, int, int]]] = {}
    for snap in snapshots:
        out.setdefault(snap.post_id, []).append(
            (snap.observed_at.timestamp(), snap.reposts, snap.comments)
        )
    for series in out.values():
        series.sort()
    return out


def velocity(
    stats: SpreadStats,
    now: datetime | float,
    snapshots: dict[str, list[tuple[float, int, int]]] | None = None,
) -> dict[str, float]:
    """Velocity figures at ``now``.

    Keys: ``posts_per_h_<w>``, ``reposts_per_h_<w>``, ``comments_per_h_<w>`` for each window
    ``w`` in :data:`WINDOWS`; ``acceleration`` (posts/h², last 15 min against the 15 min
    before); ``posts``, ``unique_authors``, ``reach``, ``verified``. Only posts written at or
    before ``now`` count, so a replay asked about the past sees the past.
    """
    ts = now.timestamp() if isinstance(now, datetime) else float(now)
    out: dict[str, float] = {}
    for name, span in WINDOWS.items():
        secs = span.total_seconds()
        hours = secs / 3600.0
        start = ts - secs
        posts = count_between(stats.times, start, ts)
        reposts = count_between(stats.repost_times, start, ts)
        comments = count_between(stats.comment_times, start, ts)
        if snapshots:
            snap_r = snap_c = 0
            for series in snapshots.values():
                snap_r += _snapshot_value(series, ts, 1) - _snapshot_value(series, start, 1)
                snap_c += _snapshot_value(series, ts, 2) - _snapshot_value(series, start, 2)
            reposts = max(reposts, snap_r)
            comments = max(comments, snap_c)
        out[f"posts_per_h_{name}"] = round(posts / hours, 3)
        out[f"reposts_per_h_{name}"] = round(reposts / hours, 3)
        out[f"comments_per_h_{name}"] = round(comments / hours, 3)
    quarter = WINDOWS["15m"].total_seconds()
    recent = count_between(stats.times, ts - quarter, ts)
    before = count_between(stats.times, ts - 2 * quarter, ts - quarter)
    hours = quarter / 3600.0
    out["acceleration"] = round((recent - before) / hours / hours, 3)
    out["posts"] = float(count_between(stats.times, float("-inf"), ts))
    out["unique_authors"] = float(len(stats.authors))
    out["reach"] = float(stats.reach)
    out["verified"] = float(len(stats.verified))
    return out


def post_velocity(
    post: Post,
    children: Iterable[Post],
    now: datetime | float,
    snapshots: Iterable[MetricSnapshot] = (),
) -> dict[str, float]:
    """Velocity of one post: its own reposts/comments (collected children and snapshots)."""
    stats = SpreadStats()
    stats.add(post)
    for child in children:
        stats.add(child)
    series = snapshot_series(s for s in snapshots if s.post_id == post.id)
    return velocity(stats, now, series)
