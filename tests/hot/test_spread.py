"""Spread velocity from post times and from metric snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import Author, MetricSnapshot, Post
from nlp.spread import SpreadStats, post_velocity, snapshot_series, velocity
from tests.hot.conftest import minutes, repost

BASE = datetime.fromisoformat("2026-05-11T08:00:00+08:00")


def test_windows_acceleration_authors_reach() -> None:
    root = Post(
        source="t",
        native_id="1",
        text="青川大桥公交车追尾",
        created_at=BASE,
        author=Author(id="a", followers=10000, verified=True),
    )
    stats = SpreadStats()
    stats.add(root)
    for i in range(6):  # 6 reposts 20-30 min before now
        stats.add(repost(root, i, minutes(BASE, 102 + i), followers=100))
    for i in range(6, 18):  # 12 in the last 15 min
        stats.add(repost(root, i, minutes(BASE, 110 + i)))
    now = minutes(BASE, 130)
    v = velocity(stats, now)
    assert v["posts_per_h_15m"] == 12 * 4
    assert v["posts_per_h_1h"] == 18
    assert v["posts_per_h_6h"] == 19 / 6 or abs(v["posts_per_h_6h"] - 19 / 6) < 0.01
    assert v["reposts_per_h_1h"] == 18
    assert v["acceleration"] == (12 - 6) * 16
    assert v["unique_authors"] == 19 and v["verified"] == 1
    assert v["reach"] == 10000 + 6 * 100
    # Asked about the past, only the past counts.
    assert velocity(stats, minutes(BASE, 50))["posts"] == 1


def test_snapshots_cover_uncollected_reposts() -> None:
    root = Post(source="t", native_id="1", text="停水", created_at=BASE)
    snaps = [
        MetricSnapshot(post_id=root.id, observed_at=minutes(BASE, 30), reposts=10, comments=2),
        MetricSnapshot(post_id=root.id, observed_at=minutes(BASE, 90), reposts=130, comments=8),
    ]
    v = post_velocity(root, [], minutes(BASE, 95), snaps)
    # 1 h window 35..95 min: counters went from 10 (as of 30 min) to 130.
    assert v["reposts_per_h_1h"] == 120
    assert v["comments_per_h_1h"] == 6
    stats = SpreadStats()
    stats.add(root)
    series = snapshot_series(snaps)
    assert velocity(stats, minutes(BASE, 95) + timedelta(hours=7), series)["reposts_per_h_6h"] == 0
