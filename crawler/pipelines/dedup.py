"""Exact and near-duplicate detection. Copies are linked to the first one, never dropped:
how often a claim is copied is itself a spread signal."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import PostItem
from crawler.minhash import NearDuplicateIndex, features, signature
from crawler.pipelines import Step
from crawler.storage import shared_store
from nlp.tokenize import cut

STATE_KEY = "crawler:dedup"
logger = logging.getLogger(__name__)


class _DedupState:
    """Fingerprints shared by all sources of one process (copies cross sources)."""

    def __init__(self, threshold: float, capacity: int) -> None:
        self.index = NearDuplicateIndex(threshold=threshold, capacity=capacity)
        self.exact: OrderedDict[str, str] = OrderedDict()
        #: canonical article URL → the post id that stored it first.
        self.canonical: OrderedDict[str, str] = OrderedDict()
        #: (first id, copy id) pairs already warned about in this process.
        self.warned: set[tuple[str, str]] = set()
        self.capacity = capacity
        self.loaded = False

    def remember_exact(self, digest: str, post_id: str) -> str | None:
        first = self.exact.get(digest)
        if first is None:
            self.exact[digest] = post_id
            while len(self.exact) > self.capacity:
                self.exact.popitem(last=False)
        return first

    def remember_canonical(self, url: str, post_id: str) -> str | None:
        first = self.canonical.get(url)
        if first is None:
            self.canonical[url] = post_id
            while len(self.canonical) > self.capacity:
                self.canonical.popitem(last=False)
        return first


_states: dict[int, _DedupState] = {}


class DedupPipeline(Step):
    """* the same post twice in one crawl (a post on two list pages): the second is dropped;
    * the same article (``extra["canonical_url"]``) under another id: counted
      ``stored_twice`` and logged as a warning, linked to the first id;
    * the same normalised text under another id: ``near_duplicate_of`` = the first id;
    * MinHash similarity ≥ ``TINGFENG_NEAR_DUP_THRESHOLD`` (default 0.7): likewise, with
      ``extra["similarity"]``. Texts shorter than ``TINGFENG_NEAR_DUP_MIN_CHARS`` (default
      20) are not compared: "顶" and "支持" are not copies of each other.

    The fingerprints of recent posts are kept in store state ``crawler:dedup`` so copies
    are found across crawls, not just within one.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        s = crawler.settings
        self.min_chars = s.getint("TINGFENG_NEAR_DUP_MIN_CHARS", 20)
        self.persist = s.getint("TINGFENG_NEAR_DUP_PERSIST", 3000)
        self.store_settings = s.getdict("TINGFENG_STORE")
        self.threshold = s.getfloat("TINGFENG_NEAR_DUP_THRESHOLD", 0.7)
        self.capacity = s.getint("TINGFENG_NEAR_DUP_CAPACITY", 20_000)
        self.seen_ids: set[str] = set()
        self.state: _DedupState | None = None

    def open_spider(self) -> None:
        store = shared_store(self.store_settings) if self.store_settings else None
        key = id(store)
        state = _states.get(key)
        if state is None:
            state = _states[key] = _DedupState(self.threshold, self.capacity)
        if store is not None and not state.loaded:
            saved: Any = store.get_state(STATE_KEY) or {}
            state.index.load(saved.get("near", []))
            for digest, post_id in saved.get("exact", []):
                state.exact[digest] = post_id
            for url, post_id in saved.get("canonical", []):
                state.canonical[url] = post_id
        state.loaded = True
        self.state = state

    def close_spider(self) -> None:
        if self.state is None or not self.store_settings:
            return
        store = shared_store(self.store_settings)
        exact = list(self.state.exact.items())[-self.persist :]
        canonical = list(self.state.canonical.items())[-self.persist :]
        store.set_state(
            STATE_KEY,
            {
                "near": self.state.index.dump(self.persist),
                "exact": [list(pair) for pair in exact],
                "canonical": [list(pair) for pair in canonical],
            },
        )

    def process_item(self, item: PostItem) -> PostItem:
        if not isinstance(item, PostItem):
            return item
        post_id = item.post_id
        if post_id in self.seen_ids:
            self.crawler.stats.inc_value("tingfeng/duplicates/same_id")
            raise DropItem(
                f"duplicate_id: {post_id} already collected in this crawl", log_level="DEBUG"
            )
        self.seen_ids.add(post_id)
        text = item.text or ""
        assert self.state is not None
        url = item.extra.get("canonical_url")
        if url:
            first = self.state.remember_canonical(str(url), post_id)
            if first is not None and first != post_id:
                # One article, two ids: a feed and a site source (or two sites) both
                # store it. Linked as a copy, and warned about: the config should let the
                # feed use the site's template (same host in the site's start_urls).
                if (first, post_id) not in self.state.warned:
                    self.state.warned.add((first, post_id))
                    self.problem(item, "stored_twice", f"{url} is already {first}")
                    self.crawler.stats.inc_value("tingfeng/duplicates/same_article")
                    logger.warning(
                        "%s: the article %s is stored twice, as %s and %s; give the site "
                        "source a template for it or drop one source",
                        item.source, url, first, post_id,
                    )  # fmt: skip
                item.near_duplicate_of = first
                item.extra["similarity"] = 1.0
                return item
        if len(text) < self.min_chars:
            return item
        digest = hashlib.blake2b("".join(text.split()).encode("utf-8"), digest_size=12).hexdigest()
        first = self.state.remember_exact(digest, post_id)
        if first is not None and first != post_id:
            item.near_duplicate_of = first
            item.extra["similarity"] = 1.0
            self.crawler.stats.inc_value("tingfeng/duplicates/exact_text")
            return item
        item.tokens = cut(text)
        sig = signature(features(text, item.tokens))
        match = self.state.index.find(sig)
        if match is not None and match[0] != post_id:
            item.near_duplicate_of = match[0]
            item.extra["similarity"] = round(match[1], 3)
            self.crawler.stats.inc_value("tingfeng/duplicates/near")
            return item  # the first copy stands for it: floods do not grow the index
        self.state.index.add(post_id, sig)
        return item
