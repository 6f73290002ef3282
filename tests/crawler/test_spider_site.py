"""The site spider on saved pages: a UTF-8 news site and a GBK Discuz! forum."""

from __future__ import annotations

import pytest
from scrapy.http import Request

from crawler.items import PostItem
from crawler.spiders.site import SiteSpider
from tests.crawler.conftest import forum_settings, make_spider, news_settings, page


@pytest.fixture
def news() -> SiteSpider:
    return make_spider("site", news_settings())  # type: ignore[return-value]


@pytest.fixture
def forum() -> SiteSpider:
    return make_spider("site", forum_settings())  # type: ignore[return-value]


def _article(spider: SiteSpider, aid: str) -> PostItem:
    response = page(f"news/2026/{aid}.html", url=f"http://127.0.0.1:8000/news/2026/{aid}.html")
    (item,) = spider.parse_detail(response, listed={})
    return item


def test_list_page_yields_detail_requests(news: SiteSpider) -> None:
    out = list(news.parse(page("news/list_1.html"), page=1))
    urls = [r.url for r in out if isinstance(r, Request)]
    assert "http://127.0.0.1:8000/news/2026/1001.html" in urls
    assert urls[-1] == "http://127.0.0.1:8000/news/list_2.html"


def test_list_links_robots_may_refuse_are_still_requested(news: SiteSpider) -> None:
    # robots.txt is the downloader's business (RobotsTxtMiddleware), not the spider's.
    urls = [r.url for r in news.parse(page("news/list_1.html"), page=1)]
    assert any("/private/" in u for u in urls)


def test_known_entries_are_skipped_and_pagination_stops(news: SiteSpider) -> None:
    cursor = {
        "seen": {str(i): "" for i in range(1001, 1006)}
        | {"http://127.0.0.1:8000/private/internal-notice.html": ""}
    }
    spider = make_spider("site", news_settings(), cursor=cursor)
    assert list(spider.parse(page("news/list_1.html"), page=1)) == []


def test_incomplete_cursor_keeps_paginating() -> None:
    cursor = {
        "incomplete": True,
        "seen": {str(i): "" for i in range(1001, 1006)}
        | {"http://127.0.0.1:8000/private/internal-notice.html": ""},
    }
    spider = make_spider("site", news_settings(), cursor=cursor)
    urls = [r.url for r in spider.parse(page("news/list_1.html"), page=1)]
    assert urls == ["http://127.0.0.1:8000/news/list_2.html"]


def test_article_native_id(news: SiteSpider) -> None:
    assert _article(news, "1001").native_id == "1001"


def test_article_title(news: SiteSpider) -> None:
    assert _article(news, "1001").title == "强降雨致西江区滨江路多处积水 消防连夜排涝"


def test_article_date(news: SiteSpider) -> None:
    assert _article(news, "1001").created_at == "2026-05-28 07:30"


def test_article_author(news: SiteSpider) -> None:
    assert _article(news, "1001").author["name"] == "作者：李明"


def test_article_body_is_raw_html_for_the_pipeline(news: SiteSpider) -> None:
    html = _article(news, "1001").html or ""
    assert "消防救援支队" in html and "<p>" in html


def test_article_kind_and_url(news: SiteSpider) -> None:
    item = _article(news, "1002")
    assert item.kind == "article"
    assert item.url == "http://127.0.0.1:8000/news/2026/1002.html"


def test_article_without_date_or_author_still_parses(news: SiteSpider) -> None:
    item = _article(news, "1005")
    assert item.created_at is None and item.author["name"] is None
    assert item.title == "西江湿地公园二期向市民开放"


def test_broken_markup_article_parses(news: SiteSpider) -> None:
    assert "门诊楼" in (_article(news, "1004").html or "")


# -- the GBK forum ---------------------------------------------------------------------
def test_forum_list_is_decoded_from_gbk(forum: SiteSpider) -> None:
    out = list(forum.parse(page("bbs/forum-2-1.html"), page=1))
    assert out[0].url == "http://127.0.0.1:8000/bbs/thread-2001-1-1.html"
    assert out[0].cb_kwargs["listed"] == {"comments": "6", "views": "3521"}
    assert out[-1].url == "http://127.0.0.1:8000/bbs/forum-2-2.html"


def test_thread_with_unchanged_reply_count_is_not_fetched_again() -> None:
    spider = make_spider("site", forum_settings(), cursor={"seen": {"2001": "6"}})
    urls = [r.url for r in spider.parse(page("bbs/forum-2-1.html"), page=1)]
    assert "http://127.0.0.1:8000/bbs/thread-2001-1-1.html" not in urls
    assert "http://127.0.0.1:8000/bbs/thread-2002-1-1.html" in urls


