"""Downloader and spider middlewares: charset repair, block recognition, retry back-off,
and a safety net that turns a spider bug on one page into a counted error.

Switched on by dotted path with an order number in :mod:`crawler.settings`, like
Scrapy's own ``DOWNLOADER_MIDDLEWARES_BASE``. Methods use the Scrapy ≥ 2.14 signatures
(no ``spider`` argument); the crawler passed to ``from_crawler`` gives access to the rest.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, Response, TextResponse

from crawler.errors import (
    ENDPOINTS,
    ERRORS,
    LOGIN_REQUIRED,
    LOGIN_URLS,
    PROBLEMS,
    BlockedError,
)

logger = logging.getLogger(__name__)

_LOGIN_URL = re.compile(
    r"passport\.weibo|/signin|/login(?:\.php)?\b|/sso/|member\.php\?mod=logging|visitor/visitor",
    re.I,
)
_CAPTCHA_URL = re.compile(r"captcha|/verify|security\.weibo|/sec/|geetest|slide_?verify", re.I)
LOGIN_MARKERS = (
    "Sina Visitor System",
    "需要先登录才能继续本操作",
    "您需要先登录",
    "尚未登录，没有权限",
    "请登录后再访问",
    "登录后才能查看",
    "请先登录后访问",
    # Discuz! boards open to members only, and its other "log in first" answers
    "没有权限访问该版块",
    "本版块只有特定用户可以访问",
    "只有登录后才能访问",
    "请登录后继续",
    # a thread above the guest's read permission ("抱歉，本帖要求阅读权限高于 10 才能浏览");
    # not "您需要登录后才可以回帖": that is the reply box under every open thread
    "本帖要求阅读权限高于",
)
#: Phrases of captcha walls. Generic words like "验证码" are left out on purpose: posts
#: warning about SMS scams ("不要透露验证码") are everyday content for a monitor.
CAPTCHA_MARKERS = (
    "输入验证码后继续",
    "请完成安全验证",
    "人机验证",
    "拖动滑块完成",
    "您的访问过于频繁",
    "g-recaptcha",
    "geetest_",
)
_OK_MINUS_100 = re.compile(rb'"ok"\s*:\s*-100\b')
#: Pages larger than this are content, not a wall; markers in them are ignored.
_WALL_MAX_BYTES = 40_000


#: Walled pages whose address a health record keeps (it counts them all).
LOGIN_URLS_KEPT = 5


def _block(
    crawler: Crawler, kind: str, url: str, detail: str, request: Request | None = None
) -> BlockedError:
    spider = crawler.spider
    endpoint = request.meta.get("endpoint") if request is not None else None
    skips = getattr(spider, "skips_login_wall", None)
    if kind == "blocked_login" and endpoint and skips is not None and skips(request):
        # One members-only page among open ones (a thread of a Discuz board): counted for
        # its endpoint as 需要登录 and skipped; the source is not blocked by it.
        crawler.stats.inc_value(f"{ERRORS}{LOGIN_REQUIRED}")
        crawler.stats.inc_value(f"{ENDPOINTS}{endpoint}/{LOGIN_REQUIRED}")
        urls = list(crawler.stats.get_value(LOGIN_URLS) or [])
        if url not in urls and len(urls) < LOGIN_URLS_KEPT:
            crawler.stats.set_value(LOGIN_URLS, [*urls, url])
        logger.warning("login required at %s (%s): skipped", url, detail)
        return BlockedError(LOGIN_REQUIRED, url, detail)
    crawler.stats.inc_value(f"{ERRORS}{kind}")
    crawler.stats.set_value("tingfeng/blocked", f"{url}：{detail}")
    logger.error("blocked (%s) at %s: %s", kind, url, detail)
    return BlockedError(kind, url, detail)


class LoginRedirectMiddleware:
    """A redirect to a login or captcha page is a wall, not a page to follow.

    Ordered after ``RedirectMiddleware`` (higher number) so it sees the 3xx first.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LoginRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location", b"").decode("latin-1")
            if _CAPTCHA_URL.search(location):
                raise _block(
                    self.crawler, "blocked_captcha", request.url, f"跳转到 {location}", request
                )
            if _LOGIN_URL.search(location):
                raise _block(
                    self.crawler, "blocked_login", request.url, f"跳转到 {location}", request
                )
        return response


