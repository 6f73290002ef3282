"""The story server over real HTTP on 127.0.0.1: what each site shows at a story time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from tests.crawler.conftest import REPO
from tingfeng.demo.clock import AcceleratedClock, ManualClock
from tingfeng.demo.server import StoryServer
from tingfeng.demo.story import load_story

STORY = load_story()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[StoryServer, ManualClock]]:
    clock = ManualClock(STORY.at("19:00"))
    with StoryServer(STORY, clock) as server:
        yield server, clock


def get(server: StoryServer, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urlopen(server.base_url + path, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def get_json(server: StoryServer, path: str) -> Any:
    status, _, body = get(server, path)
    assert status == 200
    return json.loads(body)


def test_the_date_header_is_the_story_clock(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    clock.set(STORY.at("20:15"))
    _, headers, _ = get(server, "/news/list_1.html")
    assert parsedate_to_datetime(headers["Date"]) == STORY.at("20:15").astimezone(UTC)


def test_the_rumor_thread_appears_at_its_time(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    thread = next(t for t in STORY.threads if t.key == "rumor-thread")
    path = f"/bbs/thread-{thread.tid}-1-1.html"
    clock.set(STORY.at("19:40"))
    assert get(server, path)[0] == 404
    assert thread.title.encode("gbk") not in get(server, "/bbs/forum-3-1.html")[2]
    clock.set(STORY.at("19:45"))
    status, headers, body = get(server, path)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=gbk"
    page = body.decode("gbk")
    assert page.count('<div id="post_') == 2  # 19:41 and 19:44
    assert 'title="2026-9-11 19:41:00">4&nbsp;分钟前</span>' in page
    listing = get(server, "/bbs/forum-3-1.html")[2].decode("gbk")
    assert listing.index(thread.title) < listing.index("周五晚高峰")  # newest reply first
    clock.set(STORY.at("23:30"))
    page2 = get(server, f"/bbs/thread-{thread.tid}-3-1.html")[2].decode("gbk")
    assert "向大家道歉" in page2 and "下一页" not in page2


def test_forum_dates_of_older_posts(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    clock.set(STORY.at("09:00", days=1))  # the day after: the first thread was 前天
    first = STORY.threads[0]
    page = get(server, f"/bbs/thread-{first.tid}-1-1.html")[2].decode("gbk")
    assert 'title="2026-9-10 07:52:00">前天&nbsp;07:52</span>' in page
    clock.set(STORY.at("09:00", days=3))
    page = get(server, f"/bbs/thread-{first.tid}-1-1.html")[2].decode("gbk")
    assert "发表于 2026-9-10 07:52</em>" in page


def test_weibo_counts_and_repost_paging(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    rumor = STORY.blog("rumor")
    clock.set(STORY.at("20:10"))
    first = get_json(server, f"/weibo/api/statuses/repostTimeline?id={rumor.mid}&page=1")
    assert first["data"]["total_number"] == 7  # 19:55 … 20:10
    clock.set(STORY.at("23:00"))
    total = sum(1 for b in STORY.blogs if b.parent == rumor.mid)
    pages = [
        get_json(server, f"/weibo/api/statuses/repostTimeline?id={rumor.mid}&page={n}")
        for n in (1, 2, 3)
    ]
    assert pages[0]["data"]["total_number"] == total
    assert sum(len(p["data"]["data"]) for p in pages) == total
    assert get_json(server, f"/weibo/api/statuses/repostTimeline?id={rumor.mid}&page=4")["ok"] == 0
    search = get_json(
        server,
        "/weibo/api/container/getIndex?containerid=100103type%3D1%26q%3D%E6%B1%9F%E5%B1%BF"
        "&page_type=searchall&page=1",
    )
    blogs = [c["mblog"] for c in search["data"]["cards"][0]["card_group"]]
    assert len(blogs) == 10
    assert [int(b["mid"]) for b in blogs] == sorted((int(b["mid"]) for b in blogs), reverse=True)


def test_hotflow_pages_by_max_id(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    clock.set(STORY.at("23:00"))
    mid = STORY.blog("rumor").mid
    seen, max_id = [], 0
    for _ in range(5):
        query = f"?id={mid}&mid={mid}" + (f"&max_id={max_id}" if max_id else "") + "&max_id_type=0"
        data = get_json(server, "/weibo/comments/hotflow" + query)["data"]
        for row in data["data"]:
            seen.append(row["id"])
            seen += [s["id"] for s in row["comments"] or []]
        max_id = data["max_id"]
        if not max_id:
            break
    assert sorted(seen) == sorted(c.cid for c in STORY.comments if c.mid == mid)


def test_board_lists_by_last_update(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    message = next(m for m in STORY.messages if m.key == "rumor-message")
    clock.set(STORY.at("21:00"))
    rows = get_json(server, "/board/api/messages?page=1&size=10")["data"]["list"]
    row = next(r for r in rows if r["msgId"] == message.msg_id)
    assert row["status"] == "办理中" and row["reply"] is None
    clock.set(STORY.at("22:00"))
    rows = get_json(server, "/board/api/messages?page=1&size=10")["data"]["list"]
    assert rows[0]["msgId"] == message.msg_id and rows[0]["status"] == "已回复"
    assert rows[0]["reply"]["dept"] == "临江区综合行政执法局"


def test_the_feed_has_absolute_links(served: tuple[StoryServer, ManualClock]) -> None:
    server, clock = served
    clock.set(STORY.at("21:40"))
    rss = get(server, "/news/rss.xml")[2].decode()
    assert f"<link>{server.base_url}/news/2026-09/11/content_" in rss
    assert "情况通报" in rss
    assert get(server, "/nowhere")[0] == 404


def test_accelerated_clock_without_sleeping() -> None:
    real = [100.0]
    clock = AcceleratedClock(STORY.at("19:00"), 36, end=STORY.at("23:59"), real=lambda: real[0])
    assert clock.now() == STORY.at("19:00")
    real[0] += 300  # five real minutes
    assert clock.now() == STORY.at("22:00")
    assert clock.real_seconds_until(STORY.at("22:30")) == pytest.approx(50)
    real[0] += 86400
    assert clock.now() == STORY.at("23:59")
    manual = ManualClock(STORY.at("19:00"))
    assert manual.advance(minutes=30) == STORY.at("19:30")
    assert manual.rate() == 0.0  # it moves only when stepped
    with pytest.raises(ValueError, match="backwards"):
        manual.advance(timedelta(minutes=-1))


def test_clock_rates_for_countdowns() -> None:
    """How fast each story clock runs (the dashboard counts deadlines down at this rate),
    and the process's reference clock rate, 1 on the machine's clock."""
    from models.common import clock_rate, now_utc, set_reference_clock

    real = [0.0]
    clock = AcceleratedClock(
        STORY.at("19:00"), 36, end=STORY.at("22:00"), then=1.0, real=lambda: real[0]
    )
    assert clock.rate() == 36
    real[0] += 300  # 22:00: the story's end, then real time
    assert clock.rate() == 1.0
    stopped = AcceleratedClock(STORY.at("19:00"), 36, end=STORY.at("19:00"), real=lambda: 0.0)
    assert stopped.rate() == 0.0
    assert AcceleratedClock(STORY.at("19:00"), 12).rate() == 12
    assert clock_rate() == 1.0
    try:
        set_reference_clock(clock.now, clock.rate)
        assert (now_utc(), clock_rate()) == (STORY.at("22:00"), 1.0)
        set_reference_clock(clock.now)  # a clock that says nothing of its rate: real time
        assert clock_rate() == 1.0
    finally:
        set_reference_clock(None)
    assert clock_rate() == 1.0


def test_the_command_prints_the_urls() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tingfeng.demo.server", "--speed", "36"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline() for _ in range(9)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    text = "".join(lines)
    assert "江屿市演示城市已启动" in text and "36 倍速" in text
    url = next(line.split("：", 1)[1].strip() for line in lines if "江屿论坛" in line)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/bbs/forum-3-1.html")
    assert "情况通报 21:30" in text
