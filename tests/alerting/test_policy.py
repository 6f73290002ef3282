"""The tier policy: defaults from PRODUCT.md, departments, and errors with file:line:key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.policy import DEFAULT_POLICY, PolicyError, load_policy
from models import Tier
from tests.alerting.support import T0, incident


def test_default_tiers_and_deadlines(policy):
    assert [policy.tiers[t].colour for t in Tier] == ["red", "orange", "yellow", "blue"]
    assert [policy.tiers[t].first_response_hours for t in Tier] == [1, 2, 4, None]
    rule = policy.rules[0]
    names = {d.name: d.hours for d in policy.deadlines(Tier.I, rule, T0)}
    assert names["authoritative_release"] == 5 and names["press_conference"] == 24
    assert {d.name: d.hours for d in policy.deadlines(Tier.III, policy.rules[-1], T0)} == {
        "first_response": 4,
        "answer": 48,
    }
    assert policy.deadlines(Tier.IV, policy.rules[-1], T0) == []


@pytest.mark.parametrize(
    ("kw", "tier", "rule"),
    [
        ({"heat": 85}, Tier.I, "热度最高档"),
        ({"heat": 65}, Tier.II, "高热度"),
        (
            {"heat": 30, "rumor_score": 0.8, "velocity": {"posts_per_h_1h": 25}},
            Tier.II,
            "疑似谣言快速传播",
        ),
        ({"heat": 30, "rumor_score": 0.8, "burst": True}, Tier.II, "疑似谣言爆发"),
        ({"heat": 30, "rumor_score": 0.4, "burst": True, "hot": True}, Tier.IV, "值得关注"),
        ({"heat": 45}, Tier.III, "中等热度"),
        ({"heat": 10, "category": "安全事故", "post_count": 6}, Tier.I, "社会稳定"),
        ({"heat": 10, "category": "安全事故", "post_count": 4}, None, None),
        ({"heat": 10}, None, None),
    ],
)
def test_rules(policy, kw, tier, rule):
    posts = kw.pop("post_count", 40)
    decision = policy.decide(incident(posts=posts, **kw))
    assert (decision.tier if decision else None) == tier
    assert (decision.rule.name if decision else None) == rule


def test_the_most_urgent_rule_wins_and_others_are_kept(policy):
    d = policy.decide(incident(heat=85, category="执法冲突", posts=20))
    assert d.tier == Tier.I and d.rule.name == "热度最高档"
    assert "执法冲突" in d.also and "高热度" in d.also
    # The 通稿 track of a less urgent rule is not lost: it is the winner's extra clock only.
    assert d.figures["heat"] == 85


def test_departments_by_district_and_category(tmp_path):
    text = DEFAULT_POLICY.read_text("utf-8").replace(
        "  by_district: {}\n  by_district_category: {}",
        "  by_district: {白塔县: 白塔县委宣传部}\n"
        "  by_district_category: {白塔县: {环境: 白塔县环保督查组}}",
    )
    path = tmp_path / "policy.yaml"
    path.write_text(text, "utf-8")
    p = load_policy(path)
    assert p.department_of("白塔县", "食品安全") == ("白塔县委宣传部", "白塔县市场监管局")
    assert p.primary_department("白塔县", "环境") == "白塔县环保督查组"
    assert p.primary_department(None, None) == "网信办值班室"


def test_escalation_never_moves_a_deadline_later(policy):
    rule = policy.rules[0]
    first = policy.deadlines(Tier.III, rule, T0)
    later = policy.deadlines(Tier.II, rule, T0 + timedelta(hours=3), first)
    by = {d.name: d.due for d in later}
    assert by["first_response"] == T0 + timedelta(hours=4)  # kept: 3 h + 2 h would be later
    assert by["answer"] == T0 + timedelta(hours=48)  # a clock of the old tier keeps running


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("    tier: I\n    when: {heat_min: 80}", "    tier: V\n    when: {heat_min: 80}"),
            ":48: rules.1.tier: Input should be 'I', 'II', 'III' or 'IV'",
        ),
        (
            ("when: {heat_min: 60}", "when: {heat_min: 160}"),
            ":59: rules.3.when.heat_min: Input should be less than or equal to 100",
        ),
        (
            ("    first_response_hours: 2\n", "    first_response_hours: 2\n    colour2: x\n"),
            ":23: tiers.II.colour2: Extra inputs are not permitted",
        ),
        (
            ("when: {hot: true}", "when: {hott: true}"),
            ":79: rules.8.when.hott: Extra inputs are not permitted",
        ),
        (("min_posts: 3", "min_posts: [3"), ":11: not valid YAML"),
    ],
)
def test_bad_policy_names_file_line_and_key(tmp_path, edit, expected):
    text = DEFAULT_POLICY.read_text("utf-8")
    assert edit[0] in text
    path = tmp_path / "office-policy.yaml"
    path.write_text(text.replace(edit[0], edit[1], 1), "utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert f"{path}{expected}" in str(info.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="tier policy file not found"):
        load_policy(tmp_path / "nope.yaml")
