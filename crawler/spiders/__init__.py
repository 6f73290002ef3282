"""One spider per source kind; see :mod:`crawler.registry`."""
