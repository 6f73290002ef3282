"""Base class of every configuration section.

Each component keeps its own section model next to its code (``store.config.StoreConfig``,
``crawler.config.CrawlerConfig``, ``nlp.config.NlpConfig``...); ``tingfeng.config`` only
assembles them. Unknown keys are errors in every section, so a typo never passes silently.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A configuration section: unknown keys are refused (the error names the key)."""

    model_config = ConfigDict(extra="forbid")


class ConfigError(Exception):
    """A configuration problem, naming the key and what is wrong with it."""