def test_thread_with_new_replies_is_fetched_again() -> None:
    spider = make_spider("site", forum_settings(), cursor={"seen": {"2001": "5"}})
    urls = [r.url for r in spider.parse(page("bbs/forum-2-1.html"), page=1)]
    assert "http://127.0.0.1:8000/bbs/thread-2001-1-1.html" in urls


def _thread(spider: SiteSpider, path: str = "bbs/thread-2001-1-1.html") -> list:
    url = f"http://127.0.0.1:8000/{path}"
    return list(spider.parse_thread(page(path, url=url), listed={"comments": "6"}, page=1))


def test_first_floor_is_the_thread(forum: SiteSpider) -> None:
    first = _thread(forum)[0]
    assert first.kind == "thread"
    assert first.native_id == "thread-2001"
    assert first.title == "西江大桥上的裂缝是不是越来越大了？有没有懂行的来看看"


def test_thread_author_and_date(forum: SiteSpider) -> None:
    first = _thread(forum)[0]
    assert first.author["name"] == "江北老王"
    assert first.author["id"] == "30011"  # {select, re}: the uid out of the profile link
    assert first.created_at == "发表于 2026-5-28 09:12"


def test_thread_reply_count_comes_from_the_list(forum: SiteSpider) -> None:
    assert _thread(forum)[0].comments == "6"


def test_replies_point_to_the_thread(forum: SiteSpider) -> None:
    replies = [i for i in _thread(forum) if isinstance(i, PostItem) and i.kind == "reply"]
    assert [r.native_id for r in replies] == [
        "post-30102",
        "post-30103",
        "post-30104",
        "post-30105",
    ]
    assert {r.parent_native_id for r in replies} == {"thread-2001"}
    assert {r.root_native_id for r in replies} == {"thread-2001"}


def test_reply_text_is_decoded(forum: SiteSpider) -> None:
    replies = [i for i in _thread(forum) if isinstance(i, PostItem) and i.kind == "reply"]
    assert "渗水" in (replies[0].html or "")


def test_thread_pagination_keeps_the_root(forum: SiteSpider) -> None:
    nxt = [r for r in _thread(forum) if isinstance(r, Request)]
    assert nxt[0].url == "http://127.0.0.1:8000/bbs/thread-2001-2-1.html"
    page2 = list(
        forum.parse_thread(page("bbs/thread-2001-2-1.html"), listed={}, page=2, root="thread-2001")
    )
    assert [i.kind for i in page2] == ["reply", "reply"]
    assert page2[0].parent_native_id == "thread-2001"


def test_relative_forum_dates_are_passed_through(forum: SiteSpider) -> None:
    items = _thread(forum, "bbs/thread-2003-1-1.html")
    assert [i.created_at for i in items] == [
        "发表于 昨天 12:30",
        "发表于 今天 08:01",
        "发表于 5 分钟前",
    ]


def test_forced_encoding_overrides_a_lying_header() -> None:
    spider = make_spider("site", {**forum_settings(), "encoding": "gbk"})
    response = page("bbs/thread-2006-1-1.html", content_type="text/html; charset=utf-8")
    first = next(iter(spider.parse_thread(response, listed={}, page=1)))
    assert first.title == "滨江路积水太深了，车都泡了，保险能赔吗"


def test_settings_need_exactly_one_of_detail_or_thread() -> None:
    from crawler.spiders.base import SourceSettingsError

    bad = {**news_settings(), "thread": forum_settings()["thread"]}
    with pytest.raises(SourceSettingsError, match="须且只能给一个"):
        make_spider("site", bad)


def test_list_without_an_entry_selector_follows_every_link() -> None:
    settings = news_settings()
    settings["list"] = {"link": "ul.news-list a::attr(href)"}
    spider = make_spider("site", settings)
    urls = [r.url for r in spider.parse(page("news/list_1.html"), page=1)]
    assert len(urls) == 6 and urls[0].endswith("/news/2026/1001.html")


def test_bad_regular_expressions_are_settings_errors() -> None:
    from crawler.spiders.base import SourceSettingsError

    with pytest.raises(SourceSettingsError, match="id_pattern: 不是有效的正则表达式"):
        make_spider("site", {**news_settings(), "id_pattern": "(unclosed"})
    with pytest.raises(SourceSettingsError, match=r"strip_patterns\.0"):
        make_spider("site", {**news_settings(), "strip_patterns": ["[x"]})


def test_bad_selectors_are_settings_errors() -> None:
    from crawler.spiders.base import SourceSettingsError

    settings = news_settings()
    settings["list"] = {**settings["list"], "link": "a::attr(href"}
    with pytest.raises(SourceSettingsError, match=r"list\.link: 不是有效的 CSS 或 XPath"):
        make_spider("site", settings)
