"""An unseen city end to end: 鹭川市's recorded sites (tests/files/crawler/luchuan/) crawled
through the real Scrapy engine into real SQLite, with a config written only from
docs/sources.md, at a reference clock. Nothing may be missed, nothing stored twice, no
ad text kept, every date right, and the members-only board reported as a login wall
while the open one is crawled."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from models import SHANGHAI
from store.base import PostFilter
from store.sqlite import SQLiteStore
from tests.crawler.conftest import FAST, FILES, SERVER, hits, run_crawl

CITY = FILES / "luchuan"
EXPECTED = json.loads((CITY / "expected.json").read_text("utf-8"))
#: The crawl runs "at" 23:00; the pages were served (HTTP Date) at 22:30.
AT = "2026-06-12T23:00:00+08:00"

#: The configuration, written from docs/sources.md (the Discuz, portal, Weibo and board
#: examples) with this city's addresses and selectors.
CONFIG = """
store: {path: DB}
crawler: CRAWLER
gazetteer:
  城关区: [鼓楼广场, 南门街道, 鹭川东站, 市二医院]
  江南区: [江南大道, 白鹭湖, 滨湖街道, 新港镇, 翠湖小区]
  松岭县: [松岭, 云台山, 石门水库, 溪口乡]
sources:
  - name: lc-bbs
    kind: site
    title: 鹭川论坛 · 鹭川茶馆
    settings:
      start_urls: [BASE/bbs/forum-12-1.html, BASE/bbs/forum-15-1.html]
      id_pattern: 'thread-(\\d+)-'
      list:
        item: tbody[id^=normalthread]
        link: a.xst::attr(href)
        fingerprint: td.num a::text
        fields:
          comments: td.num a::text
          views: td.num em::text
        next_page: a.nxt::attr(href)
      thread:
        title: '#thread_subject::text'
        floors: '#postlist > div[id^=post_]'
        floor_id: ::attr(id)
        content: td.t_f
        fields:
          author: a.xw1::text
          author_id: {select: a.xw1::attr(href), re: 'uid-(\\d+)'}
          created_at:
            select: 'em[id^=authorposton] span::attr(title), em[id^=authorposton]::text'
            re: '(\\d{4}-\\d{1,2}-\\d{1,2} \\d{1,2}:\\d{2}(?::\\d{2})?)'
        next_page: div.pg a.nxt::attr(href)
  - name: lc-news
    kind: site
    title: 鹭川新闻网
    settings:
      start_urls: [BASE/news/list_1.html]
      id_pattern: '(?:content_|/zt/)(\\d+)\\.s?html'
      list:
        item: ul.list li
        link: a::attr(href)
        next_page: a.next::attr(href)
      detail:
        - match: '/content_\\d+\\.html'
          title: h1.arti-title::text
          content: .arti-content
          fields:
            created_at: .arti-meta .pubtime::text
            author: {select: .arti-meta .src::text, re: '来源[:：]\\s*(\\S+)'}
        - match: '/zt/\\d+\\.shtml'
          title: .d-title::text
          content: '#zoom'
          fields:
            created_at: {select: .d-info::text, re: '发布时间[:：]\\s*(.+?)\\s*(?:来源|$)'}
            author: {select: .d-info::text, re: '来源[:：]\\s*(\\S+)'}
  - name: lc-news-feeds
    kind: feed
    title: 鹭川新闻网 RSS/Atom
    settings:
      urls: [BASE/news/rss.xml, BASE/news/atom.xml]
  - name: lc-gov
    kind: feed
    title: 城关区人民政府
    settings:
      urls: [BASE/gov/rss.xml]
  - name: lc-weibo
    kind: weibo
    title: 微博 · 鹭川
    settings:
      api_base: BASE/weibo/api
      users: ["6001001"]
      keywords: [鹭川]
      heat_threshold: 5
  - name: lc-weibo-old
    kind: weibo
    title: 微博 · 鹭川 (old comment path)
    settings:
      api_base: BASE/weibo
      users: ["6001001"]
      keywords: [鹭川]
      heat_threshold: 5
      fetch_reposts: false
      comments_path: /api/comments/show
  - name: lc-board
    kind: jsonapi
    title: 鹭川市民留言板
    settings:
      url: "BASE/board/api/list?pageNo={page}&pageSize=3"
      paging: {mode: page, start: 1, size: 3, max_pages: 5}
      items: result.records
      ok: "code == `200`"
      fields:
        native_id: id
        title: title
        text: content
        author: userName
        created_at: createDate
        fingerprint: state
      children:
        - items: answer
          kind: reply
          fields:
            author: deptName
            created_at: answerDate
            text: answerContent
