"""Sources: one place posts come from, with its spider kind and settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: A spider kind by name (``feed``, ``site``, ``weibo``, ``jsonapi``, a plugin's, or ``import``).
#: Which names exist is known to the spider registry, not here: ``tingfeng.config`` checks
#: ``kind`` against it when the configuration is loaded.
SourceKind = str


class Source(BaseModel):
    """A configured source. ``settings`` is validated by the spider registered for ``kind``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: SourceKind = Field(min_length=1)
    title: str | None = None
    enabled: bool = True
    interval_minutes: int = Field(default=30, ge=1)
    region: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
