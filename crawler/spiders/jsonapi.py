"""Any JSON endpoint with paging: public message boards, 12345 hotline reply pages.

Fields are mapped with JMESPath expressions, so a new board is configuration: where the
list of items is (``items``), how each field is found in an item (``fields``), how pages
advance (``paging``), and optional child lists (an official reply under a message).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scrapy.http import Request, Response

from crawler.items import PostItem
from crawler.registry import register
from crawler.spiders.base import SourceSettings, SourceSpider

PostFieldName = Literal[
    "native_id",
    "title",
    "text",
    "html",
    "created_at",
    "url",
    "author",
    "author_id",
    "reposts",
    "comments",
    "likes",
    "fingerprint",
    "location",
]


def _check_expressions(value: dict[str, str]) -> dict[str, str]:
    for name, expr in value.items():
        try:
            jmespath.compile(expr)
        except JMESPathError as exc:
            raise ValueError(f"{name}: 不是有效的 JMESPath 表达式（{exc}）") from None
    return value


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Paging(_Part):
    #: ``page``: {page} counts from ``start``; ``offset``: {offset} advances by ``size``;
    #: ``cursor``: {cursor} is read from each answer at ``cursor_path``; ``none``: one request.
    mode: Literal["page", "offset", "cursor", "none"] = "page"
    start: int = 1
    size: int = 20
    max_pages: int = 5
    cursor_path: str | None = None


class ChildList(_Part):
    #: Where the children are, relative to the parent item (an object or a list).
    items: str
    kind: Literal["reply", "comment"] = "reply"
    fields: dict[PostFieldName, str]

    _fields = field_validator("fields")(_check_expressions)


class JsonApiSettings(SourceSettings):
    #: Endpoint; may contain ``{page}``, ``{offset}``, ``{size}`` and ``{cursor}``.
    url: str
    method: Literal["GET", "POST"] = "GET"
    #: JSON body for POST, with the same placeholders in string values.
    body: dict[str, Any] | None = None
    paging: Paging = Field(default_factory=Paging)
    #: JMESPath to the list of items in one answer.
    items: str
    #: JMESPath per post field; ``native_id`` is required.
    fields: dict[PostFieldName, str]
    post_kind: Literal["message", "post", "article"] = "message"
    children: list[ChildList] = Field(default_factory=list)
    #: JMESPath that must be truthy for an answer to count as successful (``code == `0```).
    ok: str | None = None
    stop_when_caught_up: bool = True

    _fields = field_validator("fields")(_check_expressions)

    @field_validator("fields")
    @classmethod
    def _needs_id(cls, value: dict[str, str]) -> dict[str, str]:
        if "native_id" not in value:
            raise ValueError("native_id: 必填（指向条目 id 的 JMESPath）")
        return value

    @field_validator("items", "ok")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            _check_expressions({"expression": value})
        return value


@register("jsonapi")
class JsonApiSpider(SourceSpider):
    """Paged JSON lists mapped onto posts by JMESPath."""

    options_model = JsonApiSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        o = self.opts
        self._items = jmespath.compile(o.items)
        self._fields = {k: jmespath.compile(v) for k, v in o.fields.items()}
        self._ok = jmespath.compile(o.ok) if o.ok else None
        self._children = [
            (
                jmespath.compile(c.items),
                c.kind,
                {k: jmespath.compile(v) for k, v in c.fields.items()},
            )
            for c in o.children
        ]
        self._cursor_path = jmespath.compile(o.paging.cursor_path) if o.paging.cursor_path else None

    async def start(self) -> AsyncIterator[Any]:
        yield self.page_request(0, None)

    def selector_checks(self) -> list[dict[str, Any]]:
        checks = [{"role": "list", "setting": "items", "value": self.opts.items,
                   "problem": "items_unmatched", "endpoint": "api"}]  # fmt: skip
        for name in ("text", "html"):
            if name in self.opts.fields:
                checks.append({"role": "content", "setting": f"fields.{name}",
                               "value": self.opts.fields[name]})  # fmt: skip
                break
        return checks

    def page_request(self, index: int, cursor: str | None) -> Request:
        paging = self.opts.paging
        values = {
            "page": paging.start + index,
            "offset": paging.start + index * paging.size,
            "size": paging.size,
            "cursor": cursor or "",
        }
        url = self.opts.url.format(**values)
        kwargs: dict[str, Any] = {"cb_kwargs": {"index": index}, "meta": {"listing": True}}
        if self.opts.method == "POST":
            body = {
                k: v.format(**values) if isinstance(v, str) else v
                for k, v in (self.opts.body or {}).items()
            }
            kwargs.update(
                method="POST",
                body=json.dumps(body, ensure_ascii=False),
                headers={"Content-Type": "application/json"},
            )
        return self.request(url, self.parse, endpoint="api", **kwargs)

    def parse(self, response: Response, index: int = 0) -> Iterator[Any]:
        try:
            data = json.loads(response.body)
        except ValueError:
            self.problem("bad_json", "response is not JSON", response.url)
            self.endpoint_failed(response, "bad_json")
            return
        if self._ok is not None and not self._ok.search(data):
            self.problem("api_error", f"ok expression false: {str(data)[:200]}", response.url)
            self.endpoint_failed(response, "api_error")
            return
        rows = self._items.search(data)
        if not isinstance(rows, list):
            # Valid JSON where the items path finds no list: the path (or the API) changed.
            self.problem("items_unmatched", f"items {self.opts.items!r} gave no list", response.url)
            return
        fresh = 0
        for row in rows:
            if not isinstance(row, dict):
                self.problem("bad_json", "item is not an object", response.url)
                continue
            values = {k: expr.search(row) for k, expr in self._fields.items()}
            native_id = _str(values.get("native_id"))
            mark = values.get("fingerprint") or ""
            if native_id:
                if not self.is_fresh(native_id, mark):
                    continue
                self.mark_seen(native_id, mark)
            fresh += 1
            yield self._item(response, values, native_id, self.opts.post_kind)
            for items_expr, kind, fields in self._children:
                children = items_expr.search(row)
                if isinstance(children, dict):
                    children = [children]
                for n, child in enumerate(children or []):
                    if not isinstance(child, dict):
                        continue
                    cvalues = {k: expr.search(child) for k, expr in fields.items()}
                    child_id = _str(cvalues.get("native_id")) or (
                        f"{native_id}-{kind}-{n + 1}" if native_id else None
                    )
                    yield self._item(
                        response, cvalues, child_id, kind, parent=native_id, url=values.get("url")
                    )
        paging = self.opts.paging
        if paging.mode == "none" or not rows or index + 1 >= paging.max_pages:
            return
        if self.opts.stop_when_caught_up and not self.resuming and not fresh:
            return
        cursor = None
        if paging.mode == "cursor":
            cursor = _str(self._cursor_path.search(data)) if self._cursor_path else None
            if not cursor:
                return
        yield self.page_request(index + 1, cursor)

    def _item(
        self,
        response: Response,
        values: dict[str, Any],
        native_id: str | None,
        kind: str,
        parent: str | None = None,
        url: Any = None,
    ) -> PostItem:
        link = _str(values.get("url")) or _str(url)
        return self.item(
            response,
            native_id=native_id,
            kind=kind,
            url=response.urljoin(link) if link else response.url,
            title=_str(values.get("title")),
            text=_str(values.get("text")),
            html=_str(values.get("html")),
            created_at=values.get("created_at"),
            author={
                "name": _str(values.get("author")),
                "id": _str(values.get("author_id")),
                "location": _str(values.get("location")),
            },
            reposts=values.get("reposts"),
            comments=values.get("comments"),
            likes=values.get("likes"),
            parent_native_id=parent,
            root_native_id=parent,
        )


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
