"""The story as data: ids, times and the shape of the evening the demo depends on."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tingfeng.demo.config import KEYWORDS, demo_config
from tingfeng.demo.story import StoryError, load_story

STORY = load_story()


def test_every_post_has_its_own_id_and_ids_grow_with_time() -> None:
    ids = [(i.channel, i.native_id) for i in STORY.items]
    assert len(ids) == len(set(ids))
    mids = [b.mid for b in sorted(STORY.blogs, key=lambda b: b.at)]
    assert mids == sorted(mids)
    pids = [f.pid for f in sorted((f for t in STORY.threads for f in t.floors), key=lambda f: f.at)]
    assert pids == sorted(pids)
    assert [a.aid for a in STORY.articles] == sorted(a.aid for a in STORY.articles)


def test_replies_comments_and_reposts_come_after_what_they_answer() -> None:
    blogs = {b.mid: b for b in STORY.blogs}
    assert all(b.at >= blogs[b.parent].at for b in STORY.blogs if b.parent)
    assert all(c.at >= blogs[c.mid].at for c in STORY.comments)
    assert all(m.reply.at >= m.at for m in STORY.messages if m.reply)


def test_every_weibo_post_is_found_by_the_configured_crawl() -> None:
    # a keyword search or a watched timeline reaches every original post
    config = demo_config("http://127.0.0.1:1", "/tmp/x")
    weibo = next(s for s in config["sources"] if s["kind"] == "weibo")["settings"]
    for b in STORY.blogs:
        if b.parent is None:
            assert b.user.uid in weibo["users"] or any(k in b.text for k in KEYWORDS), b.text


def test_texts_are_not_template_repetition() -> None:
    texts = Counter(i.text for i in STORY.items if i.text != "转发微博")
    assert texts.most_common(1)[0][1] <= 3, texts.most_common(3)
    assert len(texts) >= 230


def test_a_quiet_city_then_a_burst() -> None:
    day_before = [i for i in STORY.items if i.at.date() == STORY.day - timedelta(days=1)]
    assert 60 <= len(day_before) <= 150  # a quiet city's day
    start, posts, authors = STORY.busiest_hour()
    assert posts >= 30 and authors >= 10
    assert STORY.at("19:30") <= start <= STORY.at("20:30")
    first = min(i.at for i in STORY.items if i.arc == "rumor")
    assert first == STORY.at("19:41")  # the forum thread
    # before the rumor no hour has more than a handful of posts
    for hour in range(7, 19):
        at = STORY.at(f"{hour:02d}:00")
        n = sum(1 for i in STORY.items if at <= i.at < at + timedelta(hours=1))
        assert n <= 12, (hour, n)


def test_the_official_bulletin_and_the_spread_dying_down() -> None:
    bulletin = STORY.blog("bulletin")
    assert bulletin.at == STORY.at("21:30") and bulletin.user.office
    assert bulletin.user.verified_type == 1 and "情况通报" in bulletin.text
    article = next(a for a in STORY.articles if a.key == "bulletin-article")
    assert article.at <= bulletin.at + timedelta(minutes=10)
    rumor = {STORY.blog("rumor").mid, STORY.blog("sbs-rumor").mid}
    spread = [b for b in STORY.blogs if b.parent in rumor]
    before = sum(1 for b in spread if STORY.at("20:30") <= b.at < bulletin.at)
    after = sum(1 for b in spread if bulletin.at <= b.at < bulletin.at + timedelta(hours=1))
    assert after * 3 < before  # the rumor's reposts stop after the bulletin
    doubts = [i for i in STORY.items if i.arc == "rumor" and i.at < bulletin.at
              and any(w in i.text for w in ("真的", "求证", "别乱传", "别传"))]  # fmt: skip
    assert len(doubts) >= 8


def test_office_accounts_are_government_accounts() -> None:
    assert {u.name for u in STORY.office_accounts} == {
        "江屿发布",
        "临江发布",
        "江屿城管",
        "江屿警方",
    }
    assert all(u.verified_type == 1 for u in STORY.office_accounts)


def test_a_bad_story_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "city: 某市\nday: '2026-01-02'\ndistricts: {}\n"
        "weibo:\n  - {at: '25:99', author: a, text: x}\n",
        "utf-8",
    )
    with pytest.raises(StoryError, match=r"weibo\[0\]: bad time '25:99'"):
        load_story(bad)
    with pytest.raises(StoryError, match="cannot read"):
        load_story(tmp_path / "missing.yaml")
    bad.write_text("- just a list\n", "utf-8")
    with pytest.raises(StoryError, match="mapping"):
        load_story(bad)
