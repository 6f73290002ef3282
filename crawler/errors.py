"""Names for what goes wrong while crawling, used for counting and for source health."""

from __future__ import annotations

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


class BlockedError(IgnoreRequest):
    """The site answered with a login wall, a captcha or an anti-crawler status."""

    def __init__(self, kind: str, url: str, detail: str) -> None:
        self.kind, self.url, self.detail = kind, url, detail
        super().__init__(f"{kind} at {url}: {detail}")


def classify_failure(failure: Failure) -> str:
    """A short error kind for a request's failure (``http_500``, ``timeout``...)."""
    exc = failure.value
    if isinstance(exc, BlockedError):
        return exc.kind
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, TimeoutError | TCPTimedOutError) or "Timeout" in type(exc).__name__:
        return "timeout"
    if isinstance(exc, DNSLookupError):
        return "dns"
    if isinstance(exc, ConnectionRefusedError | ConnectError):
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
