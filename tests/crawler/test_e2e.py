"""Whole crawls through the real Scrapy engine, in a subprocess, against the fixture server
on 127.0.0.1: GBK forum with pagination, RSS/Atom, a Weibo-like API with login walls, a
JSON message board, a 500 that heals, a timeout, malformed HTML/JSON and robots.txt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store.base import PostFilter
from store.sqlite import SQLiteStore
from tests.crawler.conftest import (
    board_settings,
    forum_settings,
    hits,
    news_settings,
    run_crawl,
    weibo_settings,
    write_config,
)


def sources(base: str) -> list[dict[str, Any]]:
    return [
        {"name": "qc-news", "kind": "site", "title": "青川新闻网", "settings": news_settings(base)},
        {"name": "qc-bbs", "kind": "site", "title": "青川论坛", "settings": forum_settings(base)},
        {"name": "qc-gov", "kind": "feed", "title": "青川市人民政府",
         "settings": {"urls": [f"{base}/gov/rss.xml", f"{base}/gov/atom.xml"],
                      "full_text": False}},
        {"name": "qc-weibo", "kind": "weibo", "settings": weibo_settings(base)},
        {"name": "qc-board", "kind": "jsonapi", "title": "青川市民心声",
         "settings": board_settings(base)},
        {"name": "wb-locked", "kind": "weibo",
         "settings": {"api_base": f"{base}/weibo-locked", "users": ["5001001"]}},
        {"name": "wb-432", "kind": "weibo",
         "settings": {"api_base": f"{base}/weibo-432", "users": ["5001001"]}},
        {"name": "wb-visitor", "kind": "weibo",
         "settings": {"api_base": f"{base}/weibo-visitor", "users": ["5001001"]}},
        {"name": "wb-redirect", "kind": "weibo",
         "settings": {"api_base": f"{base}/weibo-redirect", "users": ["5001001"]}},
        {"name": "down", "kind": "feed", "settings": {"urls": [f"{base}/down/rss.xml"]}},
        {"name": "bbs-broken", "kind": "site",
         "settings": {**forum_settings(base), "start_urls": [f"{base}/bbs/forum-9-1.html"]}},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def crawled(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("e2e")
    config = write_config(tmp, sources(server))
    done, log = run_crawl(config)
    store = SQLiteStore(tmp / "tingfeng.db")
    yield {
        "config": config,
        "done": {d["source"]: d for d in done},
        "log": log,
        "store": store,
        "tmp": tmp,
        "hits": hits(server),
    }
    store.close()


def posts(store: SQLiteStore, source: str) -> dict[str, Any]:
    return {p.native_id: p for p in store.iter_posts(PostFilter(sources=[source]))}


def test_every_source_reports(crawled: dict[str, Any]) -> None:
    assert set(crawled["done"]) == {s["name"] for s in sources("x")}


def test_gbk_forum_with_pagination(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "qc-bbs")
    threads = {k for k, p in got.items() if p.kind == "thread"}
    assert threads == {f"thread-{t}" for t in range(2001, 2007)}  # both list pages
    assert got["post-30107"].parent_id == "qc-bbs:thread-2001"  # thread page 2
    assert got["thread-2001"].title == "西江大桥上的裂缝是不是越来越大了？有没有懂行的来看看"
    assert got["thread-2006"].text.startswith("昨晚停在滨江路的车")  # lying charset header
    assert got["thread-2005"].text.startswith("今年沙湾镇的龙舟邀请赛")  # no charset at all
    assert got["thread-2001"].comments == 6 and got["thread-2001"].extra["views"] == 3521
    assert got["thread-2001"].region_tags == ["西江区"]
    assert got["post-30202"].region_tags == ["南山县"]  # inherited from its thread
    problems = crawled["done"]["qc-bbs"]["problems"]
    assert problems["charset_wrong"] == 1 and problems["charset_missing"] == 1


def test_malformed_list_page_still_leads_to_its_threads(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "bbs-broken")
    assert "thread-2001" in got and got["thread-2001"].title.startswith("西江大桥")
    # The same thread from the other forum source is linked as a copy, not dropped.
    assert got["thread-2001"].near_duplicate_of == "qc-bbs:thread-2001" or (
        crawled["store"].get_post("qc-bbs:thread-2001").near_duplicate_of
        == "bbs-broken:thread-2001"
    )


def test_rss_and_atom(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "qc-gov")
    assert len(got) == 6
    assert got["gov-3002"].created_at.isoformat() == "2026-05-27T23:20:00+08:00"


def test_news_cleaned_and_deduplicated(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "qc-news")
    article = got["1001"]
    assert "首付" not in article.text and "相关阅读" not in article.text
    assert "ICP" not in article.text
    # The same report came first through the government feed or the news site; either
    # way the later copy points at the earlier one.
    gov = crawled["store"].get_post("qc-gov:gov-3003")
    assert {article.near_duplicate_of, gov.near_duplicate_of} - {None} in (
        {"qc-gov:gov-3003"},
        {"qc-news:1001"},
    )


def test_500_then_success(crawled: dict[str, Any]) -> None:
    assert "1008" in posts(crawled["store"], "qc-news")


def test_timeout_is_counted_and_the_crawl_goes_on(crawled: dict[str, Any]) -> None:
    done = crawled["done"]["qc-news"]
    assert done["errors"]["timeout"] == 1
    assert "1009" not in posts(crawled["store"], "qc-news")
    assert done["healthy"]


def test_robots_disallow_is_obeyed(crawled: dict[str, Any], server: str) -> None:
    assert crawled["done"]["qc-news"]["errors"]["robots_disallowed"] == 1
    assert "/private/internal-notice.html" not in crawled["hits"]


def test_malformed_html_and_absurd_dates(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "qc-news")
    assert "门诊楼" in got["1004"].text  # broken markup
    assert got["1006"].extra["raw_created_at"] == "1970-01-01 08:00"
    assert got["1007"].extra["raw_created_at"] == "2099-12-31 23:59"
    assert got["1005"].extra["created_at_estimated"] is True
    problems = crawled["done"]["qc-news"]["problems"]
    assert problems == {"date_too_old": 1, "date_future": 1, "date_missing": 1}


def test_weibo_api(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "qc-weibo")
    assert got["5023000000000001"].author.name == "青川发布"
    assert "http://t.cn/A6qcJx7Y" in got["5023000000000001"].text
    assert got["comment-4900000000000001"].parent_id == "qc-weibo:5023000000000201"
    assert got["5023000000000301"].kind == "repost"
    assert got["5023000000000204"].near_duplicate_of == "qc-weibo:5023000000000201"
    assert got["5022000000000004"].created_at.year == 2026  # timeline page 2
    assert got["5023000000000102"].text.endswith("“青川市民心声”留言。")  # long text in full
    assert crawled["done"]["qc-weibo"]["problems"]["bad_json"] == 1  # truncated search page


@pytest.mark.parametrize(
    ("source", "word"),
    [
        ("wb-locked", "登录墙"),
        ("wb-432", "432"),
        ("wb-redirect", "登录墙"),
        ("wb-visitor", "登录墙"),
    ],
)
def test_walls_are_reported_never_parsed_as_empty(
    crawled: dict[str, Any], source: str, word: str
) -> None:
    done = crawled["done"][source]
    assert not done["healthy"] and word in done["reason"]
    assert done["finish_reason"] == "blocked"
    saved = crawled["store"].get_state(f"source_health:{source}")
    assert saved["healthy"] is False


def test_only_errors_is_unhealthy(crawled: dict[str, Any]) -> None:
    done = crawled["done"]["down"]
    assert not done["healthy"] and done["reason"].startswith("只有错误：")


def test_json_board_with_replies_and_malformed_page(crawled: dict[str, Any]) -> None:
    got = posts(crawled["store"], "qc-board")
    assert len([p for p in got.values() if p.kind == "message"]) == 6
    assert got["M20260527004-reply-1"].parent_id == "qc-board:M20260527004"
    assert crawled["done"]["qc-board"]["problems"]["bad_json"] == 1


def test_snapshots_for_every_observation(crawled: dict[str, Any]) -> None:
    snaps = crawled["store"].get_snapshots(["qc-weibo:5023000000000002"])
    assert snaps and snaps[0].reposts == 1820


def test_health_and_cursor_are_persisted(crawled: dict[str, Any]) -> None:
    store = crawled["store"]
    assert store.get_state("source_health:qc-news")["pages"] >= 9
    assert "1001" in store.get_state("cursor:qc-news")["seen"]
    assert store.get_state("cursor:wb-locked") is None  # blocked: cursor not advanced


def test_recrawl_is_incremental_and_appends_snapshots(crawled: dict[str, Any]) -> None:
    store = crawled["store"]
    before = store.count_posts()
    done, _ = run_crawl(crawled["config"], "qc-news", "qc-weibo", "qc-bbs")
    by = {d["source"]: d for d in done}
    assert by["qc-news"]["new_items"] == 0 and by["qc-bbs"]["new_items"] == 0
    assert by["qc-bbs"]["pages"] == 1  # first list page all known: stop
    assert by["qc-news"]["pages"] <= 3  # list + the article that timed out, tried again
    assert store.count_posts() == before
    snaps = store.get_snapshots(["qc-weibo:5023000000000002"])
    assert len(snaps) == 2  # the weibo timeline's first page is read again


def test_a_source_may_be_exempted_from_robots(server: str, tmp_path: Path) -> None:
    settings = {**news_settings(server), "obey_robots": False}
    settings["list"] = {**settings["list"], "max_pages": 1}
    config = write_config(tmp_path, [{"name": "no-robots", "kind": "site", "settings": settings}])
    (done,), _ = run_crawl(config)
    assert "robots_disallowed" not in done["errors"]
    assert hits(server).get("/private/internal-notice.html", 0) >= 1
