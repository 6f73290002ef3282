"""The item every spider yields: raw fields as found on the page, cleaned by the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PostItem:
    """One post as extracted by a spider, before validation and cleaning.

    Spiders fill what the page has: ``created_at`` may be a raw string ("5分钟前"), a number
    or a datetime; ``html`` holds markup that the normalise step turns into ``text``. The
    pipelines replace raw values with typed ones in place; the store step builds a
    :class:`models.Post` from the result.
    """

    source: str
    native_id: str | None = None
    kind: str = "post"
    url: str | None = None
    title: str | None = None
    text: str | None = None
    html: str | None = None
    created_at: Any = None
    fetched_at: datetime | None = None
    #: The HTTP ``Date`` of the answer the post came in: relative dates ("3 小时前") count
    #: from it (else from ``fetched_at``).
    served_at: datetime | None = None
    author: dict[str, Any] = field(default_factory=dict)
    reposts: Any = None
    comments: Any = None
    likes: Any = None
    parent_native_id: str | None = None
    root_native_id: str | None = None
    region_tags: list[str] = field(default_factory=list)
    near_duplicate_of: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Problems found while cleaning (kept for the log and the health record).
    problems: list[str] = field(default_factory=list)
    #: Tokens of ``text`` once a step has cut it, so later steps need not cut again.
    tokens: list[str] | None = field(default=None, repr=False)
    #: The spider's cursor key of the page this came from (``meta["seen_id"]``), so a
    #: post left out of this crawl can make the spider fetch that page again. Not stored.
    seen_id: str | None = field(default=None, repr=False)

    @property
    def post_id(self) -> str:
        return f"{self.source}:{self.native_id}"
