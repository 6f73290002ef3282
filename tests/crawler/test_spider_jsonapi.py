"""The jsonapi spider on the recorded message board (青川市民心声)."""

from __future__ import annotations

import pytest
from scrapy.http import Request, TextResponse

from crawler.items import PostItem
from crawler.spiders.base import SourceSettingsError
from crawler.spiders.jsonapi import JsonApiSpider
from tests.crawler.conftest import board_settings, make_spider, page


@pytest.fixture
def spider() -> JsonApiSpider:
    return make_spider("jsonapi", board_settings())  # type: ignore[return-value]


def _out(spider: JsonApiSpider, n: int = 1) -> list:
    return list(spider.parse(page(f"board/api/messages-p{n}.json"), index=n - 1))


def _messages(spider: JsonApiSpider) -> list[PostItem]:
    return [i for i in _out(spider) if isinstance(i, PostItem) and i.kind == "message"]


def test_page_urls(spider: JsonApiSpider) -> None:
    assert (
        spider.page_request(1, None).url == "http://127.0.0.1:8000/board/api/messages?page=2&size=3"
    )


def test_message_ids(spider: JsonApiSpider) -> None:
    assert [m.native_id for m in _messages(spider)] == [
        "M20260528001",
        "M20260528002",
        "M20260527003",
    ]


def test_message_title_text_author(spider: JsonApiSpider) -> None:
    m = _messages(spider)[0]
    assert m.title == "滨江路积水点每年都淹，什么时候彻底整改？"
    assert m.text and m.text.startswith("西江区滨江路与江北街交叉口")
    assert m.author["name"] == "江北居民"


def test_message_date_and_url(spider: JsonApiSpider) -> None:
    m = _messages(spider)[0]
    assert m.created_at == "2026-05-28 09:20:00"
    assert m.url == "http://127.0.0.1:8000/board/detail/M20260528001.html"


def test_official_reply_is_a_child_post(spider: JsonApiSpider) -> None:
    replies = [i for i in _out(spider) if isinstance(i, PostItem) and i.kind == "reply"]
    assert [r.native_id for r in replies] == ["M20260528001-reply-1", "M20260527003-reply-1"]
    assert replies[0].parent_native_id == "M20260528001"
    assert replies[0].author["name"] == "西江区住房和城乡建设局"


def test_next_page_is_requested(spider: JsonApiSpider) -> None:
    (nxt,) = [r for r in _out(spider) if isinstance(r, Request)]
    assert nxt.cb_kwargs == {"index": 1}


def test_unchanged_messages_are_skipped_and_paging_stops() -> None:
    seen = {"M20260528001": "已回复", "M20260528002": "办理中", "M20260527003": "已回复"}
    spider = make_spider("jsonapi", board_settings(), cursor={"seen": seen})
    assert _out(spider) == []  # type: ignore[arg-type]


def test_a_new_reply_makes_a_message_fresh() -> None:
    seen = {"M20260528001": "已回复", "M20260528002": "待受理", "M20260527003": "已回复"}
    spider = make_spider("jsonapi", board_settings(), cursor={"seen": seen})
    ids = [i.native_id for i in _out(spider) if isinstance(i, PostItem)]  # type: ignore[arg-type]
    assert ids == ["M20260528002"]


def test_malformed_json_is_counted_not_raised(spider: JsonApiSpider) -> None:
    assert _out(spider, 3) == []
    assert spider.crawler.stats.get_value("tingfeng/problems/bad_json") == 1


def test_failed_ok_expression_is_counted(spider: JsonApiSpider) -> None:
    spider = make_spider("jsonapi", {**board_settings(), "ok": "code == `1`"})
    assert _out(spider) == []  # type: ignore[arg-type]
    assert spider.crawler.stats.get_value("tingfeng/problems/api_error") == 1


def test_bad_jmespath_is_a_settings_error() -> None:
    with pytest.raises(SourceSettingsError, match="fields"):
        make_spider("jsonapi", {**board_settings(), "fields": {"native_id": "a[?"}})


def test_native_id_mapping_is_required() -> None:
    with pytest.raises(SourceSettingsError, match="native_id"):
        make_spider("jsonapi", {**board_settings(), "fields": {"title": "title"}})


def _answer(data: object) -> TextResponse:
    import json

    url = "http://127.0.0.1:8000/api"
    return TextResponse(
        url,
        body=json.dumps(data, ensure_ascii=False).encode(),
        encoding="utf-8",
        request=Request(url),
    )


HOTLINE = {"items": "rows", "fields": {"native_id": "id", "text": "answer"}}


def test_offset_paging() -> None:
    spider = make_spider(
        "jsonapi",
        {
            **HOTLINE,
            "url": "http://h/api?from={offset}&n={size}",
            "paging": {"mode": "offset", "start": 0, "size": 50},
        },
    )
    assert spider.page_request(0, None).url == "http://h/api?from=0&n=50"
    assert spider.page_request(2, None).url == "http://h/api?from=100&n=50"


def test_cursor_paging_reads_the_next_cursor() -> None:
    spider = make_spider(
        "jsonapi",
        {
            **HOTLINE,
            "url": "http://h/api?after={cursor}",
            "paging": {"mode": "cursor", "cursor_path": "next"},
        },
    )
    out = list(spider.parse(_answer({"rows": [{"id": 1, "answer": "已办结"}], "next": "c2"})))
    assert out[-1].url == "http://h/api?after=c2"
    out = list(spider.parse(_answer({"rows": [{"id": 2, "answer": "已办结"}], "next": None})))
    assert not any(isinstance(r, Request) for r in out)  # no cursor: last page


def test_post_body_with_placeholders() -> None:
    spider = make_spider(
        "jsonapi",
        {
            **HOTLINE,
            "url": "http://h/api",
            "method": "POST",
            "body": {"pageNo": "{page}", "area": "西江区", "size": 10},
        },
    )
    request = spider.page_request(1, None)
    assert request.method == "POST"
    assert request.body.decode() == '{"pageNo": "2", "area": "西江区", "size": 10}'


def test_items_without_ids_are_kept_for_the_pipeline() -> None:
    spider = make_spider("jsonapi", {**HOTLINE, "url": "http://h/api"})
    (item,) = [
        i
        for i in spider.parse(_answer({"rows": [{"answer": "无编号"}]}))
        if isinstance(i, PostItem)
    ]
    assert item.native_id is None and item.text == "无编号"  # validate derives or drops
