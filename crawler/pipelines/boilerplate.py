"""Strip boilerplate: site footers, "相关阅读" blocks and ads glued to articles, and forum
furniture (edit stamps, quoted posts, signatures); drop posts a moderator masked."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.boilerplate import BoilerplateStripper
from crawler.items import PostItem
from crawler.pipelines import Step


class BoilerplatePipeline(Step):
    """Apply :class:`crawler.boilerplate.BoilerplateStripper`; the rules that fired are
    listed in ``extra["stripped"]`` so an analyst can see why text is missing."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._by_source: dict[str, BoilerplateStripper] = {}

    def _stripper(self, source: str) -> BoilerplateStripper:
        stripper = self._by_source.get(source)
        if stripper is None:
            opts = getattr(self.crawler.spider, "opts", None)
            patterns = list(getattr(opts, "strip_patterns", []) or [])
            stripper = self._by_source[source] = BoilerplateStripper(patterns)
        return stripper

    def process_item(self, item: PostItem) -> PostItem:
        if not isinstance(item, PostItem) or not item.text:
            return item
        text, fired = self._stripper(item.source).clean(item.text)
        if "masked" in fired:
            # Not a fault of the source: the forum shows a notice instead of the post.
            raise DropItem(f"masked_post: {item.post_id}", log_level="INFO")
        if fired:
            item.extra["stripped"] = fired
            item.text = text
            self.crawler.stats.inc_value("tingfeng/stripped_items")
        if not item.text and not item.title and item.kind != "repost":
            self.problem(item, "only_boilerplate")
            raise DropItem(f"only_boilerplate: {item.post_id}", log_level="INFO")
        return item
