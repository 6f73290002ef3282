"""What every source spider shares: its source, options, cursor, errors and item factory.

Spiders stay thin: callbacks pull raw strings out of responses into
:class:`crawler.items.PostItem`; dates, cleaning, de-duplication and storage happen in the
item pipelines.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import scrapy
from parsel import Selector, SelectorList
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.dates import NOW_SETTING, http_date, reference_clock
from crawler.errors import (
    ENDPOINTS,
    ERRORS,
    LOGIN_REQUIRED,
    PROBLEMS,
    BlockedError,
    classify_failure,
)
from crawler.items import PostItem
from models import Source
from text.zh import describe as zh_describe

logger = logging.getLogger(__name__)

#: How many (native id → fingerprint) pairs a cursor remembers per source.
SEEN_LIMIT = 5000


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"不是有效的正则表达式（{exc}）") from None
    return value


#: A setting holding a regular expression, checked when the config is loaded.
Regex = Annotated[str, AfterValidator(_regex)]

_EMPTY = Selector(text="<html></html>")


def _selector(value: str) -> str:
    try:
        select(_EMPTY, value)
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"不是有效的 CSS 或 XPath 选择器（{exc}）") from None
    return value


#: A setting holding a CSS selector, or an XPath one when it starts with ``/ ./ (``.
SelectorSpec = Annotated[str, AfterValidator(_selector)]


class SourceSettings(BaseModel):
    """Options every kind accepts in ``settings:``."""

    model_config = ConfigDict(extra="forbid")

    #: Extra regular expressions: a matching line is removed from every post of the source.
    strip_patterns: list[Regex] = []
    #: Phrases that mark a page as a login wall for this source, besides the built-in ones.
    login_markers: list[str] = []
    #: Expected time between new items; longer without one marks the source unhealthy.
    #: Defaults to four times ``interval_minutes``.
    expect_new_within_minutes: int | None = None
    #: Extra HTTP headers for every request.
    headers: dict[str, str] = {}
    #: Obey robots.txt for this source (default: ``crawler.obey_robots``).
    obey_robots: bool | None = None


class SourceSettingsError(ValueError):
    """The ``settings:`` of one source are invalid for its kind."""


def select(node: Selector | Response, spec: str | None) -> SelectorList:
    """Run a selector written in config: XPath if it starts with ``/``, ``./`` or ``(``,
    otherwise CSS (with Scrapy's ``::text`` and ``::attr(name)`` extensions)."""
    if not spec:
        return SelectorList([])
    if spec.startswith(("/", "./", "(")):
        return node.xpath(spec)
    return node.css(spec)


def first(node: Selector | Response, spec: str | None, pattern: str | None = None) -> str | None:
    """First match of ``spec`` as a stripped string (group 1 of ``pattern`` if given)."""
    for value in select(node, spec).getall():
        value = value.strip()
        if pattern:
            m = re.search(pattern, value)
            if not m:
                continue
            value = m.group(1) if m.groups() else m.group(0)
        if value:
            return value
    return None


def joined(node: Selector | Response, spec: str | None) -> str | None:
    """All matches of ``spec`` joined (a text split over several nodes)."""
    values = [v.strip() for v in select(node, spec).getall()]
    text = " ".join(v for v in values if v)
    return text or None


class SourceSpider(scrapy.Spider):
    """Base of every registered spider: one instance crawls one configured source.

    ``cursor`` is what the previous finished crawl of this source left (see
    :meth:`next_cursor`); it is persisted by the health extension only when the crawl
    finishes cleanly, so a crawl killed mid-way is simply repeated from the old cursor and
    idempotent upserts keep the store free of duplicates.
    """

    kind: ClassVar[str] = ""
    options_model: ClassVar[type[SourceSettings]] = SourceSettings

    def __init__(
        self, source: Source | dict[str, Any], cursor: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        self.source = source if isinstance(source, Source) else Source.model_validate(source)
        super().__init__(name=self.source.name, **kwargs)
        self.opts = self.parse_options(self.source)
        self.cursor: dict[str, Any] = dict(cursor or {})
        self._seen: dict[str, str] = dict(self.cursor.get("seen") or {})
        self._seen_now: dict[str, str] = {}
        #: Ids collected only in part (a post after the reference clock was left out).
        self._forgotten: set[str] = set()
        #: Set when a listing request failed: the next crawl must not stop early.
        self.incomplete = False
        self._clock: datetime | None = None
        self._clock_read = False

    # -- clock ---------------------------------------------------------------------------
    @property
    def clock(self) -> datetime | None:
        """The reference clock (``TINGFENG_NOW``) of this crawl, ``None`` when live."""
        if not self._clock_read:
            crawler = getattr(self, "crawler", None)
            value = crawler.settings.get(NOW_SETTING) if crawler is not None else None
            self._clock = reference_clock(value)
            self._clock_read = True
        return self._clock

    def now(self) -> datetime:
        """The crawl's "now": the reference clock when set, else the current time."""
        return self.clock or datetime.now(UTC)

    @classmethod
    def parse_options(cls, source: Source) -> Any:
        try:
            return cls.options_model.model_validate(source.settings)
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"])
                lines.append(f"sources.{source.name}.settings.{key}: {zh_describe(err)}")
            raise SourceSettingsError("\n".join(lines)) from None

    # -- cursor --------------------------------------------------------------------------
    def is_fresh(self, native_id: str, fingerprint: object = "") -> bool:
        """True when ``native_id`` was not collected by the last finished crawl, or has
        changed since (``fingerprint``: a reply count, a last-post time)."""
        return self._seen.get(native_id) != str(fingerprint)

    def mark_seen(self, native_id: str, fingerprint: object = "") -> None:
        """Remember ``native_id`` as collected: call once its page was parsed, not when it
        was merely listed, so a detail page that failed is fetched again next time."""
        self._seen_now[native_id] = str(fingerprint)

    def forget(self, *native_ids: str | None) -> None:
        """Not collected in full (a post after the reference clock was left out): these ids
        (an item's own, its thread's, its parent's) are not remembered as seen, so the
        next crawl fetches their pages again."""
        self._forgotten.update(n for n in native_ids if n)

    @property
    def resuming(self) -> bool:
        """The previous crawl missed a listing page: do not stop early at known items."""
        return bool(self.cursor.get("incomplete"))

    def next_cursor(self) -> dict[str, Any]:
        """The cursor to persist when this crawl finishes cleanly."""
        merged = {k: v for k, v in self._seen.items() if k not in self._seen_now}
        merged.update(self._seen_now)
        for native_id in self._forgotten:
            merged.pop(native_id, None)
        keep = list(merged.items())[-SEEN_LIMIT:]
        return {**self.cursor, "seen": dict(keep), "incomplete": self.incomplete}

    # -- requests and errors -------------------------------------------------------------
    def request(
        self,
        url: str,
        callback: Callable[..., Any],
        endpoint: str | None = None,
        **kwargs: Any,
    ) -> Request:
        """A request of this source. ``endpoint`` names what kind of page it asks for
        (``list``, ``comments``...; default the callback's name): answers and failures
        are counted per endpoint, and one that keeps failing makes the source unhealthy."""
        headers = {**self.opts.headers, **kwargs.pop("headers", {})}
        errback = kwargs.pop("errback", self.on_error)
        meta = dict(kwargs.pop("meta", None) or {})
        meta.setdefault("endpoint", endpoint or getattr(callback, "__name__", "page"))
        return Request(
            url, callback=callback, errback=errback, headers=headers, meta=meta, **kwargs
        )

    def endpoint_failed(self, response: Response, kind: str) -> None:
        """An answer that arrived but is unusable (an API error, not JSON): counted as a
        failure of its endpoint instead of a success."""
        endpoint = response.meta.get("endpoint") if response.request is not None else None
        if endpoint:
            stats = self.crawler.stats
            stats.inc_value(f"{ENDPOINTS}{endpoint}/ok", -1)
            stats.inc_value(f"{ENDPOINTS}{endpoint}/failed/{kind}")

    def on_error(self, failure: Failure) -> Iterable[Any]:
        kind = classify_failure(failure)
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if isinstance(failure.value, BlockedError) and failure.value.kind == LOGIN_REQUIRED:
            return []  # one members-only page, counted and skipped (skips_login_wall)
        if isinstance(failure.value, BlockedError):
            # Counted by the middleware that recognised it (the source is unhealthy).
            if self.stop_when_blocked(failure.value.kind):
                raise CloseSpider("blocked")
            # Not "incomplete": the wall stays until a login is configured, and re-reading
            # every list page of the open boards each time would not get past it.
            self.logger.warning("%s: %s", self.source.name, failure.value)
            return []
        self.crawler.stats.inc_value(f"{ERRORS}{kind}")
        endpoint = request.meta.get("endpoint") if request is not None else None
        if endpoint and kind != "robots_disallowed":
            self.crawler.stats.inc_value(f"{ENDPOINTS}{endpoint}/failed/{kind}")
        self.logger.warning("%s: %s fetching %s", self.source.name, kind, url)
        if request is not None and request.meta.get("listing"):
            self.incomplete = True
        return []

    def selector_checks(self) -> list[dict[str, Any]]:
        """The settings that must match on this source's pages (see
        :class:`crawler.health.SelectorCheck`): a list selector that matches nothing, or a
        content selector that misses most items, makes the source unhealthy."""
        return []

    def skips_login_wall(self, request: Request) -> bool:
        """Whether a login wall met by ``request`` is one page to skip (counted for its
        endpoint as ``login_required``, 需要登录) rather than a wall blocking the source.
        By default no: a wall on an API means every request meets it."""
        return False

    def stop_when_blocked(self, kind: str) -> bool:
        """Whether a wall of ``kind`` (``blocked_login``...) stops the whole source. By
        default yes: one wall means the next requests meet it too, and hammering it gets
        the crawler banned for longer."""
        return True

    def problem(self, kind: str, detail: str = "", url: str | None = None) -> None:
        """Count bad input found while parsing (the crawl goes on)."""
        self.crawler.stats.inc_value(f"{PROBLEMS}{kind}")
        self.logger.info("%s: %s %s %s", self.source.name, kind, detail, url or "")

    def item(self, response: Response | None = None, **fields: Any) -> PostItem:
        fields.setdefault("fetched_at", self.now())
        if response is not None:
            fields.setdefault("url", response.url)
            fields.setdefault("served_at", served_at(response))
            with contextlib.suppress(AttributeError):  # a response built without a request
                fields.setdefault("seen_id", response.meta.get("seen_id"))
        fields.setdefault("source", self.source.name)
        return PostItem(**fields)


def served_at(response: Response | None) -> datetime | None:
    """The HTTP ``Date`` of ``response`` (what its relative dates count from)."""
    if response is None:
        return None
    return http_date(response.headers.get("Date"))
