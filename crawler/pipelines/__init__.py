"""Item pipelines, in the order :mod:`crawler.settings` switches them on:

validate (300) → normalise (400) → boilerplate (500) → dedup (600) → region (700) →
store (800). Each step returns the item or raises ``DropItem("<reason>: detail")``; the
reason before the colon is what the health record counts.
"""

from __future__ import annotations

from scrapy.crawler import Crawler

from crawler.errors import PROBLEMS
from crawler.items import PostItem


class Step:
    """Base of the pipeline steps: holds the crawler and counts problems per kind."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Step:
        return cls(crawler)

    def problem(self, item: PostItem, kind: str, detail: str = "") -> None:
        item.problems.append(kind)
        self.crawler.stats.inc_value(f"{PROBLEMS}{kind}")
        spider = self.crawler.spider
        if spider is not None:
            spider.logger.info("%s %s: %s %s", kind, item.native_id, detail, item.url or "")
