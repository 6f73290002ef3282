"""Posts, their authors and metric snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from models.common import ensure_aware, now_utc

PostKind = Literal["post", "repost", "comment", "reply", "thread", "article", "message"]

#: Kinds whose text may be empty: a plain repost carries no words of its own.
EMPTY_TEXT_KINDS = frozenset({"repost"})


def _aware(value: Any) -> Any:
    if isinstance(value, datetime):
        return ensure_aware(value)
    if isinstance(value, str):
        return ensure_aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return value


AwareTime = Annotated[datetime, BeforeValidator(_aware)]


def make_post_id(source: str, native_id: str) -> str:
    """Stable post id: the same post from the same source always gets the same id."""
    if not source or not native_id:
        raise ValueError("source and native_id must both be non-empty")
    return f"{source}:{native_id}"


class Author(BaseModel):
    """Who wrote a post, as the source describes them."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str | None = None
    verified: bool = False
    verified_type: int | None = None
    followers: int | None = Field(default=None, ge=0)
    friends: int | None = Field(default=None, ge=0)
    posts: int | None = Field(default=None, ge=0)
    created_at: AwareTime | None = None
    location: str | None = None


class Post(BaseModel):
    """One collected item: a microblog, repost, comment, forum thread or reply, article...

    ``id`` is derived from ``source`` and ``native_id`` when not given. Times without a zone
    are read as Asia/Shanghai.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    id: str = ""
    source: str = Field(min_length=1)
    native_id: str = Field(min_length=1)
    kind: PostKind = "post"
    url: str | None = None
    author: Author = Field(default_factory=Author)
    title: str | None = None
    text: str = ""
    created_at: AwareTime
    fetched_at: AwareTime = Field(default_factory=now_utc)
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
    parent_id: str | None = None
    root_id: str | None = None
    region_tags: list[str] = Field(default_factory=list)
    incident_id: str | None = None
    rumor_score: float | None = Field(default=None, ge=0.0, le=1.0)
    near_duplicate_of: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        # Before validation, so the id is set without a validated attribute assignment
        # (this runs for every one of a million imported posts).
        if isinstance(data, dict) and not data.get("id"):
            source, native_id = data.get("source"), data.get("native_id")
            if isinstance(source, str) and isinstance(native_id, str) and source and native_id:
                data = {**data, "id": f"{source}:{native_id}"}
        return data

    @model_validator(mode="after")
    def _check_text(self) -> Post:
        empty = not self.text.strip() and not (self.title or "").strip()
        if empty and self.kind not in EMPTY_TEXT_KINDS:
            raise ValueError(f"text: empty text is only allowed for reposts (kind={self.kind})")
        return self


class MetricSnapshot(BaseModel):
    """Counts of one post as seen at one moment; spread velocity is computed from these."""

    model_config = ConfigDict(extra="forbid")

    post_id: str = Field(min_length=1)
    observed_at: AwareTime
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
