"""The weibo spider on recorded m.weibo.cn API answers."""

from __future__ import annotations

import pytest
from scrapy.http import Request, TextResponse

from crawler.items import PostItem
from crawler.spiders.weibo import WeiboSpider
from tests.crawler.conftest import make_spider, page, weibo_settings

API = "http://127.0.0.1:8000"
USER_P1 = "weibo/api/container/user-5001001-p1.json"
SEARCH_P1 = "weibo/api/container/search-qingchuan-p1.json"


@pytest.fixture
def spider() -> WeiboSpider:
    return make_spider("weibo", weibo_settings(API))  # type: ignore[return-value]


def _out(spider: WeiboSpider, path: str, target: str = "user:5001001") -> list:
    return list(spider.parse(page(path), target=target, page=1))


def _items(spider: WeiboSpider, path: str, target: str = "user:5001001") -> list[PostItem]:
    return [i for i in _out(spider, path, target) if isinstance(i, PostItem)]


def test_timeline_request_urls(spider: WeiboSpider) -> None:
    assert spider.timeline_request("user:5001001", 2).url == (
        f"{API}/weibo/api/container/getIndex?type=uid&value=5001001"
        "&containerid=1076035001001&page=2"
    )
    assert (
        "containerid=100103type%3D1%26q%3D%E9%9D%92%E5%B7%9D"
        in spider.timeline_request("search:青川", 1).url
    )


def test_cookie_from_environment(monkeypatch: pytest.MonkeyPatch, spider: WeiboSpider) -> None:
    monkeypatch.setenv("TINGFENG_WEIBO_COOKIE", "SUB=abc")
    assert spider.timeline_request("user:1", 1).headers["Cookie"] == b"SUB=abc"


def test_cookie_from_config() -> None:
    spider = make_spider("weibo", weibo_settings(API, cookie="SUB=cfg"))
    assert spider.timeline_request("user:1", 1).headers["Cookie"] == b"SUB=cfg"


def test_post_ids(spider: WeiboSpider) -> None:
    ids = [i.native_id for i in _items(spider, USER_P1) if i.kind == "post"]
    assert ids == ["5023000000000001", "5023000000000002", "5023000000000003"]


def test_post_text_is_raw_html(spider: WeiboSpider) -> None:
    assert "surl-text" in (_items(spider, USER_P1)[0].html or "")


def test_post_counts(spider: WeiboSpider) -> None:
    item = _items(spider, USER_P1)[1]
    assert (item.reposts, item.comments, item.likes) == (1820, 566, 9900)


def test_post_date(spider: WeiboSpider) -> None:
    assert _items(spider, USER_P1)[0].created_at == "Thu May 28 08:30:00 +0800 2026"


def test_post_author(spider: WeiboSpider) -> None:
    author = _items(spider, USER_P1)[0].author
    assert author["name"] == "青川发布" and author["verified"] is True
    assert author["followers"] == 862000 and author["id"] == "5001001"


def test_post_extra(spider: WeiboSpider) -> None:
    assert _items(spider, USER_P1)[0].extra["source"] == "iPhone客户端"


def test_hot_posts_get_comment_and_repost_timelines(spider: WeiboSpider) -> None:
    urls = [r.url for r in _out(spider, USER_P1) if isinstance(r, Request)]
    assert (
        f"{API}/weibo/comments/hotflow?id=5023000000000002&mid=5023000000000002&max_id_type=0"
        in urls
    )
    assert f"{API}/weibo/api/statuses/repostTimeline?id=5023000000000002&page=1" in urls
    # 5023000000000003 has 88 + 20 < 400: no child timelines.
    assert not any("5023000000000003" in u for u in urls)


def test_next_page_until_caught_up(spider: WeiboSpider) -> None:
    urls = [r.url for r in _out(spider, USER_P1) if isinstance(r, Request)]
    assert any(u.endswith("page=2") and "getIndex" in u for u in urls)
    caught = make_spider(
        "weibo", weibo_settings(API), cursor={"newest": {"user:5001001": 5023000000000002}}
    )
    urls = [
        r.url
        for r in caught.parse(page(USER_P1), target="user:5001001", page=1)
        if isinstance(r, Request)
    ]
    assert not any("getIndex" in u for u in urls)


def test_cursor_advances_to_the_newest_id(spider: WeiboSpider) -> None:
    _out(spider, USER_P1)
    assert spider.next_cursor()["newest"]["user:5001001"] == 5023000000000003


def test_failed_target_does_not_advance(spider: WeiboSpider) -> None:
    _out(spider, USER_P1)
    spider.failed_targets.add("user:5001001")
    assert "user:5001001" not in spider.next_cursor()["newest"]


def test_search_card_groups_and_retweets(spider: WeiboSpider) -> None:
    items = _items(spider, SEARCH_P1, "search:青川")
    by_id = {i.native_id: i for i in items}
    repost = by_id["5023000000000203"]
    assert repost.kind == "repost" and repost.parent_native_id == "5023000000000204"
    assert by_id["5023000000000204"].kind == "post"
    assert by_id["5023000000000202"].created_at == "5分钟前"


def test_comments(spider: WeiboSpider) -> None:
    out = list(
        spider.parse_comments(
            page("weibo/api/comments/5023000000000201-p1.json"),
            mid="5023000000000201",
            page=1,
        )
    )
    assert [i.native_id for i in out] == [
        "comment-4900000000000001",
        "comment-4900000000000002",
        "comment-4900000000000003",
    ]
    assert {i.kind for i in out} == {"comment"}
    assert out[0].parent_native_id == "5023000000000201" and out[0].likes == 12
    assert out[2].extra["reply_to"] == "4900000000000001"


