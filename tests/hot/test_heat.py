"""Burst detector (pure, fed timestamped counts) and the heat formula."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nlp.heat import SpikeConfig, SpikeDetector, heat_score

H = 3600.0
T0 = 1_700_000_000.0 - (1_700_000_000.0 % 60)


def cfg(**kw) -> SpikeConfig:
    base = dict(
        reference=timedelta(hours=4),
        current=timedelta(hours=1),
        ratio=3.0,
        min_current=10,
        min_reference=2,
        release=0.5,
        cooldown=timedelta(minutes=30),
        backoff=timedelta(hours=1),
        max_backoff=timedelta(hours=4),
    )
    base.update(kw)
    return SpikeConfig(**base)


def steady(det: SpikeDetector, key: str, start: float, hours: float, per_hour: int) -> None:
    """``per_hour`` observations spread evenly over ``hours`` from ``start``."""
    n = int(hours * per_hour)
    for i in range(n):
        det.observe(key, start + i * (H / per_hour))


def both(det: SpikeDetector, at: float) -> None:
    """One incident post: counted for the incident and for its locality (as HotTopics does)."""
    det.observe("inc", at)
    det.observe("loc", at)


def test_no_firing_before_reference_window_is_filled() -> None:
    det = SpikeDetector(cfg())
    # Quiet baseline for 2 h only (reference needs 4 h before the current hour).
    steady(det, "loc", T0, 2, 2)
    for i in range(100):
        det.observe("inc", T0 + 2 * H + i * 30)
    result = det.evaluate("inc", T0 + 2 * H + 3000, reference_key="loc")
    assert not result.flagged
    assert "not yet filled" in result.reason


def test_incident_is_not_its_own_baseline() -> None:
    det = SpikeDetector(cfg())
    steady(det, "loc", T0, 6, 2)
    now = T0 + 6 * H
    # A long-running incident dominates its locality: compared with everything else that
    # happened there, it stays a burst rather than becoming its own "normal".
    for i in range(300):
        both(det, now - 4 * H + i * 60)
    result = det.evaluate("inc", now + 3600, reference_key="loc")
    assert result.flagged and result.reference < 5


def test_zero_vs_zero_never_fires() -> None:
    det = SpikeDetector(cfg(min_reference=0, min_current=1))
    det.observe("loc", T0)  # history exists, then nothing at all
    for hour in range(6, 30):
        result = det.evaluate("inc", T0 + hour * H, reference_key="loc")
        assert not result.flagged and not result.notify


def test_min_current_blocks_small_counts_and_ratio_fires_once() -> None:
    det = SpikeDetector(cfg())
    steady(det, "loc", T0, 6, 2)  # 2 posts/h in the locality for 6 h
    now = T0 + 6 * H
    for i in range(5):
        det.observe("inc", now - 600 + i)
    small = det.evaluate("inc", now, reference_key="loc")
    assert not small.flagged and "min_current" in small.reason
    for i in range(20):
        det.observe("inc", now - 500 + i)
    big = det.evaluate("inc", now, reference_key="loc")
    assert big.flagged and big.notify and big.ratio is not None and big.ratio >= 3
    again = det.evaluate("inc", now + 60, reference_key="loc")
    assert again.flagged and not again.notify  # grouped: one notification per incident


def test_same_count_is_no_burst_in_a_busy_locality() -> None:
    quiet, busy = SpikeDetector(cfg()), SpikeDetector(cfg())
    steady(quiet, "loc", T0, 6, 2)
    steady(busy, "loc", T0, 6, 60)
    now = T0 + 6 * H
    for det in (quiet, busy):
        for i in range(30):
            det.observe("inc", now - 1800 + i * 60)
    assert quiet.evaluate("inc", now, reference_key="loc").flagged
    assert not busy.evaluate("inc", now, reference_key="loc").flagged


def test_stays_flagged_while_hot_then_cools_down_and_backs_off() -> None:
    det = SpikeDetector(cfg())
    steady(det, "loc", T0, 6, 2)
    now = T0 + 6 * H
    for i in range(30):
        both(det, now - 1800 + i * 60)
    assert det.evaluate("inc", now, reference_key="loc").notify
    # Slower but still above ratio * release: stays flagged.
    for i in range(15):
        both(det, now + 1800 + i * 120)
    mid = det.evaluate("inc", now + 3600, reference_key="loc")
    assert mid.flagged and not mid.notify
    # Nothing more: below the release ratio -> cooling down, still flagged for 30 min.
    later = now + 3 * H
    cooling = det.evaluate("inc", later, reference_key="loc")
    assert cooling.flagged and "cooling down" in cooling.reason
    cleared = det.evaluate("inc", later + 31 * 60, reference_key="loc")
    assert not cleared.flagged and "cooled down" in cleared.reason
    # A new onset soon after the clear is flagged but not re-notified (back-off).
    again_at = later + 40 * 60
    for i in range(40):
        both(det, again_at - 1200 + i * 30)
    again = det.evaluate("inc", again_at, reference_key="loc")
    assert again.flagged and not again.notify and "back-off" in again.reason


def test_own_history_reference_like_spike_rule() -> None:
    det = SpikeDetector(cfg())
    steady(det, "loc", T0, 5, 5)
    now = T0 + 5 * H
    for i in range(60):
        det.observe("loc", now - 3000 + i * 50)
    result = det.evaluate("loc", now)
    assert result.flagged and result.ratio and result.ratio > 3


def test_late_counts_land_in_their_window_and_state_round_trips() -> None:
    det = SpikeDetector(cfg())
    steady(det, "loc", T0, 6, 2)
    now = T0 + 6 * H
    det.observe("inc", now - 10 * H)  # very late, outside both windows
    assert det.count("inc", now - H, now + 60) == 0
    for i in range(30):
        det.observe("inc", now - 100 - i)  # arrive in any order
    restored = SpikeDetector.from_state(det.to_state(), det.config)
    assert restored.evaluate("inc", now, reference_key="loc").flagged


def test_config_rejects_zero_min_current() -> None:
    with pytest.raises(ValueError):
        SpikeConfig(min_current=0)


def test_heat_is_bounded_and_monotonic() -> None:
    low = heat_score(5, 1, 1000, 0, 10)
    high = heat_score(500, 200, 5_000_000, 3, 20000)
    assert 0 <= low < high <= 100
    assert heat_score(0, 0, 0, 0, 0) == 0
    assert heat_score(50, 10, 0, 1, 0) > heat_score(50, 10, 0, 0, 0)
