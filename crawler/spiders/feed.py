"""RSS 2.0 and Atom feeds of city news sites and government portals.

A feed entry usually carries a summary and a link; with ``full_text`` (the default) the
linked article is fetched and its full text stored. When a ``site`` source of the same
host has a template for that page, the article is read with that template and stored as
that source's post (the same id a crawl of the site's list pages gives it), so one
article reached through RSS, Atom and a list page is one post. Otherwise the main text is
extracted by trafilatura and the post's id is the article's canonical URL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any, Literal

from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.items import PostItem
from crawler.registry import register
from crawler.spiders.base import SourceSettings, SourceSpider, first, served_at
from crawler.spiders.site import SiteSettings, extract_article
from crawler.text import canonical_url, main_text
from models import Source

#: Scrapy setting listing every configured source (``crawler.run`` fills it).
SOURCES_SETTING = "TINGFENG_SOURCES"


class FeedSettings(SourceSettings):
    #: Feed URLs (RSS 2.0 or Atom; the format is detected per response).
    urls: list[str]
    #: Kind of the collected posts.
    post_kind: Literal["article", "post", "message"] = "article"
    #: Follow each entry's link and store the article's full text.
    full_text: bool = True


@register("feed")
class FeedSpider(SourceSpider):
    """Every entry of the configured feeds becomes one post; seen entries are skipped."""

    options_model = FeedSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sites: list[tuple[str, SiteSettings]] | None = None

    async def start(self) -> AsyncIterator[Any]:
        for url in self.opts.urls:
            yield self.request(url, self.parse, endpoint="feed")

    def sites(self) -> list[tuple[str, SiteSettings]]:
        """The configured ``site`` sources with article templates, by name."""
        if self._sites is None:
            self._sites = []
            crawler = getattr(self, "crawler", None)
            raw = crawler.settings.getlist(SOURCES_SETTING) if crawler is not None else []
            for data in raw:
                try:
                    source = Source.model_validate(data)
                    if source.kind != "site" or source.name == self.source.name:
                        continue
                    opts = SiteSettings.model_validate(source.settings)
                except ValueError:
                    continue  # reported by that source's own crawl
                if opts.templates:
                    self._sites.append((source.name, opts))
        return self._sites

    def site_for(self, url: str) -> tuple[str, SiteSettings] | None:
        return next(((name, o) for name, o in self.sites() if o.covers(url)), None)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if not hasattr(response, "selector"):
            self.problem("not_a_feed", "binary response", response.url)
            self.endpoint_failed(response, "not_a_feed")
            return
        sel = response.selector
        sel.remove_namespaces()
        entries = sel.xpath("//item") or sel.xpath("//entry")
        if not entries:
            self.problem("not_a_feed", "no <item> or <entry>", response.url)
            self.endpoint_failed(response, "not_a_feed")
            return
        for entry in entries:
            link = first(entry, "./link[not(@rel) or @rel='alternate']/@href") or first(
                entry, "./link/text()"
            )
            native_id = first(entry, "./guid/text()") or first(entry, "./id/text()") or link
            if native_id and not self.is_fresh(native_id):
                continue
            url = response.urljoin(link) if link else response.url
            item = self.item(
                response,
                native_id=native_id,
                # The entry's id stays its seen id when the article is stored under another
                # id: an article left out (after the clock) is forgotten by this id.
                seen_id=native_id,
                kind=self.opts.post_kind,
                url=url,
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
            if self.opts.full_text and link and re.match(r"https?://", url) and url != response.url:
                # Remembered once the article is in: one that failed is fetched next time.
                yield self.request(
                    url,
                    self.parse_article,
                    endpoint="article",
                    cb_kwargs={"entry": item},
                    errback=self.article_failed,
                )
            else:
                if native_id:
                    self.mark_seen(native_id)
                yield item

    def parse_article(self, response: Response, entry: PostItem) -> Iterator[PostItem]:
        """The linked article in full: by a site source's template, else trafilatura."""
        if not isinstance(response, TextResponse):
            self.problem("not_html", type(response).__name__, response.url)
            yield entry
            return
        extra = {**entry.extra, "feed_id": entry.native_id}
        if entry.native_id:
            self.mark_seen(entry.native_id)
        site = self.site_for(response.url)
        if site is not None:
            name, opts = site
            page = response.replace(encoding=opts.encoding) if opts.encoding else response
            article = extract_article(page, opts)
            if article is not None:
                fields = article["fields"]
                yield replace(
                    entry,
                    source=name,
                    native_id=article["native_id"],
                    kind=article["kind"],
                    url=response.url,
                    title=article["title"] or entry.title,
                    html=article["html"],
                    created_at=fields.get("created_at") or entry.created_at,
                    author={
                        "name": fields.get("author") or entry.author.get("name"),
                        "id": fields.get("author_id"),
                    },
                    served_at=served_at(response),
                    extra={**extra, "canonical_url": article["canonical_url"], "via": self.name},
                )
                return
            self.problem("no_template", f"{name}'s templates do not fit", response.url)
        canonical = canonical_url(
            response.url, first(response, 'link[rel="canonical"]::attr(href)')
        )
        text = main_text(response.text, response.url)
        if text is None:
            self.problem("no_main_text", "the article page has no main text", response.url)
        yield replace(
            entry,
            native_id=canonical,
            url=response.url,
            text=text if text else entry.text,
            html=None if text else entry.html,
            served_at=served_at(response),
            extra={**extra, "canonical_url": canonical},
        )

    def article_failed(self, failure: Failure) -> Iterator[Any]:
        """The article could not be fetched: keep the feed's own text (counted)."""
        yield from self.on_error(failure)
        entry: PostItem = failure.request.cb_kwargs["entry"]
        self.problem("article_unavailable", "kept the feed's summary", failure.request.url)
        yield entry
