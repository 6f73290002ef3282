"""Weibo through the mobile JSON API that m.weibo.cn uses.

Watched users' timelines and keyword searches (place names) give posts; posts whose
reposts + comments reach ``heat_threshold`` also get their repost and comment timelines
crawled, which is what spread velocity is computed from. Login walls, captchas,
``"ok": -100`` and HTTP 432 are recognised by :mod:`crawler.middlewares` before a callback
here ever sees them, so a blocked source is reported as blocked, never as "no new posts".
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from pydantic import Field, field_validator
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.items import PostItem
from crawler.registry import register
from crawler.spiders.base import SourceSettings, SourceSpider, served_at

#: Most comment / repost pages read per hot post when ``max_child_pages`` is not set: the
#: API's own page count (``total_number``, ``max``) decides, this only bounds a runaway.
CHILD_PAGES_CAP = 200


class WeiboSettings(SourceSettings):
    #: Where the site lives (``https://m.weibo.cn``); tests and mirrors point this elsewhere.
    #: A trailing ``/api`` is accepted and dropped: the API paths below include it.
    api_base: str = "https://m.weibo.cn"
    #: User ids (uid) whose timelines are watched.
    users: list[str] = Field(default_factory=list)
    #: Search keywords, typically the jurisdiction's place names.
    keywords: list[str] = Field(default_factory=list)
    max_pages: int = 3
    #: Reposts + comments at or above which a post's repost/comment timelines are crawled.
    heat_threshold: int = 100
    #: Comment / repost pages per hot post; default every page the API reports.
    max_child_pages: int | None = None
    fetch_reposts: bool = True
    fetch_comments: bool = True
    #: Comment timeline, paged by ``max_id`` (``?id=<mid>&mid=<mid>&max_id_type=0``).
    comments_path: str = "/comments/hotflow"
    #: Repost timeline, paged by ``page`` (``?id=<mid>&page=<n>``).
    reposts_path: str = "/api/statuses/repostTimeline"
    #: Cookie header of a logged-in session; else read from the ``cookie_env`` variable.
    cookie: str | None = None
    cookie_env: str = "TINGFENG_WEIBO_COOKIE"

    @field_validator("api_base")
    @classmethod
    def _site_root(cls, value: str) -> str:
        base = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+(?:/[^\s?#]*)?$", base):
            raise ValueError(
                f"{value!r} 不是 http(s) 网址；请给出站点根地址，例如 https://m.weibo.cn"
            )
        return base.removesuffix("/api").rstrip("/")

    @field_validator("comments_path", "reposts_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value:
            raise ValueError(f"{value!r}: 应为从站点根开始、不带查询串的路径，例如 /x/y")
        return value


@register("weibo")
class WeiboSpider(SourceSpider):
    """m.weibo.cn container, comment and repost APIs."""

    options_model = WeiboSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failed_targets: set[str] = set()
        #: Post ids listed on each timeline's pages in this crawl.
        self.listed: dict[str, set[int]] = {}
        #: The last (not pinned) id listed on each timeline, to see the order of the next.
        self._last_mid: dict[str, int] = {}
        #: Timelines whose ids were not in descending order in this crawl (a search is
        #: ordered by relevance and time, not by id: "caught up" means nothing there).
        self.disordered: set[str] = set()
        #: Timelines read to their end (an empty page or ``max_pages``) in this crawl.
        self.ended: set[str] = set()

    def api(self, path: str) -> str:
        return self.opts.api_base.rstrip("/") + path

    def request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        headers = {
            "Accept": "application/json, text/plain, */*",
            "MWeibo-Pwa": "1",
            "X-Requested-With": "XMLHttpRequest",
        }
        cookie = self.opts.cookie or os.environ.get(self.opts.cookie_env)
        if cookie:
            headers["Cookie"] = cookie
        return super().request(url, callback, headers=headers, **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        for uid in self.opts.users:
            yield self.timeline_request(f"user:{uid}", 1)
        for keyword in self.opts.keywords:
            yield self.timeline_request(f"search:{keyword}", 1)

    def timeline_request(self, target: str, page: int) -> Request:
        what, value = target.split(":", 1)
        if what == "user":
            path = (
                f"/api/container/getIndex?type=uid&value={value}"
                f"&containerid=107603{value}&page={page}"
            )
        else:
            container = quote(f"100103type=1&q={value}", safe="")
            path = (
                f"/api/container/getIndex?containerid={container}&page_type=searchall&page={page}"
            )
        return self.request(
            self.api(path),
            self.parse,
            endpoint="timeline" if what == "user" else "search",
            cb_kwargs={"target": target, "page": page},
        )

    def load(self, response: Response) -> dict[str, Any] | None:
        try:
            data = json.loads(response.body)
        except ValueError:
            self.problem("bad_json", "response is not JSON", response.url)
            self.endpoint_failed(response, "bad_json")
            return None
        if not isinstance(data, dict):
            self.problem("bad_json", "top level is not an object", response.url)
            self.endpoint_failed(response, "bad_json")
            return None
        return data

    def api_failed(self, response: Response, data: dict[str, Any]) -> bool:
        """An ``ok`` other than 1: the end of a list ("这里还没有内容"), or an API error
        that is counted against the endpoint (True)."""
        message = str(data.get("msg") or "")
        if not message or any(w in message for w in ("没有内容", "暂无", "no more")):
            return False
        self.problem("api_error", message, response.url)
        self.endpoint_failed(response, "api_error")
        return True

    def parse(self, response: Response, target: str, page: int = 1) -> Iterator[Any]:
        data = self.load(response)
        if data is None:
            self.failed_targets.add(target)
            return
        if data.get("ok") != 1:
            # ok=0 with "这里还没有内容" is the API's end of the list, not an error;
            # any other message ("请求过于频繁") is counted and the page tried next time.
            if self.api_failed(response, data):
                self.failed_targets.add(target)
            else:
                self.ended.add(target)
            return
        cards = (data.get("data") or {}).get("cards") or []
        blogs = [c.get("mblog") for c in _flatten_cards(cards)]
        blogs = [b for b in blogs if isinstance(b, dict)]
        newest = int((self.cursor.get("newest") or {}).get(target, 0))
        caught_up = False
        for blog in blogs:
            mid = _int(blog.get("mid") or blog.get("id"))
            if mid and not blog.get("isTop"):
                if mid <= newest:
                    caught_up = True
                last = self._last_mid.get(target)
                if last is not None and mid >= last:
                    self.disordered.add(target)
                self._last_mid[target] = mid
            if mid:
                # Only a candidate: the cursor moves past it only if the post is accepted
                # (a post dated after the reference clock is forgotten, see next_cursor).
                self.listed.setdefault(target, set()).add(mid)
            yield from self.from_blog(response, blog)
        if target in self.unfinished:
            # The last crawl could not trust "caught up" here: read it to max_pages.
            caught_up = False
        if blogs and not caught_up and page < self.opts.max_pages:
            yield self.timeline_request(target, page + 1)
        elif not blogs or page >= self.opts.max_pages:
            self.ended.add(target)

    @property
    def unfinished(self) -> set[str]:
        """Timelines the last crawl marked as not safely caught up (see next_cursor)."""
        return set(self.cursor.get("unfinished") or [])

    def from_blog(self, response: Response, blog: dict[str, Any]) -> Iterator[Any]:
        retweeted = blog.get("retweeted_status")
        if isinstance(retweeted, dict):
            yield from self.from_blog(response, retweeted)
        item = self.blog_item(response, blog)
        native_id = item.native_id
        if native_id and blog.get("isLongText"):
            # The timeline cuts long posts ("...全文"): the full text replaces this item;
            # if it cannot be fetched the cut one is kept (long_text_failed).
            yield self.request(
                self.api(f"/statuses/extend?id={native_id}"),
                self.parse_long,
                endpoint="long_text",
                cb_kwargs={"blog": blog},
                errback=self.long_text_failed,
            )
        else:
            yield item
        if not native_id:
            return
        heat = (_int(blog.get("reposts_count")) or 0) + (_int(blog.get("comments_count")) or 0)
        if heat >= self.opts.heat_threshold:
            # Skipped only when the post says it has none (a missing count is no reason).
            if self.opts.fetch_comments and _int(blog.get("comments_count")) != 0:
                yield self.comments_request(native_id)
            if self.opts.fetch_reposts and _int(blog.get("reposts_count")) != 0:
                yield self.reposts_request(native_id, 1)

    def blog_item(self, response: Response | None, blog: dict[str, Any]) -> PostItem:
        retweeted = blog.get("retweeted_status")
        native_id = str(blog.get("mid") or blog.get("id") or "") or None
        origin = (
            str(retweeted.get("mid") or retweeted.get("id"))
            if isinstance(retweeted, dict)
            else blog.get("_origin")
        )
        return self.item(
            None,
            served_at=served_at(response),
            native_id=native_id,
            kind="repost" if origin else "post",
            url=f"https://m.weibo.cn/detail/{native_id}" if native_id else None,
            html=blog.get("text"),
            created_at=blog.get("created_at"),
            author=_author(blog.get("user")),
            reposts=blog.get("reposts_count"),
            comments=blog.get("comments_count"),
            likes=blog.get("attitudes_count"),
            parent_native_id=origin,
            root_native_id=origin,
            extra={
                k: blog[k]
                for k in ("bid", "source", "region_name", "pic_num", "isLongText")
                if blog.get(k) not in (None, "")
            },
        )

    def parse_long(self, response: Response, blog: dict[str, Any]) -> Iterator[Any]:
        data = self.load(response)
        long_text = ((data or {}).get("data") or {}).get("longTextContent") if data else None
        if not long_text or (data or {}).get("ok") != 1:
            yield self.blog_item(response, blog)
            return
        yield self.blog_item(response, {**blog, "text": long_text, "isLongText": False})

    def long_text_failed(self, failure: Failure) -> Iterator[Any]:
        yield from self.on_error(failure)
        yield self.blog_item(None, failure.request.cb_kwargs["blog"])

    def child_pages(self) -> int:
        return self.opts.max_child_pages or CHILD_PAGES_CAP

    def comments_request(
        self, mid: str, max_id: int = 0, max_id_type: int = 0, page: int = 1
    ) -> Request:
        """The hot-comment timeline m.weibo.cn serves, paged by the ``max_id`` of the
        previous answer (0 on the first page and at the end)."""
        query = f"?id={mid}&mid={mid}"
        if max_id:
            query += f"&max_id={max_id}"
        query += f"&max_id_type={max_id_type}"
        return self.request(
            self.api(self.opts.comments_path + query),
            self.parse_comments,
            endpoint="comments",
            cb_kwargs={"mid": mid, "page": page},
        )

    def reposts_request(self, mid: str, page: int, pages: int | None = None) -> Request:
        return self.request(
            self.api(f"{self.opts.reposts_path}?id={mid}&page={page}"),
            self.parse_reposts,
            endpoint="reposts",
            cb_kwargs={"mid": mid, "page": page, "pages": pages},
        )

    def _child_body(self, response: Response) -> dict[str, Any] | None:
        data = self.load(response)
        if data is None:
            return None
        if data.get("ok") != 1:
            self.api_failed(response, data)
            return None
        body = data.get("data")
        return body if isinstance(body, dict) else {}

    def parse_comments(self, response: Response, mid: str, page: int = 1) -> Iterator[Any]:
        body = self._child_body(response)
        if body is None:
            return
        rows = [r for r in body.get("data") or [] if isinstance(r, dict)]
        for row in rows:
            yield from self.comment_items(response, mid, row)
        max_id = _int(body.get("max_id")) or 0
        if rows and max_id and page < self.child_pages():
            yield self.comments_request(mid, max_id, _int(body.get("max_id_type")) or 0, page + 1)

    def comment_items(
        self, response: Response, mid: str, row: dict[str, Any], reply_to: str | None = None
    ) -> Iterator[PostItem]:
        if reply_to is None and row.get("reply_id"):
            reply_to = str(row["reply_id"])
        yield self.item(
            response,
            native_id=f"comment-{row.get('id')}" if row.get("id") else None,
            kind="comment",
            url=f"https://m.weibo.cn/detail/{mid}",
            html=row.get("text"),
            created_at=row.get("created_at"),
            author=_author(row.get("user")),
            likes=row.get("like_count", row.get("like_counts")),
            parent_native_id=mid,
            root_native_id=mid,
            extra={"reply_to": reply_to} if reply_to else {},
        )
        # hotflow nests the first replies to a comment under it ("comments": [...]).
        for sub in row.get("comments") or []:
            if isinstance(sub, dict):
                yield from self.comment_items(response, mid, sub, reply_to=str(row.get("id")))

    def parse_reposts(
        self, response: Response, mid: str, page: int = 1, pages: int | None = None
    ) -> Iterator[Any]:
        body = self._child_body(response)
        if body is None:
            return
        rows = [r for r in body.get("data") or [] if isinstance(r, dict)]
        for row in rows:
            row = {k: v for k, v in row.items() if k != "retweeted_status"}
            yield from self.from_blog(response, {**row, "_origin": mid})
        if pages is None and rows:
            # The API says how many reposts there are (total_number) and often how many
            # pages (max); the first page's length is the page size.
            total = _int(body.get("total_number")) or 0
            pages = max(_int(body.get("max")) or 0, math.ceil(total / len(rows)))
        if rows and page < min(pages or 0, self.child_pages()):
            yield self.reposts_request(mid, page + 1, pages)

    def on_error(self, failure: Failure) -> Iterable[Any]:
        request = getattr(failure, "request", None)
        if request is not None and "target" in request.cb_kwargs:
            self.failed_targets.add(request.cb_kwargs["target"])
        return super().on_error(failure)

    def next_cursor(self) -> dict[str, Any]:
        """Advance each timeline's newest id to the newest post that was accepted, except
        where a page of it failed: those are read again from the old position next time
        (upserts make that harmless). A post left out as written after the reference
        clock (``forget``) does not count, so the next crawl pages down to it again.

        The newest id only says where to stop when a timeline lists ids newest first. A
        search lists by relevance and time (mid 112 of 19:20 above mid 102 of 20:31), and
        a post left out as after the clock may sit below one that moved the cursor, so
        such a timeline is marked ``unfinished``: the next crawl reads it to
        ``max_pages`` without stopping at known ids. The mark goes once a crawl read it
        to its end in order with nothing left out."""
        cursor = super().next_cursor()
        cursor.pop("next_newest", None)  # written by older versions
        newest = dict(cursor.get("newest") or {})
        unfinished = self.unfinished
        for target, mids in self.listed.items():
            if target in self.failed_targets:
                continue
            accepted = [m for m in mids if str(m) not in self._forgotten]
            if accepted:
                newest[target] = max(int(newest.get(target, 0)), *accepted)
            if target in self.disordered or len(accepted) < len(mids):
                unfinished.add(target)
            elif target in self.ended:
                unfinished.discard(target)
        # Read to an empty end without listing anything: nothing can be missing there.
        unfinished -= self.ended - set(self.listed) - self.failed_targets
        cursor["newest"] = newest
        cursor["unfinished"] = sorted(unfinished)
        return cursor


def _flatten_cards(cards: list[Any]) -> Iterator[dict[str, Any]]:
    for card in cards:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("card_group"), list):
            yield from _flatten_cards(card["card_group"])
        elif card.get("mblog"):
            yield card


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _author(user: Any) -> dict[str, Any]:
    if not isinstance(user, dict):
        return {}
    return {
        "id": str(user["id"]) if user.get("id") is not None else None,
        "name": user.get("screen_name"),
        "verified": bool(user.get("verified")),
        "verified_type": user.get("verified_type"),
        "followers": user.get("followers_count"),
        "friends": user.get("follow_count"),
        "posts": user.get("statuses_count"),
        "location": user.get("location"),
    }
