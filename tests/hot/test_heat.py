"""Burst detector (pure, fed timestamped counts) and the heat formula.

Localities are synthetic streams with a daily rhythm (quiet nights, busy evenings): a quiet
town of about 100 posts a day and a busy city of about 10,000.
"""

from __future__ import annotations

import math
import random

import pytest
from pydantic import ValidationError

from nlp.heat import SpikeDetector, heat_score, poisson_tail
from nlp.hot_config import HotBurstConfig

H = 3600.0
DAY = 86400.0
# Midnight Beijing time, minute-aligned.
T0 = 1_700_000_000.0 - (1_700_000_000.0 % DAY) - 8 * H


def rhythm(hour: float) -> float:
    """Relative posting rate by hour of day: low at night, peaks at noon and 21:00."""
    return 0.15 + math.exp(-((hour - 12.5) ** 2) / 8) + 1.6 * math.exp(-((hour - 21) ** 2) / 6)


def ordinary_days(
    det: SpikeDetector, loc: str, days: int, per_day: float, seed: int, topics: int = 40
) -> list[tuple[float, str, str]]:
    """Feed ``days`` ordinary days: posts follow the rhythm, spread over many small topics
    (a few popular ones), each post counted for its topic and its locality."""
    rng = random.Random(seed)
    weights = [rhythm(h + 0.5) for h in range(24)]
    scale = per_day / sum(weights)
    posts = []
    for d in range(days):
        for h in range(24):
            n = _poisson(rng, weights[h] * scale)
            for _ in range(n):
                at = T0 + d * DAY + h * H + rng.random() * H
                topic = f"{loc}-d{d}-t{min(int(rng.paretovariate(1.2)) - 1, topics)}"
                posts.append((at, topic, f"u{rng.randrange(400)}"))
    posts.sort()
    for at, topic, author in posts:
        det.observe(topic, at, author=author)
        det.observe(loc, at)
    return posts


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates of these tests.
    if lam > 50:
        return max(int(rng.gauss(lam, math.sqrt(lam)) + 0.5), 0)
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def incident_posts(det: SpikeDetector, loc: str, start: float, n: int, authors: int, span: float):
    for i in range(n):
        at = start + i * span / n
        det.observe("inc", at, author=f"a{i % authors}")
        det.observe(loc, at)


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 3.0) == pytest.approx(1 - math.exp(-3.0))
    assert poisson_tail(30, 4.2) < 1e-12


def test_quiet_place_fires_within_15_minutes_of_30_posts_by_10_authors() -> None:
    det = SpikeDetector(HotBurstConfig())
    ordinary_days(det, "loc:town", 7, 100, seed=1)
    # Day 8, 20:00: 30 posts by 10 authors within the hour.
    start = T0 + 7 * DAY + 20 * H
    incident_posts(det, "loc:town", start, 30, 10, H)
    crossed = start + H
    fired = None
    for m in range(0, 61, 1):
        now = start + m * 60
        if det.evaluate("inc", now, "loc:town").flagged and fired is None:
            fired = now
    assert fired is not None and fired <= crossed + 15 * 60
    result = det.evaluate("inc", crossed, "loc:town")
    assert result.flagged and 3 < result.expected < 15 and result.authors == 10