def test_reposts(spider: WeiboSpider) -> None:
    out = [
        i
        for i in spider.parse_reposts(
            page("weibo/api/reposts/5023000000000201-p1.json"),
            mid="5023000000000201",
            page=1,
        )
        if isinstance(i, PostItem)
    ]
    assert [i.kind for i in out] == ["repost", "repost"]
    assert {i.root_native_id for i in out} == {"5023000000000201"}


def test_no_more_content_is_not_an_error(spider: WeiboSpider) -> None:
    assert _out(spider, "weibo/api/container/user-5001001-p3.json") == []
    assert spider.crawler.stats.get_stats() == {}


def test_truncated_json_is_counted(spider: WeiboSpider) -> None:
    assert _out(spider, "weibo/api/container/search-qingchuan-p2.json", "search:青川") == []
    assert spider.crawler.stats.get_value("tingfeng/problems/bad_json") == 1
    assert "search:青川" in spider.failed_targets


def test_long_posts_are_fetched_in_full(spider: WeiboSpider) -> None:
    out = _out(spider, "weibo/api/container/user-5001002-p1.json", "user:5001002")
    ids = [i.native_id for i in out if isinstance(i, PostItem)]
    assert ids == ["5023000000000101"]  # the cut long post waits for its full text
    (extend,) = [r for r in out if isinstance(r, Request) and "extend" in r.url]
    assert extend.url == f"{API}/weibo/statuses/extend?id=5023000000000102"
    (full,) = spider.parse_long(
        page("weibo/statuses/extend-5023000000000102.json"), **extend.cb_kwargs
    )
    assert full.native_id == "5023000000000102" and full.html.endswith("留言。")


def test_long_post_falls_back_to_the_cut_text(spider: WeiboSpider) -> None:
    from twisted.python.failure import Failure

    out = _out(spider, "weibo/api/container/user-5001002-p1.json", "user:5001002")
    (extend,) = [r for r in out if isinstance(r, Request) and "extend" in r.url]
    failure = Failure(TimeoutError("slow"))
    failure.request = extend  # type: ignore[attr-defined]
    (cut,) = list(spider.long_text_failed(failure))
    assert cut.native_id == "5023000000000102" and "全文" in (cut.html or "")


def test_rate_limit_message_is_counted(spider: WeiboSpider) -> None:
    from scrapy.http import TextResponse

    answer = TextResponse(API, body='{"ok": 0, "msg": "请求过于频繁"}'.encode(), encoding="utf-8")
    assert list(spider.parse(answer, target="user:1", page=1)) == []
    assert spider.crawler.stats.get_value("tingfeng/problems/api_error") == 1
    assert "user:1" in spider.failed_targets


# -- api_base, hotflow comments and repost paging ------------------------------------------
@pytest.mark.parametrize(
    "base", ["https://m.weibo.cn", "https://m.weibo.cn/", "https://m.weibo.cn/api"]
)
def test_api_base_with_or_without_api(base: str) -> None:
    spider = make_spider("weibo", {"api_base": base})
    assert spider.api("/api/container/getIndex") == "https://m.weibo.cn/api/container/getIndex"
    assert spider.comments_request("5").url == (
        "https://m.weibo.cn/comments/hotflow?id=5&mid=5&max_id_type=0"
    )


def test_a_bad_api_base_is_refused_by_name() -> None:
    from crawler.run import check_sources
    from models import Source
    from tingfeng.config import ConfigError

    source = Source(name="wb", kind="weibo", settings={"api_base": "m.weibo.cn/api"})
    with pytest.raises(
        ConfigError, match=r"sources\.wb\.settings\.api_base: .*不是 http\(s\) 网址"
    ):
        check_sources([source])


def test_hotflow_pages_by_max_id(spider: WeiboSpider) -> None:
    body = (
        '{"ok": 1, "data": {"data": [{"id": 41, "text": "a",'
        ' "comments": [{"id": 42, "text": "b"}]}], "max_id": 139, "max_id_type": 0}}'
    )
    response = TextResponse(url=f"{API}/weibo/comments/hotflow?id=9", body=body.encode(),
                            headers={"Content-Type": "application/json"})  # fmt: skip
    out = list(spider.parse_comments(response, mid="9", page=1))
    items = [i for i in out if isinstance(i, PostItem)]
    assert [i.native_id for i in items] == ["comment-41", "comment-42"]
    assert items[1].extra["reply_to"] == "41"
    (nxt,) = [r for r in out if isinstance(r, Request)]
    assert nxt.url.endswith("/weibo/comments/hotflow?id=9&mid=9&max_id=139&max_id_type=0")


def test_every_repost_page_from_total_number(spider: WeiboSpider) -> None:
    rows = ",".join(f'{{"mid": "{n}", "text": "转发微博"}}' for n in range(10))
    body = f'{{"ok": 1, "data": {{"data": [{rows}], "total_number": 25}}}}'
    response = TextResponse(url=f"{API}/x", body=body.encode(),
                            headers={"Content-Type": "application/json"})  # fmt: skip
    (nxt,) = [r for r in spider.parse_reposts(response, mid="9") if isinstance(r, Request)]
    assert nxt.cb_kwargs == {"mid": "9", "page": 2, "pages": 3}
    last = list(spider.parse_reposts(response, mid="9", page=3, pages=3))
    assert not [r for r in last if isinstance(r, Request)]
