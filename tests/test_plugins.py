"""Extension points by name: a spider from an installed distribution (a real entry point in
a ``*.dist-info`` on ``sys.path``) is validated at config load and crawled like a
built-in; store backends come from the same kind of registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from store import StoreError
from store.config import StoreConfig
from store.factory import BACKENDS, open_store

TINGFENG = Path(sys.executable).parent / "tingfeng"
CST = timezone(timedelta(hours=8))

#: An outside package's spider: a district's plain-text notice board (one notice a line,
#: ``id|time|title|text``), as some small sites publish.
PLUGIN = """
from __future__ import annotations

from crawler.spiders.base import SourceSettings, SourceSpider


class BoardSettings(SourceSettings):
    url: str


class NoticeBoardSpider(SourceSpider):
    options_model = BoardSettings

    async def start(self):
        yield self.request(self.opts.url, self.parse)

    def parse(self, response, **kwargs):
        for line in response.text.splitlines():
            if line.count("|") != 3:
                self.problem("bad_line", line[:40], response.url)
                continue
            native_id, created, title, text = line.split("|")
            yield self.item(response, native_id=native_id, kind="message", title=title,
                            text=text, created_at=created)
"""


def install_plugin(root: Path) -> Path:
    site = root / "site"
    site.mkdir()
    (site / "lanxi_board.py").write_text(PLUGIN, "utf-8")
    dist = site / "lanxi_board-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lanxi-board\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[tingfeng.spiders]\nnoticeboard = lanxi_board:NoticeBoardSpider\n", "utf-8"
    )
    return site


@pytest.fixture
def board() -> Iterator[str]:
    now = datetime.now(CST).replace(microsecond=0)
    page = (
        f"n-1|{(now - timedelta(hours=3)).strftime('%Y-%m-%d %H:%M')}|兰溪街道停电通知|"
        "兰溪街道明日8时至12时计划停电检修\n"
        "这一行格式不对\n"
        f"n-2|{(now - timedelta(hours=1)).strftime('%Y-%m-%d %H:%M')}|社区义诊|本周六上午社区义诊\n"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/notices.txt":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(cfg: Path, *args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cfg.parent), "COLUMNS": "200"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(TINGFENG), "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=120, cwd=cfg.parent, env=env,
    )  # fmt: skip


def test_a_spider_from_an_installed_package_is_validated_and_crawled(
    tmp_path: Path, board: str
) -> None:
    site = install_plugin(tmp_path)
    cfg = tmp_path / "lanxi.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "store": {"path": "t.db"},
                "crawler": {"download_delay": 0, "autothrottle": False, "retry_times": 0},
                "sources": [{"name": "lx-board", "kind": "noticeboard",
                             "settings": {"url": f"{board}/notices.txt"}}],
            },
            allow_unicode=True,
        ),
        "utf-8",
    )  # fmt: skip
    # Without the package the kind is unknown, and the config load says which kinds exist.
    missing = run(cfg, "crawl")
    assert missing.returncode == 2
    assert (
        "sources.0.kind: 没有 'noticeboard' 类型的爬虫（可用的有：feed, jsonapi" in missing.stderr
    )
    # A bad setting of the plugin's own model is caught before any request, naming the key.
    bad = cfg.read_text("utf-8").replace("url:", "ur1:")
    (tmp_path / "bad.yaml").write_text(bad, "utf-8")
    refused = run(tmp_path / "bad.yaml", "crawl", pythonpath=site)
    assert refused.returncode == 2 and "sources.lx-board.settings.ur1" in refused.stderr

    crawled = run(cfg, "crawl", pythonpath=site)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    assert "lx-board" in crawled.stderr
    found = json.loads(run(cfg, "search", "停电", "--json", pythonpath=site).stdout)
    assert found["total"] == 1
    assert found["hits"][0]["post"]["title"] == "兰溪街道停电通知"
    health = run(cfg, "crawl", "--health", pythonpath=site)
    assert "bad_line×1" in health.stderr


def test_store_backends_are_a_registry(tmp_path: Path) -> None:
    assert {"sqlite", "elasticsearch"} <= set(BACKENDS.names())
    store = open_store(StoreConfig(path=tmp_path / "x.db"), readonly=False)
    store.close()
    calls: list[bool] = []

    def open_memory(cfg: StoreConfig, *, readonly: bool = False):
        calls.append(readonly)
        return BACKENDS.get("sqlite")(cfg, readonly=readonly)

    BACKENDS.add("memorytest", open_memory)
    try:
        cfg = StoreConfig(backend="memorytest", path=tmp_path / "y.db")
        open_store(cfg).close()
        open_store(cfg, readonly=True).close()
        assert calls == [False, True]
    finally:
        BACKENDS._items.pop("memorytest")
    with pytest.raises(ValueError, match=r"Input should be .elasticsearch. or .sqlite."):
        StoreConfig(backend="mysql")
    with pytest.raises(StoreError, match=r"store\.backend: 没有名为 'gone' 的存储类型"):
        open_store(StoreConfig.model_construct(backend="gone", path=tmp_path / "z.db"))
    assert os.path.exists(tmp_path / "x.db")
