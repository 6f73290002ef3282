"""Prometheus metrics: posts stored and crawl errors by source (read from the store at
scrape time), request latency (observed by the middleware). One registry per app, so
several apps in one process (tests) do not collide."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from store import Store
    from tingfeng.config import Config


class StoreCollector(Collector):
    def __init__(self, store: Store, config: Config) -> None:
        self.store, self.config = store, config

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from crawler.health import read_health

        posts = GaugeMetricFamily("tingfeng_posts_stored", "Posts in the store")
        posts.add_metric([], float(self.store.count_posts()))
        yield posts
        errors = GaugeMetricFamily(
            "tingfeng_crawl_errors",
            "Errors in the last crawl of each configured source, by error kind",
            labels=["source", "error"],
        )
        healthy = GaugeMetricFamily(
            "tingfeng_source_healthy",
            "1 when the source's last crawl was healthy",
            labels=["source"],
        )
        for source in self.config.sources:
            health = read_health(self.store, source)
            healthy.add_metric([source.name], 1.0 if health.healthy else 0.0)
            for kind, n in sorted(health.errors.items()):
                errors.add_metric([source.name, kind], float(n))
        yield errors
        yield healthy


class Metrics:
    def __init__(self, store: Store, config: Config) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "tingfeng_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.registry.register(StoreCollector(store, config))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route, str(status)).observe(seconds)
