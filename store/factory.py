"""Pick the backend named in the configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.base import Store, StoreError

if TYPE_CHECKING:
    from tingfeng.config import StoreConfig


def open_store(cfg: StoreConfig) -> Store:
    if cfg.backend == "sqlite":
        from store.sqlite import SQLiteStore

        return SQLiteStore(cfg.path, batch_size=cfg.batch_size)
    if cfg.backend == "elasticsearch":
        if not cfg.url:
            raise StoreError("store.url: required when store.backend is elasticsearch")
        from store.elastic import ElasticStore

        return ElasticStore.from_config(cfg)
    raise StoreError(f"store.backend: unknown backend {cfg.backend!r}")
