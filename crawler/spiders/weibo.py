"""Weibo through the mobile JSON API that m.weibo.cn uses.

Watched users' timelines and keyword searches (place names) give posts; posts whose
reposts + comments reach ``heat_threshold`` also get their repost and comment timelines
crawled, which is what spread velocity is computed from. Login walls, captchas,
``"ok": -100`` and HTTP 432 are recognised by :mod:`crawler.middlewares` before a callback
here ever sees them, so a blocked source is reported as blocked, never as "no new posts".
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from pydantic import Field
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.items import PostItem
from crawler.registry import register
from crawler.spiders.base import SourceSettings, SourceSpider


class WeiboSettings(SourceSettings):
    #: Where the API lives; tests and mirrors point this elsewhere.
    api_base: str = "https://m.weibo.cn"
    #: User ids (uid) whose timelines are watched.
    users: list[str] = Field(default_factory=list)
    #: Search keywords, typically the jurisdiction's place names.
    keywords: list[str] = Field(default_factory=list)
    max_pages: int = 3
    #: Reposts + comments at or above which a post's repost/comment timelines are crawled.
    heat_threshold: int = 100
    max_child_pages: int = 2
    fetch_reposts: bool = True
    fetch_comments: bool = True
    #: Cookie header of a logged-in session; else read from the ``cookie_env`` variable.
    cookie: str | None = None
    cookie_env: str = "TINGFENG_WEIBO_COOKIE"


@register("weibo")
class WeiboSpider(SourceSpider):
    """m.weibo.cn container, comment and repost APIs."""

    options_model = WeiboSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failed_targets: set[str] = set()

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
        return self.request(self.api(path), self.parse, cb_kwargs={"target": target, "page": page})

    def load(self, response: Response) -> dict[str, Any] | None:
        try:
            data = json.loads(response.body)
        except ValueError:
            self.problem("bad_json", "response is not JSON", response.url)
            return None
        if not isinstance(data, dict):
            self.problem("bad_json", "top level is not an object", response.url)
            return None
        return data

    def parse(self, response: Response, target: str, page: int = 1) -> Iterator[Any]:
        data = self.load(response)
        if data is None:
            self.failed_targets.add(target)
            return
        if data.get("ok") != 1:
            # ok=0 with "这里还没有内容" is the API's end of the list, not an error;
            # any other message ("请求过于频繁") is counted and the page tried next time.
            message = str(data.get("msg") or "")
            if message and not any(w in message for w in ("没有内容", "暂无", "no more")):
                self.problem("api_error", message, response.url)
                self.failed_targets.add(target)
            return
        cards = (data.get("data") or {}).get("cards") or []
        blogs = [c.get("mblog") for c in _flatten_cards(cards)]
        blogs = [b for b in blogs if isinstance(b, dict)]
        newest = int((self.cursor.get("newest") or {}).get(target, 0))
        caught_up = False
        for blog in blogs:
            mid = _int(blog.get("mid") or blog.get("id"))
            if mid and mid <= newest and not blog.get("isTop"):
                caught_up = True
            if mid:
                self.cursor.setdefault("next_newest", {})
                current = self.cursor["next_newest"].get(target, newest)
                self.cursor["next_newest"][target] = max(current, mid)
            yield from self.from_blog(response, blog)
        if blogs and not caught_up and page < self.opts.max_pages:
            yield self.timeline_request(target, page + 1)

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
                cb_kwargs={"blog": blog},
                errback=self.long_text_failed,
            )
        else:
            yield item
        if not native_id:
            return
        heat = (_int(blog.get("reposts_count")) or 0) + (_int(blog.get("comments_count")) or 0)
        if heat >= self.opts.heat_threshold:
            if self.opts.fetch_comments:
                yield self.child_request("comments", native_id, 1)
            if self.opts.fetch_reposts:
                yield self.child_request("reposts", native_id, 1)

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

    def child_request(self, what: str, mid: str, page: int) -> Request:
        path = (
            f"/api/comments/show?id={mid}&page={page}"
            if what == "comments"
            else f"/api/statuses/repostTimeline?id={mid}&page={page}"
        )
        return self.request(
            self.api(path), self.parse_children, cb_kwargs={"what": what, "mid": mid, "page": page}
        )

    def parse_children(self, response: Response, what: str, mid: str, page: int) -> Iterator[Any]:
        data = self.load(response)
        if data is None or data.get("ok") != 1:
            return
        body = data.get("data") or {}
        rows = [r for r in body.get("data") or [] if isinstance(r, dict)]
        for row in rows:
            if what == "reposts":
                row = {k: v for k, v in row.items() if k != "retweeted_status"}
                yield from self.from_blog(response, {**row, "_origin": mid})
            else:
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
                    extra={"reply_to": str(row["reply_id"])} if row.get("reply_id") else {},
                )
        last = _int(body.get("max")) or 0
        if rows and page < min(last or page + 1, self.opts.max_child_pages):
            yield self.child_request(what, mid, page + 1)

    def on_error(self, failure: Failure) -> Iterable[Any]:
        request = getattr(failure, "request", None)
        if request is not None and "target" in request.cb_kwargs:
            self.failed_targets.add(request.cb_kwargs["target"])
        return super().on_error(failure)

    def next_cursor(self) -> dict[str, Any]:
        """Advance each timeline's newest id, except where a page of it failed: those are
        read again from the old position next time (upserts make that harmless)."""
        cursor = super().next_cursor()
        newest = dict(cursor.get("newest") or {})
        for target, mid in (cursor.pop("next_newest", None) or {}).items():
            if target not in self.failed_targets:
                newest[target] = mid
        cursor["newest"] = newest
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
