"""Extensions: the end-of-crawl health record and cursor, and progress lines.

Both are per crawler (one crawler per source). Progress is printed to stdout as JSON
lines (``{"event": "progress", ...}`` then ``{"event": "done", ...}``) so the CLI, and
later the scheduler, can follow a crawl running in a subprocess.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from twisted.internet import task

from crawler.dates import NOW_SETTING, reference_clock
from crawler.errors import DROPPED, ENDPOINTS, ERRORS, LOGIN_URLS, PROBLEMS
from crawler.health import (
    SourceHealth,
    cursor_key,
    endpoint_counts,
    evaluate,
    history_for,
    merge_previous,
    state_key,
)
from crawler.pipelines.store import DISCOVERED, LAST_NEW, NEW, UPDATED
from crawler.storage import shared_store

PAGES = "tingfeng/pages"
PAGES_OK = "tingfeng/pages_ok"
ITEMS = "tingfeng/items/scraped"


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: int(v) for k, v in stats.items() if k.startswith(prefix)}


class SourceHealthExtension:
    """Count pages, items and drops; at close, persist health (always) and the cursor
    (only when the crawl finished cleanly)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        s = crawler.settings
        self.store_settings = s.getdict("TINGFENG_STORE")
        self.stale_factor = s.getfloat("TINGFENG_STALE_FACTOR", 4.0)
        self.progress = s.getbool("TINGFENG_PROGRESS", False)
        self.interval = s.getfloat("TINGFENG_PROGRESS_INTERVAL", 2.0)
        #: The reference clock (``TINGFENG_NOW``): the crawl happens "at" it.
        self.clock = reference_clock(s.get(NOW_SETTING))
        self._real_start = datetime.now(UTC)
        self.started_at = self.clock or self._real_start
        self._loop: task.LoopingCall | None = None
        cs = crawler.signals
        cs.connect(self.response_received, signal=signals.response_received)
        cs.connect(self.item_scraped, signal=signals.item_scraped)
        cs.connect(self.item_dropped, signal=signals.item_dropped)
        cs.connect(self.spider_opened, signal=signals.spider_opened)
        cs.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceHealthExtension:
        return cls(crawler)

    def response_received(self, response: Response, request: Any, spider: Spider) -> None:
        if request.url.endswith("/robots.txt"):
            return
        self.crawler.stats.inc_value(PAGES)
        if 200 <= response.status < 300:
            self.crawler.stats.inc_value(PAGES_OK)
            endpoint = request.meta.get("endpoint")
            if endpoint:
                self.crawler.stats.inc_value(f"{ENDPOINTS}{endpoint}/ok")

    def item_scraped(self, item: Any, response: Any, spider: Spider) -> None:
        self.crawler.stats.inc_value(ITEMS)

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Spider) -> None:
        reason = str(exception).split(":", 1)[0] if isinstance(exception, DropItem) else "error"
        self.crawler.stats.inc_value(f"{DROPPED}{reason.strip() or 'unknown'}")

    def spider_opened(self, spider: Spider) -> None:
        if self.progress:
            self._loop = task.LoopingCall(self._tick, spider)
            self._loop.start(self.interval, now=False)

    def _tick(self, spider: Spider) -> None:
        stats = self.crawler.stats.get_stats()
        emit(
            {
                "event": "progress",
                "source": spider.name,
                "pages": stats.get(PAGES, 0),
                "items": stats.get(ITEMS, 0),
                "new": stats.get(NEW, 0),
                "errors": sum(_prefixed(stats, ERRORS).values()),
            }
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        stats = self.crawler.stats.get_stats()
        source = getattr(spider, "source", None)
        opts = getattr(spider, "opts", None)
        interval = getattr(source, "interval_minutes", 30)
        expect = getattr(opts, "expect_new_within_minutes", None) or int(
            interval * self.stale_factor
        )
        now = datetime.now(UTC)
        if self.clock is not None:
            now = self.clock + (now - self._real_start)
        last_new = stats.get(LAST_NEW)
        health = SourceHealth(
            source=spider.name,
            kind=getattr(spider, "kind", ""),
            started_at=self.started_at,
            finished_at=now,
            finish_reason=reason,
            pages=stats.get(PAGES, 0),
            pages_ok=stats.get(PAGES_OK, 0),
            items=stats.get(ITEMS, 0),
            new_items=stats.get(NEW, 0),
            updated_items=stats.get(UPDATED, 0),
            discovered_items=stats.get(DISCOVERED, 0),
            dropped=_prefixed(stats, DROPPED),
            errors=_prefixed(stats, ERRORS),
            problems=_prefixed(stats, PROBLEMS),
            endpoints=endpoint_counts(_prefixed(stats, ENDPOINTS)),
            blocked=stats.get("tingfeng/blocked"),
            login_required_urls=list(stats.get(LOGIN_URLS) or []),
            last_new_item_at=datetime.fromisoformat(last_new) if last_new else None,
            first_crawl_at=self.started_at,
            crawls=1,
            expect_new_within_minutes=expect,
            checks=spider.selector_checks() if hasattr(spider, "selector_checks") else [],
        )
        if self.store_settings:
            store = shared_store(self.store_settings)
            health = merge_previous(health, store.get_state(state_key(spider.name)))
            evaluate(health, now, history_for(store, health, now))
            store.set_state(state_key(spider.name), health.model_dump(mode="json"))
            if reason == "finished" and hasattr(spider, "next_cursor"):
                store.set_state(cursor_key(spider.name), spider.next_cursor())
        else:
            evaluate(health, now)
        if self.progress:
            emit({"event": "done", **health.model_dump(mode="json")})
