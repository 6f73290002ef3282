"""The ``bulletins:`` config section."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class BulletinsConfig(BaseModel):
    """Office templates and the layout of exported documents (see docs/bulletins.md)."""

    model_config = ConfigDict(extra="forbid")

    #: Template files (``NAME.jinja``) or folders of them, added to the built-in templates;
    #: a name equal to a built-in replaces it.
    templates: list[Path] = Field(default_factory=list)
    #: Issuer printed under a bulletin; default ``office.name``.
    issuer: str | None = None
    #: Sentences of the incident's posts quoted in the drafting notes.
    summary_sentences: int = Field(default=3, ge=0, le=20)
    #: Circulating claims quoted in the drafting notes (the text quotes the first).
    max_claims: int = Field(default=3, ge=1, le=10)
    title_font: str = "方正小标宋简体"
    body_font: str = "仿宋_GB2312"
    heading_font: str = "黑体"
    subheading_font: str = "楷体_GB2312"
    page_number_font: str = "宋体"
