"""The ``store:`` section of the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from models.settings import Section


class StoreConfig(Section):
    """Where posts and records live: the backend is a name in :data:`store.factory.BACKENDS`."""

    backend: str = "sqlite"
    path: Path = Path("data/tingfeng.db")
    url: str | None = None
    username: str | None = None
    password: str | None = None
    index_prefix: str = "tingfeng"
    verify_certs: bool = True
    ca_certs: Path | None = None
    batch_size: int = Field(default=2000, ge=1, le=100_000)

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        from store.factory import BACKENDS

        if value not in BACKENDS:
            known = " or ".join(repr(n) for n in BACKENDS.names())
            raise ValueError(f"Input should be {known}")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("应以 http:// 或 https:// 开头")
        return value

    def settings(self) -> dict[str, Any]:
        """JSON-able form, for handing to another process (the crawl)."""
        return self.model_dump(mode="json")
