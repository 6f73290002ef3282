"""Scrapy settings of the Tingfeng crawler.

Defaults of every ``crawler:`` option come from :class:`crawler.config.CrawlerConfig` (the
one place they are written); :mod:`crawler.run` overlays the configured section and the
store and gazetteer sections. What has no option is set here.
Components are switched on by dotted path with an order number, as Scrapy's own
``*_BASE`` settings do.
"""

from __future__ import annotations

from crawler.config import CrawlerConfig, scrapy_values

globals().update(scrapy_values(CrawlerConfig()))

BOT_NAME = "tingfeng"
SPIDER_MODULES: list[str] = []  # spiders come from crawler.registry, by source kind
USER_AGENT = "Mozilla/5.0 (compatible; Tingfeng/0.1; public-opinion monitoring)"

RETRY_ENABLED = True
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy starts this many asyncio workers for every response's output; our callbacks
# yield a handful of items each, and 100 idle workers per page cost more than parsing.
CONCURRENT_ITEMS = 8
COOKIES_ENABLED = False  # Weibo's cookie is sent as a header from config
TELNETCONSOLE_ENABLED = False
# Pages are Chinese text; never let a multi-megabyte attachment through.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.RetryBackoffMiddleware": 540,
    "crawler.middlewares.BlockPageMiddleware": 580,
    "crawler.middlewares.CharsetMiddleware": 585,
    "crawler.middlewares.LoginRedirectMiddleware": 650,
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.SpiderErrorMiddleware": 45,
}
ITEM_PIPELINES = {
    "crawler.pipelines.validate.ValidatePipeline": 300,
    "crawler.pipelines.normalise.NormalisePipeline": 400,
    "crawler.pipelines.boilerplate.BoilerplatePipeline": 500,
    "crawler.pipelines.dedup.DedupPipeline": 600,
    "crawler.pipelines.region.RegionPipeline": 700,
    "crawler.pipelines.store.StorePipeline": 800,
}
EXTENSIONS = {
    "crawler.extensions.SourceHealthExtension": 500,
}

TINGFENG_PROGRESS = False
TINGFENG_PROGRESS_INTERVAL = 2.0
