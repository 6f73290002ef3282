"""Region tagging from the configured gazetteer."""

from __future__ import annotations

from collections import OrderedDict

from scrapy.crawler import Crawler

from crawler.gazetteer import RegionTagger
from crawler.items import PostItem
from crawler.pipelines import Step
from nlp.tokenize import cut


class RegionPipeline(Step):
    """Tag each post with the districts it mentions (``gazetteer:`` in the config).

    A post that names no place inherits the tags of the post it answers (a reply "真的假的？"
    under a thread about 白石镇 is about 白石镇), else its source's ``region`` if the source
    has one: a district forum's posts are about that district unless they say otherwise.
    """

    #: Tags of recent posts, for replies and comments that come after their parent.
    MEMORY = 50_000

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.tagger = RegionTagger(crawler.settings.getdict("TINGFENG_GAZETTEER"))
        self.recent: OrderedDict[str, list[str]] = OrderedDict()

    def process_item(self, item: PostItem) -> PostItem:
        if not isinstance(item, PostItem):
            return item
        tags: list[str] = []
        if self.tagger:
            text_tokens = item.tokens if item.tokens is not None else cut(item.text)
            tags = self.tagger.tag_tokens(cut(item.title), text_tokens)
        if not tags and item.parent_native_id:
            tags = self.recent.get(f"{item.source}:{item.parent_native_id}", [])
        if not tags:
            region = getattr(getattr(self.crawler.spider, "source", None), "region", None)
            if region:
                tags = [region]
        item.region_tags = list(dict.fromkeys([*item.region_tags, *tags]))
        if item.region_tags:
            self.recent[item.post_id] = item.region_tags
            if len(self.recent) > self.MEMORY:
                self.recent.popitem(last=False)
        return item
