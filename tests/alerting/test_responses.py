"""OfficialResponse tracking on the 岚州 rumor: the city account's post is linked, timed against the
alert's deadlines, and the claim's spread is compared before and after it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.responses import alert_deadlines, link_responses, spread_effect, stance
from models import Incident, OfficialResponse
from tests.alerting.city import ANSWER_AT, GOV, NOW, T0, post


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("官方通报了，是假的，别信", "rebut"),
        ("辟谣了，当事人没事", "rebut"),
        ("真的吗？求证", "doubt"),
        ("这是谣言吗？", "doubt"),
        ("城管太过分了", "other"),
        ("有没有人知道具体情况", "doubt"),
    ],
)
def test_stance(text, expected):
    assert stance(text) == expected


def test_official_post_is_linked_with_deadlines(city_store, city_config):
    saved = link_responses(city_store, city_config.office, now=NOW)
    (r,) = [r for r in saved if r.incident_id == "inc-lz-1"]
    assert r.post_id == "weibo:9001" and r.linked_by == "incident"
    assert r.minutes_after_first_seen == 125.0
    assert set(r.deadlines) == {"first_response", "follow_up"}
    assert r.on_time == {"first_response": False, "follow_up": True}
    # running again changes nothing (no duplicate, no new version)
    assert link_responses(city_store, city_config.office, now=NOW) == []
    assert {r.post_id for r in city_store.list_records(OfficialResponse)} == {
        "weibo:9001",
        "lz-board:M1-r",
        "lz-board:M2-r",
    }


def test_unassigned_official_post_is_linked_by_claim(city_store, city_config):
    city_store.upsert_posts(
        [
            post(
                "9002",
                "关于网传北塘区东门菜市场城管打死卖菜老人一事，经核实当事人无生命危险，"
                "请勿信谣传谣。",
                140,
                author=GOV,
                incident=None,
            ),
            post(
                "9003",
                "岚州市明日将迎来强降雨，请市民注意出行安全。",
                150,
                author=GOV,
                incident=None,
            ),
        ]
    )
    incident = city_store.get_record(Incident, "inc-lz-1")
    deadlines = {"first_response": T0 + timedelta(hours=4)}
    saved = link_responses(
        city_store,
        city_config.office,
        now=NOW,
        incidents=[incident],
        deadlines=lambda _id: deadlines,
    )
    by_post = {r.post_id: r for r in saved}
    assert by_post["weibo:9002"].linked_by == "claim"
    assert by_post["weibo:9002"].on_time == {"first_response": True}
    assert "weibo:9003" not in by_post  # the weather notice answers nothing


def test_deadlines_are_read_from_the_alert(city_store):
    deadlines = alert_deadlines(city_store, "inc-lz-1")
    assert deadlines == {
        "first_response": T0 + timedelta(hours=1),
        "follow_up": T0 + timedelta(hours=5),
    }
    assert alert_deadlines(city_store, "nothing") == {}


def test_spread_before_and_after_the_answer(city_store, city_config):
    incident = city_store.get_record(Incident, "inc-lz-1")
    assert spread_effect(city_store, incident, city_config.office, now=NOW) is None
    link_responses(city_store, city_config.office, now=NOW)
    effect = spread_effect(
        city_store, incident, city_config.office, now=NOW, window=timedelta(hours=3)
    )
    assert effect.answered_at == ANSWER_AT
    before, after = effect.before, effect.after
    assert before.start == T0 and before.hours == pytest.approx(125 / 60, abs=0.01)
    assert before.reposts == 30 and after.reposts == 5  # 130..290 min, within 3 h
    assert before.claim_posts == 6 and after.claim_posts == 0
    assert before.reposts_per_hour == 14.4 and after.reposts_per_hour == 1.67
    assert before.doubt_share > 0.3 and before.rebut_share == 0
    assert after.rebut_share >= 0.6 and after.doubt_share == 0
    # an after-window that has not fully passed is measured per elapsed hour
    early = spread_effect(
        city_store, incident, city_config.office, now=ANSWER_AT + timedelta(minutes=30)
    )
    assert early.after.hours == 0.5
