"""Pick the backend named in the configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.base import Store, StoreError

if TYPE_CHECKING:
    from tingfeng.config import StoreConfig


def open_store(cfg: StoreConfig, *, readonly: bool = False) -> Store:
    """The configured store. ``readonly=True`` (stats, search, export): never creates,
    migrates or writes anything, and fails with "no store at PATH" where there is none."""
    if cfg.backend == "sqlite":
        from store.sqlite import SQLiteStore

        return SQLiteStore(cfg.path, batch_size=cfg.batch_size, readonly=readonly)
    if cfg.backend == "elasticsearch":
        if not cfg.url:
            raise StoreError("store.url: required when store.backend is elasticsearch")
        from store.elastic import ElasticStore

        # Read-only: no index or template is installed; writes would still be refused by
        # the cluster's own permissions, not here.
        return ElasticStore.from_config(cfg, ensure_schema=not readonly)
    raise StoreError(f"store.backend: unknown backend {cfg.backend!r}")
