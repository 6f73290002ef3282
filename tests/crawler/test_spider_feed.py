"""The feed spider on the government's RSS 2.0 and Atom feeds."""

from __future__ import annotations

import pytest

from crawler.items import PostItem
from crawler.spiders.feed import FeedSpider
from tests.crawler.conftest import make_spider, page


@pytest.fixture
def spider() -> FeedSpider:
    return make_spider("feed", {"urls": ["http://127.0.0.1:8000/gov/rss.xml"], "full_text": False})  # type: ignore[return-value]


def _rss(spider: FeedSpider) -> list[PostItem]:
    return list(spider.parse(page("gov/rss.xml")))


def _atom(spider: FeedSpider) -> list[PostItem]:
    return list(spider.parse(page("gov/atom.xml", url="http://127.0.0.1:8000/gov/atom.xml")))


def test_rss_items(spider: FeedSpider) -> None:
    assert [i.native_id for i in _rss(spider)] == ["gov-3001", "gov-3002", "gov-3003", "gov-3004"]


def test_rss_title(spider: FeedSpider) -> None:
    assert _rss(spider)[1].title == "关于网传“龙潭水库开闸泄洪淹没白石镇”的情况说明"


def test_rss_date(spider: FeedSpider) -> None:
    assert _rss(spider)[0].created_at == "Wed, 27 May 2026 18:00:00 +0800"


def test_rss_body_html(spider: FeedSpider) -> None:
    assert "<p>根据市气象台预报" in (_rss(spider)[0].html or "")


def test_rss_link_author_category(spider: FeedSpider) -> None:
    item = _rss(spider)[0]
    assert item.url == "http://gov.example/zwgk/gov-3001.html"
    assert item.author["name"] == "青川市人民政府办公室"
    assert item.extra["categories"] == ["政务公开"]


def test_rss_kind_is_article(spider: FeedSpider) -> None:
    assert {i.kind for i in _rss(spider)} == {"article"}


def test_atom_entries(spider: FeedSpider) -> None:
    items = _atom(spider)
    assert [i.native_id for i in items] == [
        "tag:xijiang.gov.cn,2026:4001",
        "tag:xijiang.gov.cn,2026:4002",
    ]
    assert items[0].created_at == "2026-05-28T17:30:00+08:00"
    assert items[0].url == "http://127.0.0.1:8000/gov/xijiang/4001.html"
    assert items[0].author["name"] == "西江区人民政府"
    assert "铺装层开裂" in (items[0].html or "")


def test_seen_entries_are_skipped() -> None:
    spider = make_spider(
        "feed", {"urls": ["x"], "full_text": False}, cursor={"seen": {"gov-3001": ""}}
    )
    assert "gov-3001" not in [i.native_id for i in _rss(spider)]  # type: ignore[arg-type]


def test_malformed_feed_yields_what_it_can(spider: FeedSpider) -> None:
    items = list(spider.parse(page("gov/broken.xml")))
    assert len(items) >= 3


def test_not_a_feed_is_counted(spider: FeedSpider) -> None:
    assert list(spider.parse(page("news/list_1.html"))) == []
    assert spider.crawler.stats.get_value("tingfeng/problems/not_a_feed") == 1