class BlockPageMiddleware:
    """Recognise login walls, captchas, ``"ok": -100`` and HTTP 432 in answers.

    Ordered before ``HttpCompressionMiddleware`` (lower number) so it reads decompressed
    bodies. Sources add their own phrases with ``settings.login_markers``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockPageMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.url.endswith("/robots.txt"):
            return response
        url = response.url
        if response.status == 432:
            raise _block(self.crawler, "blocked_432", url, "HTTP 432（反爬）")
        body = response.body
        head = body[:400]
        if head.lstrip()[:1] == b"{" and _OK_MINUS_100.search(head):
            raise _block(self.crawler, "blocked_login", url, '"ok": -100（需要登录）', request)
        if _CAPTCHA_URL.search(url):
            raise _block(self.crawler, "blocked_captcha", url, "来自验证码网址")
        if request.meta.get("redirect_urls") and _LOGIN_URL.search(url):
            raise _block(self.crawler, "blocked_login", url, "跳转到登录页", request)
        # Markers are looked for in small HTML pages only: JSON answers carry user posts,
        # and a wall is a short page, not an article.
        if len(body) <= _WALL_MAX_BYTES and isinstance(response, HtmlResponse):
            text = response.text
            spider = self.crawler.spider
            extra = tuple(getattr(getattr(spider, "opts", None), "login_markers", ()) or ())
            for marker in LOGIN_MARKERS + extra:
                if marker in text:
                    raise _block(self.crawler, "blocked_login", url, f"页面提示“{marker}”", request)
            for marker in CAPTCHA_MARKERS:
                if marker in text:
                    raise _block(self.crawler, "blocked_captcha", url, f"页面提示“{marker}”")
        return response


_XML_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?encoding\s*=\s*["'][\w.:-]+["']"""
)


class CharsetMiddleware:
    """Decode Chinese pages right when the charset is missing or wrong.

    Scrapy falls back to cp1252 for an undeclared charset, which turns a GBK forum into
    mojibake, and decodes a page whose header lies with replacement characters. A body that
    is valid UTF-8 is UTF-8; otherwise a declared charset that decodes cleanly is kept;
    otherwise GB18030 (a superset of GBK and GB2312) is tried. Every repair is counted.
    """

    _WESTERN = frozenset({"cp1252", "ascii", "latin-1", "iso8859-1", "windows-1252"})

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        body = response.body
        if body.isascii():
            return response
        declared = (
            b"charset" in response.headers.get("Content-Type", b"").lower()
            or b"charset" in body[:4096].lower()
            # XML says it in its declaration (<?xml version="1.0" encoding="utf-8"?>).
            or _XML_ENCODING.match(body[:512]) is not None
            or body.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        )
        if not declared:
            self.crawler.stats.inc_value(f"{PROBLEMS}charset_missing")
        current = (response.encoding or "").lower()
        chosen = None
        if _decodes(body, "utf-8"):
            chosen = "utf-8"
        elif current not in self._WESTERN and current != "utf-8" and _decodes(body, current):
            chosen = current
        elif _decodes(body, "gb18030"):
            chosen = "gb18030"
        if chosen is None:
            self.crawler.stats.inc_value(f"{PROBLEMS}charset_undecodable")
            return response
        if chosen == current or (chosen, current) == ("utf-8", "utf8"):
            return response
        if declared:
            self.crawler.stats.inc_value(f"{PROBLEMS}charset_wrong")
        logger.info("%s: decoding as %s instead of %s", response.url, chosen, current)
        return response.replace(encoding=chosen)


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


class RetryBackoffMiddleware:
    """Wait before a retried request: ``TINGFENG_RETRY_BACKOFF`` × 2^(attempt-1) seconds,
    at most ``TINGFENG_RETRY_BACKOFF_MAX``. Scrapy's RetryMiddleware re-schedules at once,
    which against a struggling server just repeats the failure."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = base, cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        s = crawler.settings
        return cls(
            s.getfloat("TINGFENG_RETRY_BACKOFF", 1.0),
            s.getfloat("TINGFENG_RETRY_BACKOFF_MAX", 30.0),
        )

    async def process_request(self, request: Request) -> None:
        attempt = request.meta.get("retry_times", 0)
        if attempt and self.base > 0:
            await asyncio.sleep(min(self.cap, self.base * 2 ** (attempt - 1)))
        return None


class SpiderErrorMiddleware:
    """A callback that raises on one page (a parse bug, markup beyond repair) is counted as
    ``parse_error`` and the crawl goes on with the other pages."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpiderErrorMiddleware:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: Exception
    ) -> Iterable[Any] | None:
        if isinstance(exception, CloseSpider):
            return None
        self.crawler.stats.inc_value(f"{ERRORS}parse_error")
        logger.error("parse error on %s: %r", response.url, exception, exc_info=exception)
        return []
