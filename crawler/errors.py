"""Names for what goes wrong while crawling, used for counting and for source health."""

from __future__ import annotations

import re

from scrapy import exceptions as scrapy_exceptions
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectError,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

#: Stats key prefixes. Errors are about fetching; problems are about the content.
ERRORS = "tingfeng/errors/"
PROBLEMS = "tingfeng/problems/"
DROPPED = "tingfeng/dropped/"
#: ``tingfeng/endpoints/<endpoint>/ok`` and ``.../failed/<kind>``: answers per endpoint.
ENDPOINTS = "tingfeng/endpoints/"

BLOCK_KINDS = ("blocked_login", "blocked_captcha", "blocked_432")
#: A login wall on one page of a source that is otherwise open (a members-only thread):
#: counted per endpoint and skipped, unlike ``blocked_login`` which blocks the source.
LOGIN_REQUIRED = "login_required"
#: Stats key: the first addresses of pages skipped as :data:`LOGIN_REQUIRED`.
LOGIN_URLS = "tingfeng/login_required_urls"


class BlockedError(IgnoreRequest):
    """The site answered with a login wall, a captcha or an anti-crawler status."""

    def __init__(self, kind: str, url: str, detail: str) -> None:
        self.kind, self.url, self.detail = kind, url, detail
        super().__init__(f"{kind} at {url}: {detail}")


#: Scrapy's own download errors (2.13+), by name: older versions lack some.
_SCRAPY_ERRORS = {
    "DownloadConnectionRefusedError": "connection_refused",
    "CannotResolveHostError": "dns",
    "DownloadTimeoutError": "timeout",
    "ResponseDataLossError": "connection_lost",
    "DownloadFailedError": "connection",
    "DownloadCancelledError": "cancelled",
    "UnsupportedURLSchemeError": "bad_url",
}

#: Chinese names of error and problem kinds, as people see them.
ERROR_LABELS = {
    "timeout": "超时",
    "dns": "域名解析失败",
    "connection": "连接失败",
    "connection_refused": "连接被拒绝",
    "connection_lost": "连接中断",
    "cancelled": "下载被取消",
    "bad_url": "网址无法访问",
    "robots_disallowed": "robots.txt 禁止抓取",
    "ignored": "请求被忽略",
    "blocked_login": "登录墙",
    "login_required": "需要登录",
    "blocked_captcha": "验证码",
    "blocked_432": "HTTP 432 反爬",
    "api_error": "接口报错",
    "bad_json": "不是有效的 JSON",
    "not_a_feed": "不是 RSS/Atom",
    "no_template": "没有合适的文章模板",
}

#: Chinese names of the endpoints (kinds of page) a source asks for.
ENDPOINT_LABELS = {
    "list": "列表页",
    "parse_detail": "文章页",
    "parse_thread": "帖子页",
    "feed": "订阅源",
    "article": "文章页",
    "timeline": "用户时间线",
    "search": "搜索",
    "comments": "评论",
    "reposts": "转发",
    "long_text": "长文",
    "api": "接口",
}


def error_label(kind: str) -> str:
    """``connection_refused`` → 连接被拒绝, ``http_404`` → HTTP 404; unknown kinds as is."""
    if m := re.fullmatch(r"http_(\d{3})", kind):
        return f"HTTP {m.group(1)}"
    return ERROR_LABELS.get(kind, kind)


def endpoint_label(name: str) -> str:
    label = ENDPOINT_LABELS.get(name)
    return f"{label}（{name}）" if label else name


def error_counts_zh(counts: dict[str, int]) -> str:
    """``{"http_500": 2, "timeout": 1}`` → ``HTTP 500×2、超时×1``."""
    return "、".join(f"{error_label(k)}×{n}" for k, n in sorted(counts.items()))


def classify_failure(failure: Failure) -> str:
    """A short error kind for a request's failure (``http_500``, ``timeout``...)."""
    exc = failure.value
    if isinstance(exc, BlockedError):
        return exc.kind
    for name, kind in _SCRAPY_ERRORS.items():
        cls = getattr(scrapy_exceptions, name, None)
        if cls is not None and isinstance(exc, cls):
            return kind
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, TimeoutError | TCPTimedOutError) or "Timeout" in type(exc).__name__:
        return "timeout"
    if isinstance(exc, DNSLookupError):
        return "dns"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, ConnectError):
        return "connection"
    if isinstance(exc, ResponseNeverReceived | ResponseFailed | ConnectionLost):
        if "timeout" in repr(exc).lower() or "Timeout" in repr(exc):
            return "timeout"
        return "connection_lost"
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in str(exc):
            return "robots_disallowed"
        return "ignored"
    return type(exc).__name__.lower()
