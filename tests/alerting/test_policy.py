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
        ({"heat": 30, "rumor_score": 0.4, "burst": True}, Tier.IV, "值得关注"),
        ({"heat": 45}, Tier.III, "中等热度"),
        ({"heat": 10, "category": "安全事故", "post_count": 6}, Tier.I, "社会稳定"),
        ({"heat": 10, "category": "安全事故", "post_count": 4}, Tier.IV, "值得关注"),
        ({"heat": 10}, Tier.IV, "值得关注"),
        ({"heat": 10, "hot": False}, None, None),
        # Not hot for its place: absolute heat and a category alone are no alert (a quiet
        # city's ordinary news reaches heat 40-56 with a few posts by verified accounts).
        ({"heat": 85, "hot": False, "authors": 12}, None, None),
        ({"heat": 65, "hot": False}, None, None),
        ({"heat": 56, "hot": False}, None, None),
        ({"heat": 53, "hot": False, "category": "安全事故", "post_count": 6}, None, None),
        ({"heat": 45, "hot": False, "category": "执法冲突", "post_count": 9}, None, None),
        # ... unless large whatever the place (distinct authors, not posts).
        ({"heat": 85, "hot": False, "authors": 140}, Tier.I, "热度最高档"),
        ({"heat": 50, "hot": False, "category": "安全事故", "authors": 35}, Tier.I, "社会稳定"),
        ({"heat": 50, "hot": False, "category": "执法冲突", "authors": 35}, Tier.II, "执法冲突"),
        # A likely rumor spreading fast needs several authors, not one account.
        (
            {"hot": False, "rumor_score": 0.8, "velocity": {"posts_per_h_1h": 25}, "authors": 2},
            None,
            None,
        ),
    ],
)
def test_rules(policy, kw, tier, rule):
    posts = kw.pop("post_count", 40)
    kw.setdefault("hot", True)
    authors = kw.pop("authors", None)
    inc = incident(posts=posts, **kw)
    if authors is not None:
        inc.velocity["unique_authors"] = authors
    decision = policy.decide(inc, texts=[])
    assert (decision.tier if decision else None) == tier
    assert (decision.rule.name if decision else None) == rule


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("石桥镇一民房倒塌，造成2人死亡、3人受伤", ["死亡"]),
        ("伤者经抢救无效死亡", ["死亡"]),
        ("两名游客在响水水库不幸溺亡", ["溺亡"]),
        ("一名未成年人溺亡", ["溺亡"]),
        ("刚刚东门菜市场，四个城管把一个卖菜的老人活活打死了！", ["打死"]),
        ("听说城管把老人打死了？有没有知情人", ["打死"]),
        ("东湖大道一餐馆起火，火势已扑灭，无人员伤亡。", []),
        ("事故未造成人员伤亡，道路已恢复通行", []),
        ("现场没有人死亡", []),
        ("网传“城管打死卖菜老人”与事实不符", []),
        ("网传城管打死人，经核实不实。", []),
    ],
)
def test_severity_words_are_said_not_denied(policy, text, words):
    rule = policy.rules[0]
    assert rule.name == "伤亡或群体性事件"
    small = incident(heat=12, posts=4, hot=False, category="安全事故", title="石桥镇突发情况")
    small.velocity["unique_authors"] = 3
    decision = policy.decide(small, texts=[text])
    if words:
        assert decision.tier == Tier.I and decision.rule is rule
        assert decision.figures["matched_words"] == words
        assert {t.name for t in rule.tracks} == {"tonggao"}
    else:
        assert decision is None


def test_severity_needs_two_authors_and_an_emergency_category(policy):
    texts = ["石桥镇一民房倒塌，造成2人死亡"]
    one = incident(heat=12, posts=4, hot=False, category="安全事故")
    one.velocity["unique_authors"] = 1
    assert policy.decide(one, texts=texts) is None
    chatter = incident(heat=12, posts=4, hot=False, category=None)
    chatter.velocity["unique_authors"] = 3
    assert policy.decide(chatter, texts=["这部剧男主最后死亡了，编剧太狠"]) is None


