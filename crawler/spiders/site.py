"""News sites, government portals and Discuz!-style forums: list pages → detail pages.

One spider covers all three because they share one shape: a paginated list of links, and
a page per link. A news or portal source describes the article page under ``detail``; a
forum describes the thread page under ``thread``, whose first floor becomes a ``thread``
post and the others ``reply`` posts pointing to it (``parent_id``/``root_id``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scrapy.http import Request, Response, TextResponse

from crawler.errors import ENDPOINTS
from crawler.items import PostItem
from crawler.registry import register
from crawler.spiders.base import (
    Regex,
    SelectorSpec,
    SourceSettings,
    SourceSpider,
    first,
    joined,
    select,
)
from crawler.text import canonical_url

#: Item fields a selector may fill (``fields:`` maps these names to selectors).
FieldName = Literal[
    "title", "created_at", "author", "author_id", "reposts", "comments", "likes", "views"
]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Part):
    """A field that needs a regular expression after its selector (group 1 is kept)."""

    select: SelectorSpec
    re: Regex


#: A field is a selector string, or ``{select: ..., re: ...}``.
FieldSelector = SelectorSpec | FieldSpec


class ListSettings(_Part):
    #: One entry of the list; ``link`` and ``fields`` are relative to it.
    item: SelectorSpec | None = None
    #: The detail URL (``a::attr(href)``).
    link: SelectorSpec
    #: A value that changes when the detail page does (a forum's reply count): a known
    #: entry is fetched again only when it changed.
    fingerprint: SelectorSpec | None = None
    #: Values read from the list entry (e.g. ``comments`` for a reply count).
    fields: dict[FieldName, FieldSelector] = {}
    next_page: SelectorSpec | None = None
    max_pages: int = 5


class DetailSettings(_Part):
    #: Regular expression on the article URL: this template is for the pages it matches
    #: (a portal with several article layouts gives ``detail`` as a list of templates).
    match: Regex | None = None
    kind: Literal["article", "post", "message", "thread"] = "article"
    title: SelectorSpec | None = None
    #: Selector of the body markup (its HTML is kept; the pipeline makes text of it).
    content: SelectorSpec
    fields: dict[FieldName, FieldSelector] = {}


class ThreadSettings(_Part):
    title: SelectorSpec
    #: One floor (楼) of the thread: the first is the thread, the rest replies.
    floors: SelectorSpec
    #: The floor's own id, relative to the floor (e.g. ``::attr(id)``) and a regex for it.
    floor_id: SelectorSpec
    floor_id_pattern: Regex | None = r"(\d+)"
    content: SelectorSpec
    fields: dict[FieldName, FieldSelector] = {}
    next_page: SelectorSpec | None = None
    max_pages: int = 20


class SiteSettings(SourceSettings):
    start_urls: list[str]
    #: Force a charset when a site declares the wrong one (``gbk``, ``gb18030``, ``utf-8``).
    encoding: str | None = None
    #: Regex on the detail URL whose group 1 is the native id (default: the whole URL).
    id_pattern: Regex | None = None
    #: Stop paginating the list once a page holds nothing new.
    stop_when_caught_up: bool = True
    #: Regular expressions on the (absolute) detail URL: a listed link one matches is not
    #: fetched (a known members-only thread, a pinned rules page).
    exclude: list[Regex] = Field(default_factory=list)
    list: ListSettings
    #: The article page, or a list of templates tried in order (first whose ``match``
    #: fits the URL and whose ``content`` is on the page).
    detail: DetailSettings | list[DetailSettings] | None = None
    thread: ThreadSettings | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"未知的编码 {value!r}") from None
        return value

    @model_validator(mode="after")
    def _one_page_kind(self) -> SiteSettings:
        if (self.detail is None or self.detail == []) == (self.thread is None):
            raise ValueError("detail（文章）与 thread（论坛）须且只能给一个")
        return self

    @property
    def templates(self) -> list[DetailSettings]:
        if self.detail is None:
            return []
        return self.detail if isinstance(self.detail, list) else [self.detail]

    def native_id(self, url: str) -> str:
        if self.id_pattern:
            m = re.search(self.id_pattern, url)
            if m:
                return m.group(1) if m.groups() else m.group(0)
        return url

    def covers(self, url: str) -> bool:
        """True when ``url`` is an article page of this site: same host as a start URL,
        ``id_pattern`` (when set) matches, and a template's ``match`` (when set) fits."""
        host = urlsplit(url).netloc.lower()
        if not self.templates or host not in {urlsplit(u).netloc.lower() for u in self.start_urls}:
            return False
        if self.id_pattern and not re.search(self.id_pattern, url):
            return False
        return any(t.match is None or re.search(t.match, url) for t in self.templates)