"""

AD_WORDS = ("湖畔壹号", "首付", "售楼", "推广", "新闻热线", "投稿邮箱", "相关阅读", "ICP", "版权")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def city_server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--root", str(CITY)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.fixture(scope="module")
def crawl(city_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("luchuan")
    text = (
        CONFIG.replace("BASE", city_server)
        .replace("DB", str(tmp / "tingfeng.db"))
        .replace("CRAWLER", json.dumps(FAST))
    )
    config = tmp / "tingfeng.yaml"
    config.write_text(text, "utf-8")
    assert yaml.safe_load(text)["sources"]
    done, log = run_crawl(config, sets=(f"TINGFENG_NOW={AT}",))
    store = SQLiteStore(tmp / "tingfeng.db")
    posts = list(store.iter_posts(PostFilter()))
    yield {
        "done": {d["source"]: d for d in done},
        "log": log,
        "store": store,
        "posts": posts,
        "by_id": {p.id: p for p in posts},
        "hits": hits(city_server),
        "base": city_server,
    }
    store.close()


def ids(crawl: dict[str, Any], source: str, kind: str | None = None) -> list[str]:
    return sorted(
        p.native_id
        for p in crawl["posts"]
        if p.source == source and (kind is None or p.kind == kind)
    )


def test_forum_every_thread_and_reply(crawl: dict[str, Any]) -> None:
    assert ids(crawl, "lc-bbs", "thread") == EXPECTED["bbs"]["threads"]
    assert ids(crawl, "lc-bbs", "reply") == EXPECTED["bbs"]["replies"]  # page 2 of 8801 too
    rumor = crawl["by_id"]["lc-bbs:thread-8801"]
    assert rumor.title == "鼓楼广场城管把卖菜的老人打死了？？现场好多人"  # GBK decoded
    assert rumor.region_tags == ["城关区"]


def test_forum_dates_from_span_titles_and_plain_text(crawl: dict[str, Any]) -> None:
    by = crawl["by_id"]
    assert by["lc-bbs:thread-8801"].created_at == t("2026-06-12 19:42:10")  # "2 小时前"
    assert by["lc-bbs:post-90004"].created_at == t("2026-06-12 21:55:00")  # page 2
    assert by["lc-bbs:thread-8802"].created_at == t("2026-06-11 22:10:00")  # "昨天 22:10"
    assert by["lc-bbs:thread-8805"].created_at == t("2026-06-09 20:00:00")  # plain text
    assert crawl["done"]["lc-bbs"]["problems"] == {}
    assert crawl["done"]["lc-bbs"]["errors"] == {"blocked_login": 1}


def test_login_wall_board_is_unhealthy_and_the_others_are_crawled(crawl: dict[str, Any]) -> None:
    done = crawl["done"]["lc-bbs"]  # every thread of the open board is in (test above)
    assert not done["healthy"] and done["reason"].startswith("被拦截：登录墙")
    assert "forum-15-1.html" in done["reason"] and done["finish_reason"] == "finished"


def test_portal_both_templates_every_article_once(crawl: dict[str, Any]) -> None:
    assert ids(crawl, "lc-news") == EXPECTED["news"]["ids"]
    # RSS and Atom point at the same articles: stored as the portal's posts, never again.
    assert ids(crawl, "lc-news-feeds") == []
    for native_id, body in EXPECTED["news"]["body"].items():
        post = crawl["by_id"][f"lc-news:{native_id}"]
        assert post.text == "\n".join(body), native_id  # full text, both templates
    assert crawl["by_id"]["lc-news:5201"].title == "专题：松岭县防汛准备就绪"
    assert crawl["by_id"]["lc-news:5101"].author.name == "鹭川日报"
    feeds = crawl["done"]["lc-news-feeds"]
    assert feeds["healthy"] and feeds["endpoints"]["article"]["ok"] == 7  # 4 RSS + 3 Atom


def test_relative_dates_count_from_the_http_date(crawl: dict[str, Any]) -> None:
    by = crawl["by_id"]
    assert by["lc-news:5201"].created_at == t("2026-06-12 19:30:00")  # "3 小时前" at 22:30
    assert by["lc-news:5202"].created_at == t("2026-06-11 20:00:00")  # "昨天 20:00"
    assert by["lc-news:5101"].created_at == t("2026-06-12 21:58:00")
    assert by["lc-weibo:5100000000000002"].created_at == t("2026-06-12 19:30:00")  # 3小时前
    assert by["lc-weibo:5100000000000003"].created_at == t("2026-06-12 22:25:00")  # 5分钟前
    assert by["lc-weibo:5100000000000004"].created_at == t("2026-06-12 22:30:00")  # 刚刚
    assert by["lc-weibo:5100000000000005"].created_at == t("2026-06-11 22:10:00")  # 昨天


def test_fetched_at_is_the_reference_clock(crawl: dict[str, Any]) -> None:
    at = datetime.fromisoformat(AT)
    assert {p.fetched_at for p in crawl["posts"]} == {at}
    assert not any(p.extra.get("created_at_estimated") for p in crawl["posts"])
    assert all(p.created_at <= at for p in crawl["posts"])


def test_feed_without_a_site_source_gets_the_full_text(crawl: dict[str, Any]) -> None:
    base = crawl["base"]
    for gid, body in EXPECTED["gov"].items():
        post = crawl["by_id"][f"lc-gov:{base}/gov/art/{gid}.html"]
        assert all(line in post.text for line in body)  # the feed only had a summary
        assert "主办" not in post.text and "政务公开" not in post.text  # page furniture


def test_an_article_stored_twice_is_warned_about(crawl: dict[str, Any]) -> None:
    base = crawl["base"]
    mirror = crawl["by_id"][f"lc-gov:{base}/news/2026-06/12/content_5102.html"]
    original = crawl["by_id"]["lc-news:5102"]
    assert {mirror.near_duplicate_of, original.near_duplicate_of} - {None} in (
        {original.id},
        {mirror.id},
    )
    warned = sum(d["problems"].get("stored_twice", 0) for d in crawl["done"].values())
    assert warned == 1
    assert "stored twice" in crawl["log"]


def test_weibo_every_repost_page_and_comment(crawl: dict[str, Any]) -> None:
    w = EXPECTED["weibo"]
    assert ids(crawl, "lc-weibo", "post") == w["posts"]
    assert ids(crawl, "lc-weibo", "repost") == w["reposts"]
    assert ids(crawl, "lc-weibo", "comment") == w["comments"]  # nested replies too
    rumor = w["rumor"]
    got = crawl["hits"]
    timeline = f"/weibo/api/statuses/repostTimeline?id={rumor}"
    repost_pages = [k for k in got if k.startswith(timeline)]
    assert len(repost_pages) == w["rumor_repost_pages"]  # from total_number, no more
    hotflow = [k for k in got if k.startswith(f"/weibo/comments/hotflow?id={rumor}")]
    assert len(hotflow) == w["rumor_comment_pages"]
    done = crawl["done"]["lc-weibo"]
    assert done["healthy"], done["reason"]
    assert done["endpoints"]["comments"] == {
        "ok": 4,
        "failed": 0,
        "errors": {},
        "login_required": 0,
        "unchanged": 0,
    }
    reply = crawl["by_id"]["lc-weibo:comment-4100000000000101"]
    assert reply.parent_id == f"lc-weibo:{rumor}" and reply.extra["reply_to"] == "4100000000000001"


def test_a_failing_endpoint_is_a_health_problem(crawl: dict[str, Any]) -> None:
    done = crawl["done"]["lc-weibo-old"]
    assert done["items"] > 0  # the timelines work ...
    assert not done["healthy"]  # ... but every comment page is a 404
    assert (
        done["reason"] == "部分页面类型采集失败：评论（comments）2 次请求中 2 次失败（HTTP 404×2）"
    )


def test_message_board_with_replies(crawl: dict[str, Any]) -> None:
    assert ids(crawl, "lc-board", "message") == EXPECTED["board"]["messages"]
    assert ids(crawl, "lc-board", "reply") == EXPECTED["board"]["replies"]
    reply = crawl["by_id"]["lc-board:LC202606120004-reply-1"]
    assert reply.parent_id == "lc-board:LC202606120004" and reply.author.name
    assert reply.created_at == t("2026-06-12 22:05:00")


def test_no_ad_text_and_complaints_keep_their_numbers(crawl: dict[str, Any]) -> None:
    for post in crawl["posts"]:
        assert not any(word in post.text for word in AD_WORDS), (post.id, post.text)
    by = crawl["by_id"]
    assert by["lc-bbs:thread-8803"].text == "白鹭湖边那个新楼盘有人去看过吗？周边配套怎么样？"
    assert "物业电话：0879-6667788" in by["lc-bbs:thread-8804"].text
    assert "物业电话0879-6667788" in by["lc-board:LC202606120003"].text


def test_nothing_stored_twice(crawl: dict[str, Any]) -> None:
    posts = crawl["posts"]
    assert len({p.id for p in posts}) == len(posts)
    expected = (
        len(EXPECTED["bbs"]["threads"]) + len(EXPECTED["bbs"]["replies"])
        + len(EXPECTED["news"]["ids"]) + len(EXPECTED["gov"]) + 1  # + the warned mirror
        + len(EXPECTED["weibo"]["posts"]) + len(EXPECTED["weibo"]["reposts"])
        + len(EXPECTED["weibo"]["comments"])
        + len(EXPECTED["board"]["messages"]) + len(EXPECTED["board"]["replies"])
    )  # fmt: skip
    # lc-weibo-old stores the same Weibo posts again under its own name (a second source).
    mine = [p for p in posts if p.source != "lc-weibo-old"]
    assert len(mine) == expected
    urls = Counter(p.extra.get("canonical_url") for p in mine if p.extra.get("canonical_url"))
    twice = f"{crawl['base']}/news/2026-06/12/content_5102.html"
    assert [u for u, n in urls.items() if n > 1] == [twice]


def test_the_docs_describe_this_config() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text("utf-8")
    for phrase in ("em[id^=authorposton] span::attr(title)", "- match: '/zt/", "comments_path"):
        assert phrase in doc


def test_a_second_crawl_stores_nothing_twice(crawl: dict[str, Any]) -> None:
    store = crawl["store"]
    before = store.count_posts()
    dates = {p.id: p.created_at for p in crawl["posts"]}
    config = Path(crawl["store"].path).parent / "tingfeng.yaml"
    done, _ = run_crawl(
        config, "lc-news", "lc-news-feeds", "lc-bbs", "lc-weibo", "lc-board",
        sets=("TINGFENG_NOW=2026-06-12T23:30:00+08:00",),
    )  # fmt: skip
    by = {d["source"]: d for d in done}
    assert all(d["new_items"] == 0 for d in done), {s: d["new_items"] for s, d in by.items()}
    assert by["lc-bbs"]["pages"] == 1  # the open board's first page is all known: stop
    assert by["lc-bbs"]["errors"] == {"blocked_login": 1}  # the wall, met again
    assert store.count_posts() == before
    # The recorded pages were served at 22:30 both times: the same dates.
    after = {p.id: p.created_at for p in store.iter_posts(PostFilter())}
    assert after == dates


def test_rss_and_atom_without_a_site_source_give_one_post_per_article(
    city_server: str, tmp_path: Path
) -> None:
    config = tmp_path / "tingfeng.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "store": {"path": str(tmp_path / "t.db")},
                "crawler": FAST,
                "sources": [
                    {"name": "feeds-only", "kind": "feed", "settings": {
                        "urls": [f"{city_server}/news/rss.xml", f"{city_server}/news/atom.xml"]}},
                ],
            },
            allow_unicode=True,
        ),
        "utf-8",
    )  # fmt: skip
    (done,), _ = run_crawl(config, sets=(f"TINGFENG_NOW={AT}",))
    store = SQLiteStore(tmp_path / "t.db")
    try:
        posts = list(store.iter_posts(PostFilter()))
    finally:
        store.close()
    # RSS has 5101, 5102, 5103, 5201; Atom 5101, 5104, 5202: six articles, 5101 once.
    canonical = sorted(p.native_id for p in posts)
    assert len(canonical) == 6 and all(c.startswith(f"{city_server}/news/") for c in canonical)
    assert not any("from=" in c or "utm_" in c for c in canonical)
    by = {p.native_id: p for p in posts}
    article = by[f"{city_server}/news/2026-06/12/content_5101.html"]
    assert "生命体征平稳" in article.text and "首付" not in article.text  # trafilatura + cleaning
    assert done["healthy"] and done["endpoints"]["article"]["ok"] == 7
