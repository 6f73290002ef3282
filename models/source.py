"""Sources: one place posts come from, with its spider kind and settings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SourceKind = Literal["feed", "site", "weibo", "jsonapi", "import"]


class Source(BaseModel):
    """A configured source. ``settings`` is validated by the spider registered for ``kind``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: SourceKind
    title: str | None = None
    enabled: bool = True
    interval_minutes: int = Field(default=30, ge=1)
    region: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