def extract_article(response: TextResponse, opts: SiteSettings) -> dict[str, Any] | None:
    """Read an article page with the first template that fits it: ``native_id`` (by
    ``id_pattern`` on the canonical URL), ``kind``, ``title``, ``html``, the template's
    ``fields`` and ``canonical_url``; ``None`` when no template finds its content."""
    canonical = canonical_url(response.url, first(response, 'link[rel="canonical"]::attr(href)'))
    for template in opts.templates:
        if template.match and not re.search(template.match, response.url):
            continue
        html = _html(response, template.content)
        if not html:
            continue
        fields = _fields(response, template.fields)
        return {
            "native_id": opts.native_id(canonical),
            "kind": template.kind,
            "title": first(response, template.title) if template.title else fields.get("title"),
            "html": html,
            "fields": fields,
            "canonical_url": canonical,
        }
    return None


@register("site")
class SiteSpider(SourceSpider):
    """List → detail crawling by CSS/XPath selectors from config."""

    options_model = SiteSettings

    async def start(self) -> AsyncIterator[Any]:
        for url in self.opts.start_urls:
            yield self.request(
                url, self.parse, endpoint="list", cb_kwargs={"page": 1}, meta={"listing": True}
            )

    def selector_checks(self) -> list[dict[str, Any]]:
        entry = ("list.item", self.opts.list.item) if self.opts.list.item else None
        setting, value = entry or ("list.link", self.opts.list.link)
        checks = [{"role": "list", "setting": setting, "value": value,
                   "problem": "empty_list", "endpoint": "list"}]  # fmt: skip
        thread = self.opts.thread
        if thread is not None:
            checks.append({"role": "list", "setting": "thread.floors", "value": thread.floors,
                           "problem": "empty_thread", "endpoint": "parse_thread"})  # fmt: skip
            checks.append({"role": "content", "setting": "thread.content",
                           "value": thread.content})  # fmt: skip
        return checks

    def stop_when_blocked(self, kind: str) -> bool:
        """A login wall on a site is usually one members-only board or thread: the other
        boards are still crawled (a walled board's list makes the source unhealthy all the
        same). A captcha or an anti-crawler status stops the source."""
        return kind != "blocked_login"

    def first_collected(self, source: str, native_id: str) -> bool:
        """An article of this source that its own earlier crawls had not collected: a new
        item for its health even when a feed reaching the same article stored it first
        (docs/sources.md, kind: feed), so a portal whose articles keep coming is not
        stale. Forum floors are not listed entries, so threads never count here."""
        return bool(self.opts.detail) and source == self.name and native_id not in self._seen

    def skips_login_wall(self, request: Request) -> bool:
        """A wall on an article or thread page (a members-only thread among open ones) is
        that page's: counted as 需要登录 and skipped. On a list page it is the board's."""
        return not request.meta.get("listing")

    def decoded(self, response: Response) -> TextResponse | None:
        if not isinstance(response, TextResponse):
            self.problem("not_html", f"{type(response).__name__}", response.url)
            return None
        if self.opts.encoding:
            return response.replace(encoding=self.opts.encoding)
        return response

    def native_id(self, url: str) -> str:
        return self.opts.native_id(url)

    def parse(self, response: Response, page: int = 1) -> Iterator[Request]:
        page_response = self.decoded(response)
        if page_response is None:
            return
        opts = self.opts.list
        if opts.item:
            entries = [
                (entry, first(entry, opts.link)) for entry in select(page_response, opts.item)
            ]
        else:  # no entry selector: every link the selector finds, without per-entry fields
            entries = [(None, link) for link in select(page_response, opts.link).getall()]
        found = fresh = 0
        for entry, link in entries:
            if not link or not link.strip():
                continue
            found += 1
            url = page_response.urljoin(link.strip())
            if any(re.search(pattern, url) for pattern in self.opts.exclude):
                continue
            mark = first(entry, opts.fingerprint) if entry is not None and opts.fingerprint else ""
            seen_id = self.native_id(url)
            callback = self.parse_detail if self.opts.detail else self.parse_thread
            if not self.is_fresh(seen_id, mark or ""):
                # Collected before and unchanged: it answered then. Counted for its endpoint
                # so that one walled page asked for again is not "most pages" of a board.
                self.crawler.stats.inc_value(f"{ENDPOINTS}{callback.__name__}/unchanged")
                continue
            fresh += 1
            listed = _fields(entry, opts.fields, join=False) if entry is not None else {}
            yield self.request(
                url,
                callback,
                cb_kwargs={"listed": listed, "page": 1},
                meta={"mark": mark or "", "seen_id": seen_id},
            )
        if not found:
            self.problem("empty_list", "no entries matched list selectors", response.url)
        caught_up = self.opts.stop_when_caught_up and not self.resuming and found and not fresh
        next_link = first(page_response, opts.next_page)
        if next_link and page < opts.max_pages and not caught_up:
            yield self.request(
                page_response.urljoin(next_link),
                self.parse,
                endpoint="list",
                cb_kwargs={"page": page + 1},
                meta={"listing": True},
            )

    def parse_detail(
        self, response: Response, listed: dict[str, Any], page: int = 1
    ) -> Iterator[PostItem]:
        page_response = self.decoded(response)
        if page_response is None:
            return
        self._mark(response)
        article = extract_article(page_response, self.opts)
        if article is None:
            self.problem("no_template", "no detail template found its content", response.url)
            self.endpoint_failed(response, "no_template")
            return
        fields = {**listed, **{k: v for k, v in article["fields"].items() if v}}
        item = self._item(
            page_response,
            fields,
            native_id=article["native_id"],
            kind=article["kind"],
            title=article["title"] or fields.get("title"),
            html=article["html"],
        )
        item.extra["canonical_url"] = article["canonical_url"]
        yield item

    def parse_thread(
        self,
        response: Response,
        listed: dict[str, Any],
        page: int = 1,
        root: str | None = None,
    ) -> Iterator[Any]:
        page_response = self.decoded(response)
        if page_response is None:
            return
        opts = self.opts.thread
        assert opts is not None
        thread_id = root or f"thread-{self.native_id(response.url)}"
        title = first(page_response, opts.title) or listed.get("title")
        floors = select(page_response, opts.floors)
        if not floors:
            self.problem("empty_thread", "no floors matched", response.url)
        for index, floor in enumerate(floors):
            floor_fields = _fields(floor, opts.fields)
            html = _html(floor, opts.content)
            if page == 1 and index == 0:
                yield self._item(
                    page_response,
                    {**listed, **floor_fields},
                    native_id=thread_id,
                    kind="thread",
                    title=title,
                    html=html,
                )
                continue
            floor_id = first(floor, opts.floor_id, opts.floor_id_pattern)
            if not floor_id:
                self.problem("missing_id", "floor without id", response.url)
                continue
            yield self._item(
                page_response,
                floor_fields,
                native_id=f"post-{floor_id}",
                kind="reply",
                html=html,
                parent_native_id=thread_id,
                root_native_id=thread_id,
            )
        next_link = first(page_response, opts.next_page)
        if not next_link or page >= opts.max_pages:
            self._mark(response)  # the whole thread is in: remember it
        else:
            yield self.request(
                page_response.urljoin(next_link),
                self.parse_thread,
                cb_kwargs={"listed": listed, "page": page + 1, "root": thread_id},
                meta={k: response.meta[k] for k in ("mark", "seen_id") if k in response.meta},
            )

    def _mark(self, response: Response) -> None:
        seen_id = response.meta.get("seen_id")
        if seen_id:
            self.mark_seen(seen_id, response.meta.get("mark", ""))

    def _item(self, response: Response, fields: dict[str, Any], **kw: Any) -> PostItem:
        extra = {"views": fields["views"]} if fields.get("views") else {}
        return self.item(
            response,
            created_at=fields.get("created_at"),
            author={"name": fields.get("author"), "id": fields.get("author_id")},
            reposts=fields.get("reposts"),
            comments=fields.get("comments"),
            likes=fields.get("likes"),
            extra=extra,
            **kw,
        )


def _fields(node: Any, specs: dict[str, FieldSelector], join: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if isinstance(spec, FieldSpec):
            out[name] = first(node, spec.select, spec.re)
        else:
            out[name] = joined(node, spec) if join else first(node, spec)
    return out


def _html(node: Any, spec: str) -> str | None:
    parts = select(node, spec).getall()
    return "\n".join(parts) if parts else None