def test_texts_are_read_only_when_a_keyword_rule_needs_them(policy):
    calls = []

    def texts():
        calls.append(1)
        return ["石桥镇一民房倒塌，造成2人死亡"]

    # Too small for the keyword rule (one author): its texts are never read.
    tiny = incident(heat=12, posts=4, hot=False, category="安全事故")
    tiny.velocity["unique_authors"] = 1
    assert policy.decide(tiny, texts=texts) is None and calls == []
    small = tiny.model_copy(update={"velocity": {**tiny.velocity, "unique_authors": 2}})
    assert policy.decide(small, texts=texts).tier == Tier.I and calls == [1]
    # Without texts (a caller without a store) the title and keywords are read.
    titled = small.model_copy(update={"title": "石桥镇民房倒塌致2人死亡"})
    assert policy.decide(titled).figures["matched_words"] == ["死亡"]
    assert policy.decide(small.model_copy(update={"keywords": ["人员伤亡"]})).tier == Tier.I
    denied = small.model_copy(update={"title": "石桥镇民房倒塌，无人员伤亡", "keywords": ["伤亡"]})
    assert policy.decide(denied) is None


def test_an_old_office_policy_file_still_loads_and_decides_as_before(tmp_path):
    """Offices keep their own files: one written for the first format (no min_authors,
    keywords, any_of or answered_kinds) loads unchanged and alerts as it did."""
    old = tmp_path / "office.yaml"
    old.write_text(OLD_FORMAT, "utf-8")
    p = load_policy(old)
    assert p.direct_appeal.answered_kinds == ["reply"]
    d = p.decide(incident(heat=10, hot=False, category="安全事故", posts=6))
    assert d.tier == Tier.I and d.rule.name == "社会稳定"
    assert p.decide(incident(heat=45, hot=False)).rule.name == "中等热度"


OLD_FORMAT = """version: 1
min_posts: 3
tiers:
  I: {label: 特别重大, colour: red, first_response_hours: 1}
  II: {label: 重大, colour: orange, first_response_hours: 2}
  III: {label: 较大, colour: yellow, first_response_hours: 4}
  IV: {label: 一般, colour: blue}
rules:
  - name: 社会稳定
    tier: I
    when: {categories: [社会稳定, 群体性事件, 安全事故], min_posts: 5}
  - {name: 中等热度, tier: III, when: {heat_min: 40}}
direct_appeal: {kinds: [message], sources: []}
"""


def test_the_most_urgent_rule_wins_and_others_are_kept(policy):
    d = policy.decide(incident(heat=85, category="执法冲突", posts=20), texts=[])
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
            ("    tier: I\n    when: {heat_min: 80", "    tier: V\n    when: {heat_min: 80"),
            ":68: rules.2.tier: 应为 'I'、'II'、'III'、'IV' 之一",
        ),
        (
            ("when: {heat_min: 60, hot", "when: {heat_min: 160, hot"),
            ":82: rules.4.when.heat_min: 应小于或等于 100",
        ),
        (
            ("    first_response_hours: 2\n", "    first_response_hours: 2\n    colour2: x\n"),
            ":23: tiers.II.colour2: 未知的配置项",
        ),
        (
            ("when: {hot: true}", "when: {hott: true}"),
            ":102: rules.9.when.hott: 未知的配置项",
        ),
        (
            ("{min_authors: 100}", "{min_authors: -1}"),
            ":69: rules.2.when.any_of.1.min_authors: 应大于或等于 0",
        ),
        (
            ("  answered_kinds: [reply]", "  answered_kinds: reply"),
            ":110: direct_appeal.answered_kinds: 应为列表",
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
    with pytest.raises(PolicyError, match="找不到响应级别策略文件"):
        load_policy(tmp_path / "nope.yaml")
