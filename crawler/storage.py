"""One store per crawl process, shared by every source crawled in it.

SQLite wants one writer; several sources crawled concurrently in one process therefore
share one :class:`store.Store`, opened on first use and closed when the process ends.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from store import Store, open_store
from store.config import StoreConfig

_lock = threading.Lock()
_stores: dict[str, Store] = {}


def shared_store(store_settings: dict[str, Any]) -> Store:
    cfg = StoreConfig.model_validate(store_settings)
    key = cfg.model_dump_json()
    with _lock:
        store = _stores.get(key)
        if store is None:
            if cfg.backend == "sqlite":
                cfg.path.parent.mkdir(parents=True, exist_ok=True)
            store = _stores[key] = open_store(cfg)
        return store


@atexit.register
def close_all() -> None:
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
