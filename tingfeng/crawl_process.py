"""The crawl process: ``python -m tingfeng.crawl_process CONFIG [SOURCE...]`` (also reached
as ``python -m crawler.run``).

It boots the application like every other entry point (configuration, the office's
dictionaries and the gazetteer's names in the tokeniser), so crawled posts are indexed,
deduplicated and region-tagged with the same words a later search uses.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from store import StoreError
from tingfeng.bootstrap import bootstrap
from tingfeng.config import ConfigError


def _parse_set(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep:
            raise ConfigError(f"--set {value!r}: 应写作 名称=值")
        out[name.strip()] = yaml.safe_load(raw)
    return out


def main(argv: list[str] | None = None) -> int:
    from crawler import run

    parser = argparse.ArgumentParser(
        prog="python -m crawler.run", description=(run.__doc__ or "").split("\n", 1)[0]
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
        app = bootstrap(None if args.config == "-" else args.config, logging_level=None)
        run.crawl(app.config, args.sources, progress=args.progress, overrides=_parse_set(args.set))
    except (ConfigError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
