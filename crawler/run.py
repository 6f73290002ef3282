"""Crawl runner, run as a subprocess: ``python -m crawler.run CONFIG [SOURCE...]``.

The Twisted reactor cannot be restarted within a process, so every crawl (from ``tingfeng
crawl`` now, from the scheduler later) is its own process. All named sources (default:
every enabled source) are crawled concurrently in that process, one Scrapy crawler each.

Options: ``--progress`` prints JSON lines on stdout (``progress`` events while running,
one ``done`` event per source with its health record); ``--set NAME=VALUE`` overrides a
Scrapy setting (tests use it for short timeouts). Exit status: 0 crawled, 2 bad
configuration or unknown source.

The process entry point is :func:`tingfeng.crawl_process.main` (it boots the application:
configuration, dictionaries, gazetteer words); this module is the crawl itself and only
sees the configuration it is given.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.config import scrapy_values
from crawler.health import cursor_key
from crawler.registry import UnknownSpiderKind, spider_for
from crawler.spiders.base import SourceSettingsError, SourceSpider
from crawler.storage import close_all, shared_store
from models import Source
from models.settings import ConfigError

if TYPE_CHECKING:
    from tingfeng.config import Config


def scrapy_settings(
    config: Config, *, progress: bool = False, overrides: dict[str, Any] | None = None
) -> Settings:
    """Scrapy settings for ``config``: project defaults, then the ``crawler:`` section."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    values: dict[str, Any] = {
        **scrapy_values(config.crawler),
        "TINGFENG_STORE": config.store.settings(),
        "TINGFENG_GAZETTEER": config.gazetteer,
        # every configured source: a feed reads its articles with a site source's template
        "TINGFENG_SOURCES": [s.model_dump(mode="json") for s in config.sources],
        "TINGFENG_PROGRESS": progress,
    }
    # "project" priority, so a source's own choice (spider priority) can still override
    # (see spider_class); raw `crawler.scrapy` values and --set win over everything.
    settings.setdict(values, priority="project")
    settings.setdict(dict(config.crawler.scrapy), priority="cmdline")
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


if __name__ == "__main__":  # python -m crawler.run: the entry point boots the application
    from tingfeng.crawl_process import main

    sys.exit(main())
