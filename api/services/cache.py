"""Answers of read-only queries kept for a few seconds, dropped as soon as the store changes.

Twenty dashboards and analysts asking the same search (a shared link, the same filters
polled, the facets of a result list being paged) would otherwise each repeat the same
full-text scan and facet counts. An answer is kept at most ``ttl`` seconds and only while
:meth:`store.Store.change_token` is unchanged: any committed write (a crawl, an import, a
detection pass, in this process or another) makes every kept answer stale at once. A
backend that cannot tell when it changed (token ``None``) is never cached here.

Identical questions asked while the first is being answered wait for that answer instead
of running the same query in parallel (single flight). The TTL runs on the monotonic clock
(this is a cache, not a domain time); ``ttl`` 0 turns caching off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from store import Store

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    token: object
    at: float
    value: T


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    waits: int = 0  # identical questions that waited for an answer being computed


class AnswerCache(Generic[T]):
    """``get(store, key, compute)``: the kept answer for ``key`` or ``compute()``'s."""

    def __init__(
        self, ttl: float, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def peek(self, store: Store, key: str) -> T | None:
        """The kept answer for ``key`` if it is fresh, else None; never waits, never
        computes (cheap enough for the event loop: a dictionary and the change token)."""
        if self.ttl <= 0:
            return None
        token = store.change_token()
        if token is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.token != token or self.clock() - entry.at >= self.ttl:
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return entry.value

    def get(self, store: Store, key: str, compute: Callable[[], T]) -> T:
        if self.ttl <= 0:
            return compute()
        token = store.change_token()
        if token is None:
            return compute()
        while True:
            with self._lock:
                entry = self._entries.get(key)
                fresh = entry is not None and self.clock() - entry.at < self.ttl
                if entry is not None and fresh and entry.token == token:
                    self._entries.move_to_end(key)
                    self.stats.hits += 1
                    return entry.value
                running = self._running.get(key)
                if running is None:
                    done = self._running[key] = threading.Event()
                    self.stats.misses += 1
                    break
                self.stats.waits += 1
            running.wait()
            token = store.change_token()
        try:
            value = compute()
            with self._lock:
                self._entries[key] = _Entry(token, self.clock(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._running[key]
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
