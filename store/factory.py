"""Pick the backend named in the configuration.

Backends are a named extension point (:class:`models.registry.Registry`, group
``tingfeng.stores``): the built-in ``sqlite`` and ``elasticsearch`` register below exactly
as an installed plugin would through an entry point (``mybackend = mypkg:open_store``). A
backend is a callable ``(cfg: StoreConfig, *, readonly: bool) -> Store``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from models.registry import Registry, UnknownComponent
from store.base import Store, StoreError

if TYPE_CHECKING:
    from store.config import StoreConfig

Opener = Callable[..., Store]
BACKENDS: Registry[Opener] = Registry("stores")


@BACKENDS.register("sqlite")
def _open_sqlite(cfg: StoreConfig, *, readonly: bool = False) -> Store:
    from store.sqlite import SQLiteStore

    return SQLiteStore(cfg.path, batch_size=cfg.batch_size, readonly=readonly)


@BACKENDS.register("elasticsearch")
def _open_elasticsearch(cfg: StoreConfig, *, readonly: bool = False) -> Store:
    if not cfg.url:
        raise StoreError("store.url: required when store.backend is elasticsearch")
    from store.elastic import ElasticStore

    # Read-only: no index or template is installed; writes would still be refused by
    # the cluster's own permissions, not here.
    return ElasticStore.from_config(cfg, ensure_schema=not readonly)


def open_store(cfg: StoreConfig, *, readonly: bool = False) -> Store:
    """The configured store. ``readonly=True`` (stats, search, export): never creates,
    migrates or writes anything, and fails with "no store at PATH" where there is none."""
    try:
        opener = BACKENDS.get(cfg.backend)
    except UnknownComponent as exc:
        raise StoreError(f"store.backend: {exc}") from None
    return opener(cfg, readonly=readonly)
