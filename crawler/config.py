"""The ``crawler:`` section of the configuration, and the Scrapy settings it becomes.

This model is the one place crawler defaults are written: :mod:`crawler.settings` takes
its values from :func:`scrapy_values` of the defaults, and :mod:`crawler.run` from the
configured section.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from models.settings import Section


class CrawlerConfig(Section):
    """The ``crawler:`` section: politeness, retries and cleaning thresholds (crawler/)."""

    user_agent: str | None = None
    obey_robots: bool = True
    concurrent_requests: int = Field(default=16, ge=1)
    per_domain_concurrency: int = Field(default=4, ge=1)
    download_delay: float = Field(default=0.5, ge=0)
    download_timeout: float = Field(default=20, gt=0)
    retry_times: int = Field(default=3, ge=0)
    retry_backoff: float = Field(default=1.0, ge=0)
    retry_backoff_max: float = Field(default=30.0, ge=0)
    autothrottle: bool = True
    autothrottle_start_delay: float = Field(default=1.0, ge=0)
    autothrottle_max_delay: float = Field(default=30.0, ge=0)
    autothrottle_target_concurrency: float = Field(default=2.0, gt=0)
    store_batch_size: int = Field(default=200, ge=1)
    near_duplicate_threshold: float = Field(default=0.7, gt=0, le=1)
    near_duplicate_min_chars: int = Field(default=20, ge=1)
    future_tolerance_minutes: int = Field(default=60, ge=0)
    stale_factor: float = Field(default=4.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Raw Scrapy settings, applied last (for what has no option above).
    scrapy: dict[str, Any] = Field(default_factory=dict)


def scrapy_values(c: CrawlerConfig) -> dict[str, Any]:
    """The Scrapy settings of a ``crawler:`` section (``crawler.scrapy`` not included)."""
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
    }
    if c.user_agent:
        values["USER_AGENT"] = c.user_agent
    return values
