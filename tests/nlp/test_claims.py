"""Claim matching against earlier rumors and bulletins (a pure index, no store, no clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import SHANGHAI
from nlp.claims import DEFAULT_THRESHOLD, ClaimIndex, ClaimItem, claim_tokens, clean

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI)


def _index() -> ClaimIndex:
    index = ClaimIndex()
    a = "网传东城区城管打死小贩，现场惨不忍睹 http://t.cn/abc"
    b = "情况通报：东城区城管与小贩发生肢体冲突，无人死亡"
    index.add(
        [
            ClaimItem("weibo:1", a, T0, "rumor", "https://weibo.com/1/1"),
            ClaimItem("bulletin-7", b, T0 + timedelta(hours=3), "bulletin"),
            ClaimItem("weibo:2", "南山县自来水有毒，千万不要喝", T0 + timedelta(days=3), "rumor"),
            ClaimItem("weibo:3", "西江区图书馆新馆开放，开放时间九点至二十一点", T0, "rumor"),
        ]
    )
    return index


def test_reworded_rumor_finds_the_earlier_one_with_date_and_link() -> None:
    matches = _index().match("扩散！东城区城管把小贩打死了，惨不忍睹！！@某某 [怒]")
    assert matches, "a reworded copy must match"
    best = matches[0]
    assert best.id == "weibo:1" and best.link == "https://weibo.com/1/1"
    assert best.similarity >= DEFAULT_THRESHOLD
    assert best.date == T0
    assert "2024-05-01" in best.sentence() and "https://weibo.com/1/1" in best.sentence()


def test_near_duplicate_flag_for_copies_with_another_link() -> None:
    matches = _index().match("南山县自来水有毒，千万不要喝 http://t.cn/zzz //@张三: 真的吗")
    assert matches[0].id == "weibo:2"
    assert matches[0].near_duplicate
    assert matches[0].similarity > 0.95


def test_unrelated_text_matches_nothing() -> None:
    assert _index().match("北湖区春季植树活动圆满结束") == []
    assert _index().match("") == []
    assert ClaimIndex().match("东城区城管") == []


def test_before_and_exclude_filters() -> None:
    index = _index()
    text = "南山县自来水有毒，千万不要喝"
    assert index.match(text, before=T0 + timedelta(days=1)) == []
    assert index.match(text, exclude_ids=["weibo:2"]) == []


def test_bulletins_are_matched_and_ids_are_not_indexed_twice() -> None:
    index = _index()
    assert index.add([ClaimItem("weibo:1", "重复 id 的另一段文字", T0, "rumor")]) == 0
    assert len(index) == 4
    kinds = {m.kind for m in index.match("东城区城管与小贩冲突，有人死亡吗", threshold=0.2)}
    assert "bulletin" in kinds


def test_cleaning_drops_links_mentions_emoticons_and_repost_chains() -> None:
    assert clean("真的 http://t.cn/abc @某人 [哈哈] 吗//@张三: 原文") == "真的 吗"
    assert "http" not in claim_tokens("看 http://t.cn/abc 这个")
