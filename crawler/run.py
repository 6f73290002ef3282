"""Crawl entry point, run as a subprocess: ``python -m crawler.run CONFIG [SOURCE...]``.

The Twisted reactor cannot be restarted within a process, so every crawl (from ``tingfeng
crawl`` now, from the scheduler later) is its own process. All named sources (default:
every enabled source) are crawled concurrently in that process, one Scrapy crawler each.

Options: ``--progress`` prints JSON lines on stdout (``progress`` events while running,
one ``done`` event per source with its health record); ``--set NAME=VALUE`` overrides a
Scrapy setting (tests use it for short timeouts). Exit status: 0 crawled, 2 bad
configuration or unknown source.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.health import cursor_key
from crawler.registry import UnknownSpiderKind, spider_for
from crawler.spiders.base import SourceSettingsError, SourceSpider
from crawler.storage import close_all, shared_store
from models import Source
from store import StoreError
from tingfeng.config import Config, ConfigError, load_config


def scrapy_settings(
    config: Config, *, progress: bool = False, overrides: dict[str, Any] | None = None
) -> Settings:
    """Scrapy settings for ``config``: project defaults, then the ``crawler:`` section."""
    c = config.crawler
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    values: dict[str, Any] = {
        "ROBOTSTXT_OBEY": c.obey_robots,
        "CONCURRENT_REQUESTS": c.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.per_domain_concurrency,
        "DOWNLOAD_DELAY": c.download_delay,
        "DOWNLOAD_TIMEOUT": c.download_timeout,
        "RETRY_TIMES": c.retry_times,
        "TINGFENG_RETRY_BACKOFF": c.retry_backoff,
        "TINGFENG_RETRY_BACKOFF_MAX": c.retry_backoff_max,
        "AUTOTHROTTLE_ENABLED": c.autothrottle,
        "AUTOTHROTTLE_START_DELAY": c.autothrottle_start_delay,
        "AUTOTHROTTLE_MAX_DELAY": c.autothrottle_max_delay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": c.autothrottle_target_concurrency,
        "TINGFENG_STORE_BATCH": c.store_batch_size,
        "TINGFENG_NEAR_DUP_THRESHOLD": c.near_duplicate_threshold,
        "TINGFENG_NEAR_DUP_MIN_CHARS": c.near_duplicate_min_chars,
        "TINGFENG_FUTURE_TOLERANCE_MINUTES": c.future_tolerance_minutes,
        "TINGFENG_STALE_FACTOR": c.stale_factor,
        "LOG_LEVEL": c.log_level,
        "TINGFENG_STORE": config.store.model_dump(mode="json"),
        "TINGFENG_GAZETTEER": config.gazetteer,
        # every configured source: a feed reads its articles with a site source's template
        "TINGFENG_SOURCES": [s.model_dump(mode="json") for s in config.sources],
        "TINGFENG_PROGRESS": progress,
    }
    if c.user_agent:
        values["USER_AGENT"] = c.user_agent
    # "project" priority, so a source's own choice (spider priority) can still override
    # (see spider_class); raw `crawler.scrapy` values and --set win over everything.
    settings.setdict(values, priority="project")
    settings.setdict(dict(c.scrapy), priority="cmdline")
    settings.setdict(dict(overrides or {}), priority="cmdline")
    return settings


def select_sources(config: Config, names: list[str]) -> list[Source]:
    if not names:
        return [s for s in config.sources if s.enabled]
    return [config.source(name) for name in names]


def spider_class(source: Source) -> type[SourceSpider]:
    """The registered spider for the source's kind, with the source's own Scrapy settings
    (``settings.obey_robots``) as its ``custom_settings``."""
    cls = spider_for(source.kind)
    opts = cls.parse_options(source)
    if opts.obey_robots is None:
        return cls
    custom = {**(cls.custom_settings or {}), "ROBOTSTXT_OBEY": opts.obey_robots}
    return type(cls.__name__, (cls,), {"custom_settings": custom})


def check_sources(sources: list[Source]) -> None:
    """Fail before crawling when a source's kind or settings are wrong."""
    problems = []
    for source in sources:
        try:
            spider_for(source.kind).parse_options(source)
        except (UnknownSpiderKind, SourceSettingsError) as exc:
            problems.append(
                f"sources.{source.name}: {exc.args[0]}"
                if isinstance(exc, UnknownSpiderKind)
                else str(exc)
            )
    if problems:
        raise ConfigError("\n".join(problems))


def crawl(
    config: Config,
    names: list[str],
    *,
    progress: bool = False,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Run the crawl in this process (starts the reactor: call once per process)."""
    sources = select_sources(config, names)
    if not sources:
        raise ConfigError("sources: nothing to crawl (no enabled source configured)")
    check_sources(sources)
    settings = scrapy_settings(config, progress=progress, overrides=overrides)
    store = shared_store(settings.getdict("TINGFENG_STORE"))
    process = CrawlerProcess(settings)
    for source in sources:
        cursor = store.get_state(cursor_key(source.name)) or {}
        process.crawl(spider_class(source), source=source, cursor=cursor)
    try:
        process.start()
    finally:
        close_all()


def _parse_set(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep:
            raise ConfigError(f"--set {value!r}: expected NAME=VALUE")
        out[name.strip()] = yaml.safe_load(raw)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.run", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument(
        "config", help="Tingfeng config file ('-': TINGFENG_CONFIG or ./tingfeng.yaml)"
    )
    parser.add_argument("sources", nargs="*", help="source names (default: all enabled)")
    parser.add_argument("--progress", action="store_true", help="JSON progress lines on stdout")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(None if args.config == "-" else args.config)
        crawl(config, args.sources, progress=args.progress, overrides=_parse_set(args.set))
    except (ConfigError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
