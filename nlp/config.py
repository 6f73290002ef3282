"""The ``nlp:`` section of the configuration: dictionaries, stopwords, the rumor model."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from models.settings import Section


class NlpConfig(Section):
    user_dict: list[Path] = Field(default_factory=list)
    stopwords: list[Path] = Field(default_factory=list)
    rumor_model: Path | None = None
