"""Fixtures for the crawler tests: saved pages as responses, spiders without a reactor,
and the fixture HTTP server as a subprocess for end-to-end crawls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
import yaml
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.registry import spider_for
from crawler.spiders.base import SourceSpider

FILES = Path(__file__).resolve().parent.parent / "files" / "crawler"
WWW = FILES / "www"
SERVER = Path(__file__).resolve().parent / "fixture_server.py"
REPO = Path(__file__).resolve().parents[2]
#: A fixed "now" for relative dates in parsing tests (the pages were "fetched" then).
FETCHED = datetime(2026, 5, 28, 10, 0, tzinfo=UTC)

GAZETTEER = {
    "东城区": ["东城", "人民广场", "青龙镇", "青川火车站", "市人民医院"],
    "西江区": ["滨江路", "西江大桥", "江北街道", "沙湾镇", "西江湿地公园"],
    "南山县": ["南山", "白石镇", "南山古镇", "龙潭水库", "桃源乡"],
}


def page(path: str, url: str | None = None, content_type: str | None = None) -> Response:
    """A saved page as Scrapy would receive it from ``url``."""
    body = (WWW / path).read_bytes()
    url = url or f"http://127.0.0.1:8000/{path}"
    if content_type is None:
        if path.endswith(".html"):
            content_type = "text/html; charset=gbk" if path.startswith("bbs/") else "text/html"
        elif path.endswith(".xml"):
            content_type = "application/xml"
        else:
            content_type = "application/json"
    cls: type[TextResponse] = (
        HtmlResponse if "html" in content_type else
        XmlResponse if "xml" in content_type else TextResponse
    )  # fmt: skip
    return cls(url=url, body=body, headers={"Content-Type": content_type}, request=Request(url))


def make_spider(
    kind: str,
    settings: dict[str, Any],
    name: str = "test-src",
    cursor: dict[str, Any] | None = None,
    **source: Any,
) -> SourceSpider:
    crawler = get_crawler(spider_for(kind), {})
    spider = crawler.spidercls.from_crawler(
        crawler, source={"name": name, "kind": kind, "settings": settings, **source}, cursor=cursor
    )
    crawler.spider = spider
    return spider


def news_settings(base: str = "http://127.0.0.1:8000") -> dict[str, Any]:
    return {
        "start_urls": [f"{base}/news/list_1.html"],
        "id_pattern": r"/(\d+)\.html$",
        "list": {"item": "ul.news-list li", "link": "a::attr(href)",
                 "next_page": "a.next::attr(href)"},
        "detail": {"title": "h1.title::text", "content": "#content",
                   "fields": {"created_at": ".info .time::text",
                              "author": ".info .author::text"}},
    }  # fmt: skip


def forum_settings(base: str = "http://127.0.0.1:8000") -> dict[str, Any]:
    return {
        "start_urls": [f"{base}/bbs/forum-2-1.html"],
        "id_pattern": r"thread-(\d+)-",
        "list": {
            "item": "tbody[id^=normalthread]", "link": "a.xst::attr(href)",
            "fingerprint": "td.num a::text",
            "fields": {"comments": "td.num a::text", "views": "td.num em::text"},
            "next_page": "a.nxt::attr(href)",
        },
        "thread": {
            "title": "#thread_subject::text", "floors": "#postlist > div[id^=post_]",
            "floor_id": "::attr(id)", "content": "td.t_f",
            "fields": {"author": "a.xw1::text",
                       "author_id": {"select": "a.xw1::attr(href)", "re": r"uid-(\d+)"},
                       "created_at": "em[id^=authorposton]::text"},
            "next_page": "div.pg a.nxt::attr(href)",
        },
    }  # fmt: skip


def weibo_settings(base: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_base": f"{base}/weibo",
        "users": ["5001001", "5001002"],
        "keywords": ["青川"],
        "heat_threshold": 400,
        **extra,
    }


def board_settings(base: str = "http://127.0.0.1:8000") -> dict[str, Any]:
    return {
        "url": f"{base}/board/api/messages?page={{page}}&size=3",
        "paging": {"mode": "page", "start": 1, "size": 3, "max_pages": 5},
        "items": "data.list",
        "ok": "code == `0`",
        "fields": {"native_id": "msgId", "title": "title", "text": "content",
                   "author": "nickname", "created_at": "createTime", "url": "detailUrl",
                   "fingerprint": "status"},
        "children": [{"items": "reply", "kind": "reply",
                      "fields": {"author": "dept", "created_at": "replyTime",
                                 "text": "content"}}],
    }  # fmt: skip


# -- the fixture server and subprocess crawls ------------------------------------------
@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def hits(base: str) -> dict[str, int]:
    with urlopen(f"{base}/__hits", timeout=5) as answer:
        return json.loads(answer.read())


#: Crawl settings for tests: no politeness delays, 1 s timeouts, quick retries.
FAST = {
    "download_delay": 0, "download_timeout": 1, "retry_times": 1, "retry_backoff": 0.05,
    "autothrottle": False, "per_domain_concurrency": 8, "log_level": "INFO",
}  # fmt: skip


def write_config(tmp: Path, sources: list[dict[str, Any]], **crawler: Any) -> Path:
    cfg = {
        "store": {"path": str(tmp / "tingfeng.db")},
        "crawler": {**FAST, **crawler},
        "gazetteer": GAZETTEER,
        "sources": sources,
    }
    path = tmp / "tingfeng.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    return path


def run_crawl(
    config: Path, *names: str, sets: tuple[str, ...] = (), timeout: float = 60
) -> tuple[list[dict[str, Any]], str]:
    """Crawl in a subprocess; return the ``done`` events by source order and stderr."""
    cmd = [sys.executable, "-m", "crawler.run", str(config), *names, "--progress"]
    for value in sets:
        cmd += ["--set", value]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return [e for e in events if e.get("event") == "done"], proc.stderr
