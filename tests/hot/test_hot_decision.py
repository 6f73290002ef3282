"""The hot decision's rules (nlp/hot_decision.py), one by one."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import Author, Post
from nlp.detect import HotTopics
from nlp.hot_config import HotConfigSection
from nlp.hot_decision import HotSignals, burst_counts, hot_reasons

CFG = HotConfigSection()


def _signals(**kw) -> HotSignals:
    base = {"burst": True, "burst_reason": "60 分钟 24 帖", "virality": 0.1, "roots": 1}
    base |= {"posts": 30, "burst_p_value": 1e-50}
    return HotSignals(**(base | kw))


def test_a_burst_told_by_several_source_posts_counts_on_its_own() -> None:
    reasons = hot_reasons(_signals(roots=CFG.burst_min_roots, virality=0.05), CFG, 0.8)
    assert len(reasons) == 1 and reasons[0].startswith("突发：")
    assert f"{CFG.burst_min_roots} 条源帖" in reasons[0]


def test_one_posts_burst_needs_the_virality_model_to_confirm_it() -> None:
    floor = CFG.burst_virality_threshold
    assert floor is not None  # the shipped default gates single-root bursts
    assert hot_reasons(_signals(virality=floor - 0.01), CFG, 0.99) == []
    confirmed = hot_reasons(_signals(virality=floor), CFG, 0.99)
    assert len(confirmed) == 1 and "单一源帖" in confirmed[0]
    # In its first minutes virality is unknown: burst_unknown_counts decides.
    assert burst_counts(_signals(virality=None), CFG) is CFG.burst_unknown_counts
    strict = CFG.model_copy(update={"burst_unknown_counts": False})
    assert not burst_counts(_signals(virality=None), strict)
    # No gate configured: every burst counts (the decision before issue 11).
    ungated = CFG.model_copy(update={"burst_virality_threshold": None})
    assert burst_counts(_signals(virality=0.0), ungated)


def test_no_burst_no_reason_from_it_whatever_the_roots() -> None:
    assert hot_reasons(_signals(burst=False, roots=9), CFG, 0.8) == []


def test_virality_alone_and_size() -> None:
    reasons = hot_reasons(_signals(burst=False, virality=0.85), CFG, 0.8)
    assert reasons == ["传播预测：0.85 ≥ 0.80"]
    sized = CFG.model_copy(update={"size_posts": 500})
    assert hot_reasons(_signals(burst=False, posts=499), sized, 0.8) == []
    assert hot_reasons(_signals(burst=False, posts=500), sized, 0.8) == ["规模：500 帖 ≥ 500 帖"]


def test_a_single_source_burst_can_be_held_to_a_stricter_tail_probability() -> None:
    strict = CFG.model_copy(update={"burst_single_p_value": 1e-40, "burst_virality_threshold": 0.4})
    weak = _signals(virality=0.9, burst_p_value=1e-10)
    strong = _signals(virality=0.9, burst_p_value=1e-45)
    assert not burst_counts(weak, strict) and burst_counts(strong, strict)
    # Several source posts: the burst flag alone, whatever its tail probability.
    assert burst_counts(_signals(roots=3, virality=0.0, burst_p_value=1e-5), strict)


def test_only_source_posts_written_within_the_burst_window_are_several_voices() -> None:
    # Three source posts, but two were written days before this burst (on CED: a new post
    # of a similar text joins an old cascade): one voice, so virality must confirm it.
    old = _signals(roots=3, roots_in_window=1, virality=0.05, burst_p_value=1e-5)
    assert not burst_counts(old, CFG)
    told = _signals(roots=3, roots_in_window=CFG.burst_min_roots, virality=0.05)
    reasons = hot_reasons(told, CFG, 0.8)
    assert len(reasons) == 1 and f"{CFG.burst_min_roots} 条源帖" in reasons[0]


def _late_copy_evening(first_root_before: timedelta) -> list[str]:
    """The reasons of an incident whose second source post (a copy of the first) is
    reposted 40 times within the hour, ``first_root_before`` after the first was written."""
    t0 = datetime.fromisoformat("2026-10-12T20:00:00+08:00")
    text = "网传鹭川南门街道菜市场今晚有城管打人，视频里一位老人倒在地上，有人知道怎么回事吗"

    def post(n: int, at: datetime, **kw) -> Post:
        return Post(
            source="weibo",
            native_id=str(n),
            author=Author(id=f"u{n % 20}"),
            text=text,
            created_at=at,
            region_tags=["南门街道"],
            **kw,
        )

    first, second = post(1000, t0 - first_root_before), post(1001, t0)
    reposts = [
        post(n, t0 + timedelta(minutes=n), kind="repost", root_id=second.id, parent_id=second.id)
        for n in range(1, 41)
    ]
    hot = HotTopics(HotConfigSection(score_rumors=False))
    hot.ingest([first, second, *reposts])
    assert len(hot.engine.incidents) == 1  # the copy joins the first post's incident
    (ev,) = hot.evaluate(t0 + timedelta(minutes=41))
    assert ev.burst
    return ev.reasons


def test_an_old_source_post_is_not_a_second_voice_of_todays_burst() -> None:
    within = _late_copy_evening(timedelta(minutes=10))
    assert any("2 条源帖" in r for r in within)
    hours_before = _late_copy_evening(timedelta(hours=12))
    assert not any("条源帖" in r for r in hours_before)
    assert all("单一源帖" in r for r in hours_before if r.startswith("突发："))
