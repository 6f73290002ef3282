"""RSS 2.0 and Atom feeds of city news sites and government portals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from scrapy.http import Response

from crawler.items import PostItem
from crawler.registry import register
from crawler.spiders.base import SourceSettings, SourceSpider, first


class FeedSettings(SourceSettings):
    #: Feed URLs (RSS 2.0 or Atom; the format is detected per response).
    urls: list[str]
    #: Kind of the collected posts.
    post_kind: Literal["article", "post", "message"] = "article"


@register("feed")
class FeedSpider(SourceSpider):
    """Every entry of the configured feeds becomes one post; seen entries are skipped."""

    options_model = FeedSettings

    async def start(self) -> AsyncIterator[Any]:
        for url in self.opts.urls:
            yield self.request(url, self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[PostItem]:
        if not hasattr(response, "selector"):
            self.problem("not_a_feed", "binary response", response.url)
            return
        sel = response.selector
        sel.remove_namespaces()
        entries = sel.xpath("//item") or sel.xpath("//entry")
        if not entries:
            self.problem("not_a_feed", "no <item> or <entry>", response.url)
            return
        for entry in entries:
            link = first(entry, "./link/@href") or first(entry, "./link/text()")
            native_id = first(entry, "./guid/text()") or first(entry, "./id/text()") or link
            if native_id:
                if not self.is_fresh(native_id):
                    continue
                self.mark_seen(native_id)
            yield self.item(
                response,
                native_id=native_id,
                kind=self.opts.post_kind,
                url=response.urljoin(link) if link else response.url,
                title=first(entry, "./title/text()"),
                html=first(entry, "./encoded/text()")
                or first(entry, "./content/text()")
                or first(entry, "./description/text()")
                or first(entry, "./summary/text()"),
                created_at=first(entry, "./pubDate/text()")
                or first(entry, "./published/text()")
                or first(entry, "./updated/text()")
                or first(entry, "./date/text()"),
                author={
                    "name": first(entry, "./author/name/text()")
                    or first(entry, "./creator/text()")
                    or first(entry, "./author/text()")
                },
                extra={"categories": entry.xpath("./category/text() | ./category/@term").getall()},
            )
