"""Store: batched upserts, and a metric snapshot for every observation of a post."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.dates import NOW_SETTING, reference_clock
from crawler.items import PostItem
from crawler.pipelines import Step
from crawler.storage import shared_store
from models import Author, MetricSnapshot, Post, make_post_id
from store import Store

NEW = "tingfeng/items/new"
UPDATED = "tingfeng/items/updated"
UNCHANGED = "tingfeng/items/unchanged"
LAST_NEW = "tingfeng/last_new_item_at"
#: Items this crawl found that are stored under another source (a feed's articles read by
#: a ``site`` source's template): new to this source, so they count for its health.
DISCOVERED = "tingfeng/items/discovered"


def to_post(item: PostItem) -> Post:
    """The :class:`models.Post` for a validated, cleaned item."""
    parent = make_post_id(item.source, item.parent_native_id) if item.parent_native_id else None
    root = make_post_id(item.source, item.root_native_id) if item.root_native_id else None
    return Post(
        source=item.source,
        native_id=str(item.native_id),
        kind=item.kind,  # type: ignore[arg-type]
        url=item.url,
        author=Author.model_validate(item.author or {}),
        title=item.title,
        text=item.text or "",
        created_at=item.created_at,
        fetched_at=item.fetched_at or datetime.now(UTC),
        reposts=item.reposts or 0,
        comments=item.comments or 0,
        likes=item.likes or 0,
        parent_id=parent,
        root_id=root,
        region_tags=item.region_tags,
        near_duplicate_of=item.near_duplicate_of,
        extra=item.extra,
    )


class StorePipeline(Step):
    """Upsert posts in batches of ``TINGFENG_STORE_BATCH`` (default 200).

    Every stored observation also appends a :class:`models.MetricSnapshot` (reposts,
    comments, likes at fetch time): the first is the baseline, each re-crawl of a known
    post adds one, and spread velocity is computed from them. Upserts are idempotent, so a
    batch lost to a killed process is simply written again by the next crawl.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.batch_size = crawler.settings.getint("TINGFENG_STORE_BATCH", 200)
        self.store_settings = crawler.settings.getdict("TINGFENG_STORE")
        self.store: Store | None = None
        self.buffer: list[Post] = []
        self.clock = reference_clock(crawler.settings.get(NOW_SETTING))

    def open_spider(self) -> None:
        if self.store_settings:
            self.store = shared_store(self.store_settings)

    def close_spider(self) -> None:
        self.flush()

    def process_item(self, item: PostItem) -> PostItem:
        if not isinstance(item, PostItem):
            return item
        try:
            post = to_post(item)
        except (ValidationError, ValueError) as exc:
            detail = str(exc).splitlines()[0:3]
            self.problem(item, "invalid", " ".join(detail))
            raise DropItem(
                f"invalid: {item.post_id}: {' '.join(detail)}", log_level="INFO"
            ) from None
        self.buffer.append(post)
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer:
            return
        posts, self.buffer = self.buffer, []
        stats = self.crawler.stats
        if self.store is None:
            stats.inc_value(NEW, len(posts))
            return
        result = self.store.upsert_posts(posts)
        failed = {post_id for post_id, _ in result.failed}
        for post_id, reason in result.failed:
            stats.inc_value("tingfeng/problems/store_failed")
            self.crawler.spider.logger.warning("store refused %s: %s", post_id, reason)
        self.store.add_snapshots(
            MetricSnapshot(
                post_id=p.id,
                observed_at=p.fetched_at,
                reposts=p.reposts,
                comments=p.comments,
                likes=p.likes,
            )
            for p in posts
            if p.id not in failed
        )
        stats.inc_value(NEW, result.inserted)
        stats.inc_value(UPDATED, result.updated)
        stats.inc_value(UNCHANGED, result.unchanged)
        # A feed yields only entries it has not collected before; those it stores under a
        # site source are that source's posts (often stored by the site's own crawl first)
        # but the feed's discoveries: without them such a feed is stale by construction.
        spider = self.crawler.spider
        own = getattr(spider, "name", None)
        discovered = sum(1 for p in posts if p.id not in failed and own and p.source != own)
        if discovered:
            stats.inc_value(DISCOVERED, discovered)
        # A site's article new to its own crawls is new for its health, whoever (its feed)
        # stored it first: otherwise the site goes stale while its feed wins every race.
        first_collected = getattr(spider, "first_collected", None)
        firsts = first_collected is not None and any(
            first_collected(p.source, p.native_id) for p in posts if p.id not in failed
        )
        if result.inserted or discovered or firsts:
            stats.set_value(LAST_NEW, (self.clock or datetime.now(UTC)).isoformat())