def test_ordinary_days_raise_no_burst_quiet_and_busy() -> None:
    for loc, per_day in (("loc:town", 100), ("loc:city", 10_000)):
        det = SpikeDetector(HotBurstConfig())
        posts = ordinary_days(det, loc, 10, per_day, seed=7, topics=400)
        topics = {t for _, t, _ in posts}
        # Step every 10 minutes through the last three days, every topic of the day.
        for step in range(0, int(3 * DAY), 600):
            now = T0 + 7 * DAY + step
            day = int((now - T0) // DAY)
            for topic in (t for t in topics if t.startswith(f"{loc}-d{day}-")):
                result = det.evaluate(topic, now, loc)
                assert not result.flagged, (loc, topic, result.reason)


def test_same_count_is_no_burst_in_a_busy_city() -> None:
    det = SpikeDetector(HotBurstConfig())
    ordinary_days(det, "loc:city", 7, 10_000, seed=3, topics=400)
    start = T0 + 7 * DAY + 20 * H
    incident_posts(det, "loc:city", start, 30, 10, H)
    result = det.evaluate("inc", start + H, "loc:city")
    assert not result.flagged and result.expected > 100
    # ... but two thousand posts in the evening hour (its usual ≈ 930 for the whole city) are.
    incident_posts(det, "loc:city", start + 1, 2000, 300, H)
    assert det.evaluate("inc", start + H, "loc:city").flagged


def test_a_place_without_history_uses_the_prior() -> None:
    # No history at all: the prior (500,000 residents at 2 posts a day per 10,000).
    det = SpikeDetector(HotBurstConfig())
    start = T0 + 20 * H
    incident_posts(det, "loc:new", start, 30, 10, H)
    result = det.evaluate("inc", start + H, "loc:new")
    assert result.flagged and result.expected == pytest.approx(100 / 24, rel=0.01)
    # A city of ten million needs more.
    big = SpikeDetector(HotBurstConfig(residents=10_000_000))
    incident_posts(big, "loc:new", start, 30, 10, H)
    assert not big.evaluate("inc", start + H, "loc:new").flagged


def test_floors_posts_and_distinct_authors() -> None:
    det = SpikeDetector(HotBurstConfig())
    start = T0 + 3 * H  # 03:00, nobody posts: still 9 posts are not a burst
    incident_posts(det, "loc:x", start, 9, 9, 600)
    assert "最少 10 帖" in det.evaluate("inc", start + 600, "loc:x").reason
    det = SpikeDetector(HotBurstConfig())
    incident_posts(det, "loc:x", start, 40, 2, 1200)  # two accounts flooding
    result = det.evaluate("inc", start + 1200, "loc:x")
    assert not result.flagged and "2 位作者" in result.reason


def test_incident_is_not_its_own_baseline() -> None:
    det = SpikeDetector(HotBurstConfig(prior_days=0.01))
    # The incident itself was busy all day yesterday; the rest of the place was silent.
    incident_posts(det, "loc:x", T0, 200, 50, DAY)
    start = T0 + DAY + 20 * H
    incident_posts(det, "loc:x", start, 30, 10, H)
    assert det.evaluate("inc", start + H, "loc:x").flagged


def test_evening_peak_is_no_burst_for_the_place_itself() -> None:
    # The locality against its own history (no reference key): its usual 21:00 peak.
    det = SpikeDetector(HotBurstConfig())
    ordinary_days(det, "loc:town", 8, 2000, seed=5)
    for h in (12, 20, 21, 22):
        assert not det.evaluate("loc:town", T0 + 7 * DAY + h * H).flagged


def test_stays_flagged_then_cools_down_and_backs_off() -> None:
    cfg = HotBurstConfig(cooldown_minutes=30, backoff_minutes=60, max_backoff_minutes=240)
    det = SpikeDetector(cfg)
    start = T0 + 20 * H
    incident_posts(det, "loc:x", start, 40, 20, 1800)
    first = det.evaluate("inc", start + 1800, "loc:x")
    assert first.flagged and first.notify
    again = det.evaluate("inc", start + 1860, "loc:x")
    assert again.flagged and not again.notify
    # The window empties: still flagged while cooling down, cleared after 30 minutes.
    assert det.evaluate("inc", start + 2 * H, "loc:x").flagged
    cleared = det.evaluate("inc", start + 2 * H + 1800, "loc:x")
    assert not cleared.flagged and "回落" in cleared.reason
    # A new onset soon after: flagged, not re-notified.
    incident_posts(det, "loc:x", start + 2.6 * H, 40, 20, 600)
    flap = det.evaluate("inc", start + 2.6 * H + 600, "loc:x")
    assert flap.flagged and not flap.notify


def test_late_counts_land_in_their_window_and_state_round_trips() -> None:
    det = SpikeDetector(HotBurstConfig())
    start = T0 + 20 * H
    incident_posts(det, "loc:x", start, 30, 10, H)
    restored = SpikeDetector.from_state(det.to_state(), HotBurstConfig())
    assert restored.evaluate("inc", start + H, "loc:x").flagged
    assert restored.count("inc", start, start + H + 60) == 30
    late = SpikeDetector(HotBurstConfig())
    late.observe("inc", start + H + 90, author="z")  # a later post arrives first
    incident_posts(late, "loc:x", start, 30, 10, H)
    assert late.evaluate("inc", start + H, "loc:x").current == 30


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValidationError):
        HotBurstConfig(min_posts=0)
    with pytest.raises(ValidationError):
        HotBurstConfig(p_value=0.05, release_p_value=0.01)
    with pytest.raises(ValidationError):
        HotBurstConfig(history_days=0)


def test_heat_is_bounded_and_monotonic() -> None:
    low = heat_score(5, 1, 1000, 0, 10)
    high = heat_score(500, 200, 5_000_000, 3, 20000)
    assert 0 <= low < high <= 100
    assert heat_score(0, 0, 0, 0, 0) == 0
    assert heat_score(50, 10, 0, 1, 0) > heat_score(50, 10, 0, 0, 0)
