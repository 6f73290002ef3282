"""Validate: required fields, dates, counts. Keep what can be kept, drop with a reason."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.dates import NOW_SETTING, DateError, parse_cn_time, reference_clock, relative_base
from crawler.items import PostItem
from crawler.pipelines import Step
from models.post import PostKind

_KINDS: frozenset[str] = frozenset(PostKind.__args__)  # type: ignore[attr-defined]
_COUNT = re.compile(r"^\s*([\d.,]+)\s*(万|w|亿|k)?\+?\s*$", re.I)
_MULT = {"万": 10_000, "w": 10_000, "亿": 100_000_000, "k": 1_000}
_AUTHOR_LABEL = re.compile(r"^(?:作者|记者|编辑|发布者|发布人|楼主|来源|网友)\s*[:：]\s*")
#: Earliest plausible post time; 1970 or 1900 is a zero or missing timestamp.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def parse_count(value: Any) -> int | None:
    """``1234``, ``"1,234"``, ``"1.2万"``, ``"100万+"`` → int; ``None`` when unreadable."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value >= 0 else None
    m = _COUNT.match(str(value))
    if not m:
        return None
    try:
        number = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    return int(number * _MULT.get((m.group(2) or "").lower(), 1))


class ValidatePipeline(Step):
    """Check and type raw fields.

    * no id: derived from the URL and content (counted ``missing_id``); no URL: dropped;
    * dates: Chinese relative and absolute forms, relative ones counted from the answer's
      HTTP ``Date`` (else the fetch time: the ``TINGFENG_NOW`` clock when set); missing,
      unreadable, in the future (beyond
      ``TINGFENG_FUTURE_TOLERANCE_MINUTES``) or before 2000 (a zero timestamp) are counted
      and replaced by the fetch time, with the raw value kept in ``extra["raw_created_at"]``
      (the store keeps the earliest estimate of a post read again, ``store.merge``);
    * with a reference clock (``TINGFENG_NOW``, ``tingfeng crawl --at``), a post written
      after it is counted ``after_clock`` and dropped: a crawl at T stores what was written
      by T, and the next crawl fetches that page again;
    * counts: "1.2万" is 12000; unreadable counts are counted and set to 0;
    * no text, HTML or title (except a plain repost): dropped.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        minutes = crawler.settings.getfloat("TINGFENG_FUTURE_TOLERANCE_MINUTES", 60)
        self.future_tolerance = timedelta(minutes=minutes)
        self.clock = reference_clock(crawler.settings.get(NOW_SETTING))

    def process_item(self, item: PostItem) -> PostItem:
        if not isinstance(item, PostItem):
            return item
        item.fetched_at = item.fetched_at or self.clock or datetime.now(UTC)
        if not item.native_id:
            if not item.url:
                self.problem(item, "missing_id", "no id and no URL")
                raise DropItem("missing_id: no id and no URL", log_level="INFO")
            # URL plus content: several id-less entries of one JSON page stay apart, and
            # the same entry crawled again gets the same id.
            basis = "\n".join([item.url, item.title or "", (item.text or item.html or "")[:500]])
            item.native_id = "u" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]
            self.problem(item, "missing_id", "id derived from URL and content")
        item.native_id = str(item.native_id).strip()[:200]
        if item.kind not in _KINDS:
            self.problem(item, "bad_kind", repr(item.kind))
            item.kind = "post"
        if not (item.text or item.html or item.title) and item.kind != "repost":
            self.problem(item, "missing_text")
            raise DropItem(f"missing_text: {item.post_id} has no text", log_level="INFO")
        item.created_at = self._date(item)
        for name in ("reposts", "comments", "likes"):
            raw = getattr(item, name)
            count = parse_count(raw)
            if count is None:
                self.problem(item, "bad_count", f"{name}={raw!r}")
                count = 0
            setattr(item, name, count)
        if "views" in item.extra:
            views = parse_count(item.extra["views"])
            if views is None:
                self.problem(item, "bad_count", f"views={item.extra['views']!r}")
                del item.extra["views"]
            else:
                item.extra["views"] = views
        item.author = self._author(item)
        return item

    def _date(self, item: PostItem) -> datetime:
        fetched = item.fetched_at
        assert fetched is not None
        raw = item.created_at
        if raw is None or raw == "":
            self.problem(item, "date_missing")
            item.extra["created_at_estimated"] = True
            return fetched
        base = relative_base(fetched, item.served_at, self.clock)
        try:
            when = parse_cn_time(raw, now=base)
        except (DateError, ValueError, OverflowError, OSError) as exc:
            self.problem(item, "date_unparsed", str(exc))
            kind = None
        else:
            # With a reference clock, a post dated after it is real (a recorded page read
            # "as of" an earlier time) but could not have been seen at the clock: it is
            # counted and left out, and its page is fetched again by the next crawl (the
            # spider forgets it), which stores it once its time has come. Only a date
            # beyond anything that has been served yet is in the future.
            latest = max(fetched, item.served_at or fetched)
            if self.clock is not None:
                latest = max(latest, datetime.now(UTC))
            if when > latest + self.future_tolerance:
                kind = "date_future"
            elif when < EARLIEST:
                kind = "date_too_old"
            else:
                if self.clock is not None and when > self.clock:
                    self.problem(item, "after_clock", f"{when.isoformat()} > {self.clock}")
                    spider = self.crawler.spider
                    if spider is not None and hasattr(spider, "forget"):
                        spider.forget(
                            item.seen_id, item.native_id, item.root_native_id, item.parent_native_id
                        )
                    raise DropItem(
                        f"after_clock: {item.post_id} written {when.isoformat()}, after the"
                        f" crawl's clock {self.clock.isoformat()}",
                        log_level="INFO",
                    )
                return when
            self.problem(item, kind, f"{raw!r} → {when.isoformat()}")
        item.extra["raw_created_at"] = str(raw)
        item.extra["created_at_estimated"] = True
        return fetched

    def _author(self, item: PostItem) -> dict[str, Any]:
        author: dict[str, Any] = {}
        for key, value in (item.author or {}).items():
            if value is None or value == "":
                continue
            if key in ("followers", "friends", "posts"):
                count = parse_count(value)
                if count is None:
                    self.problem(item, "bad_count", f"author.{key}={value!r}")
                    continue
                value = count
            elif key == "created_at":
                try:
                    value = parse_cn_time(value, now=item.served_at or item.fetched_at)
                except (DateError, ValueError, OverflowError, OSError):
                    continue
            elif key == "verified_type":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    continue
            elif key in ("id", "name", "location"):
                value = str(value).strip()[:200]
                if key == "name":
                    value = _AUTHOR_LABEL.sub("", value).strip()
                    if not value:
                        continue
            author[key] = value
        return author
