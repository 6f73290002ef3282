"""Block recognition and charset repair on single responses."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.errors import BlockedError
from crawler.middlewares import BlockPageMiddleware, CharsetMiddleware, LoginRedirectMiddleware
from crawler.registry import spider_for
from tests.crawler.conftest import WWW, page

URL = "http://127.0.0.1:8000/weibo/api/container/getIndex?page=1"


def _crawler():
    crawler = get_crawler(spider_for("weibo"), {})
    crawler.spider = crawler.spidercls.from_crawler(
        crawler,
        source={"name": "wb", "kind": "weibo", "settings": {"login_markers": ["请扫码登录"]}},
    )
    return crawler


def _check(response: Response) -> str | None:
    mw = BlockPageMiddleware(_crawler())
    try:
        mw.process_response(Request(response.url), response)
    except BlockedError as exc:
        return exc.kind
    return None


def test_ok_minus_100_is_a_login_wall() -> None:
    assert _check(page("weibo/login-wall.json", url=URL)) == "blocked_login"


def test_http_432_is_reported() -> None:
    assert _check(TextResponse(URL, status=432, body=b"{}")) == "blocked_432"


def test_visitor_system_page_is_a_login_wall() -> None:
    assert _check(page("weibo/visitor.html", url=URL, content_type="text/html")) == "blocked_login"


def test_captcha_page_is_reported() -> None:
    body = "<html><title>安全验证</title><p>请输入验证码后继续访问</p></html>".encode()
    assert _check(HtmlResponse(URL, body=body, encoding="utf-8")) == "blocked_captcha"


def test_source_specific_marker() -> None:
    body = "<html><p>请扫码登录后查看</p></html>".encode()
    assert _check(HtmlResponse(URL, body=body, encoding="utf-8")) == "blocked_login"


def test_normal_pages_pass() -> None:
    assert _check(page("weibo/api/container/user-5001001-p1.json", url=URL)) is None
    assert _check(page("weibo/api/container/user-5001001-p3.json", url=URL)) is None  # ok: 0
    # A Discuz! thread invites guests to log in to reply: that is not a wall.
    assert _check(page("bbs/thread-2001-1-1.html")) is None


def test_redirect_to_passport_is_a_login_wall() -> None:
    mw = LoginRedirectMiddleware(_crawler())
    response = Response(
        URL, status=302, headers={"Location": "https://passport.weibo.cn/signin/login?r=x"}
    )
    with pytest.raises(BlockedError) as exc:
        mw.process_response(Request(URL), response)
    assert exc.value.kind == "blocked_login"


def test_block_is_counted() -> None:
    crawler = _crawler()
    with pytest.raises(BlockedError):
        BlockPageMiddleware(crawler).process_response(
            Request(URL), TextResponse(URL, status=432, body=b"")
        )
    assert crawler.stats.get_value("tingfeng/errors/blocked_432") == 1
    assert "432" in crawler.stats.get_value("tingfeng/blocked")


def _charset(body: bytes, content_type: str) -> tuple[Response, dict]:
    crawler = _crawler()
    response = HtmlResponse("http://x/", body=body, headers={"Content-Type": content_type})
    fixed = CharsetMiddleware(crawler).process_response(Request("http://x/"), response)
    return fixed, crawler.stats.get_stats()


def test_gbk_page_with_a_utf8_header_is_repaired() -> None:
    body = (WWW / "bbs/thread-2006-1-1.html").read_bytes()
    fixed, stats = _charset(body, "text/html; charset=utf-8")
    assert "滨江路积水太深了" in fixed.text
    assert stats["tingfeng/problems/charset_wrong"] == 1


def test_gbk_page_without_any_charset_is_read() -> None:
    body = (WWW / "bbs/thread-2005-1-1.html").read_bytes()
    fixed, stats = _charset(body, "text/html")
    assert "沙湾镇龙舟赛" in fixed.text
    assert stats["tingfeng/problems/charset_missing"] == 1


def test_utf8_page_claiming_gbk_is_repaired() -> None:
    body = "<html><meta charset='gbk'><p>青川市西江区滨江路积水</p></html>".encode()
    fixed, _ = _charset(body, "text/html; charset=gbk")
    assert "滨江路" in fixed.text


def test_correct_gbk_page_is_left_alone() -> None:
    body = (WWW / "bbs/thread-2001-1-1.html").read_bytes()
    fixed, stats = _charset(body, "text/html; charset=gbk")
    assert "西江大桥" in fixed.text and stats == {}


def test_posts_about_verification_codes_are_not_walls() -> None:
    scam = (
        '{"ok": 1, "data": {"cards": [{"mblog": {"text": "请输入验证码？骗子！不要透露验证码"}}]}}'
    )
    assert _check(TextResponse(URL, body=scam.encode(), encoding="utf-8")) is None
    article = "<html><p>警方提醒：陌生人让你“请输入验证码”时千万不要照做。</p></html>".encode()
    assert _check(HtmlResponse(URL, body=article, encoding="utf-8")) is None
