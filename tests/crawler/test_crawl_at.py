"""``tingfeng crawl --at T``: a crawl "as of" T through the real Scrapy engine, against
枫渡市's recorded pages served on 127.0.0.1 without an HTTP ``Date`` header (a GBK forum
with relative dates, an RSS feed): only posts written by T are stored, relative dates count
from T, and a later crawl picks up what was left out (even from an unchanged thread)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from store.base import PostFilter
from store.sqlite import SQLiteStore
from tests.crawler.conftest import REPO, write_config

AT = "2026-03-14T21:00:00+08:00"
LATER = "2026-03-14T22:30:00+08:00"


def _floor(pid: int, author: str, when: str, text: str) -> str:
    return (
        f'<div id="post_{pid}"><table><tr><td class="pls"><a class="xw1" href="space-uid-{pid}'
        f'.html">{author}</a></td><td class="plc"><div class="pi"><em id="authorposton{pid}">'
        f'发表于 {when}</em></div><td class="t_f">{text}</td></td></tr></table></div>'
    )


LIST = (
    '<html><head><meta charset="gbk"><title>枫渡论坛 - 民生杂谈</title></head><body><table>'
    '<tbody id="normalthread_101"><tr><th><a class="xst" href="thread-101-1-1.html">'
    '枫渡大桥晚上封闭施工？</a></th><td class="num"><a>4</a><em>880</em></td></tr></tbody>'
    '<tbody id="normalthread_102"><tr><th><a class="xst" href="thread-102-1-1.html">'
    '渡口菜市场今天停业一天</a></th><td class="num"><a>1</a><em>95</em></td></tr></tbody>'
    '<tbody id="normalthread_103"><tr><th><a class="xst" href="thread-103-1-1.html">'
    '刚看到滨渡路起火了</a></th><td class="num"><a>0</a><em>12</em></td></tr></tbody>'
    "</table></body></html>"
)
THREADS = {
    "/bbs/thread-101-1-1.html": (
        "枫渡大桥晚上封闭施工？",
        [
            _floor(1001, "桥头老李", "3 小时前", "听说枫渡大桥今晚十点起封闭施工，有人知道吗"),
            _floor(1002, "渡口阿芳", "昨天 22:10", "昨天就看到围挡了，应该是真的"),
            _floor(1003, "枫渡交警", "今天 20:15", "大桥今晚22:00至次日6:00半幅封闭，请绕行"),
            # Written after the crawl's clock: not visible at 21:00.
            _floor(1004, "夜跑的小周", "2026-03-14 21:40", "现在已经开始封了，车排到江边"),
        ],
    ),
    "/bbs/thread-102-1-1.html": (
        "渡口菜市场今天停业一天",
        [
            _floor(2001, "买菜的王姨", "半小时前", "渡口菜市场今天停业一天，说是消防检查"),
            _floor(2002, "摊主老陈", "刚刚", "明天早上六点照常开门，大家放心"),
        ],
    ),
    "/bbs/thread-103-1-1.html": (
        "刚看到滨渡路起火了",
        [_floor(3001, "路过的", "2026-03-14 21:05", "滨渡路一家饭店冒黑烟，消防车到了")],
    ),
}
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>枫渡发布</title><link>http://fengdu.example/</link>
<item><title>枫渡大桥夜间半幅封闭施工的通告</title><link>__BASE__/gov/a/501.html</link>
<guid>fd-gov-501</guid><pubDate>Sat, 14 Mar 2026 18:30:00 +0800</pubDate>
<description>因桥面维修，枫渡大桥3月14日22时至15日6时半幅封闭，请市民绕行滨渡路。</description></item>
<item><title>关于滨渡路火情的情况通报</title><link>__BASE__/gov/a/502.html</link>
<guid>fd-gov-502</guid><pubDate>Sat, 14 Mar 2026 21:50:00 +0800</pubDate>
<description>3月14日21时许，滨渡路一餐馆厨房起火，无人员伤亡，火已扑灭。</description></item>
</channel></rss>"""


class _Recorded(BaseHTTPRequestHandler):
    """Recorded pages, answered without a ``Date`` header (as many saved crawls are)."""

    protocol_version = "HTTP/1.1"

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)  # no Server, no Date

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/bbs/forum-7-1.html":
            body, kind = LIST.encode("gbk"), "text/html; charset=gbk"
        elif self.path in THREADS:
            title, floors = THREADS[self.path]
            html = (
                f'<html><head><meta charset="gbk"></head><body><h1 id="thread_subject">{title}'
                f'</h1><div id="postlist">{"".join(floors)}</div></body></html>'
            )
            body, kind = html.encode("gbk"), "text/html; charset=gbk"
        elif self.path == "/gov/rss.xml":
            body, kind = RSS.replace("__BASE__", base).encode(), "application/rss+xml"
        else:
            body, kind = "页面不存在".encode(), "text/plain; charset=utf-8"
            self.send_response(404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorded)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp: Path, base: str) -> Path:
    # Written from docs/sources.md (the Discuz! example and a plain feed).
    return write_config(tmp, [
        {"name": "fd-bbs", "kind": "site", "title": "枫渡论坛", "settings": {
            "start_urls": [f"{base}/bbs/forum-7-1.html"],
            "id_pattern": r"thread-(\d+)-",
            "list": {"item": "tbody[id^=normalthread]", "link": "a.xst::attr(href)",
                     "fingerprint": "td.num a::text"},
            "thread": {"title": "#thread_subject::text",
                       "floors": "#postlist > div[id^=post_]", "floor_id": "::attr(id)",
                       "content": "td.t_f",
                       "fields": {"author": "a.xw1::text",
                                  "created_at": "em[id^=authorposton]::text"}}}},
        {"name": "fd-gov", "kind": "feed", "title": "枫渡发布",
         "settings": {"urls": [f"{base}/gov/rss.xml"], "full_text": False}},
    ])  # fmt: skip


def tingfeng(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from tingfeng.cli import main; main()", "-c", str(config),
         *args],
        capture_output=True, text=True, timeout=90, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
    )  # fmt: skip


def _stored(config: Path) -> dict[str, datetime]:
    with SQLiteStore(config.parent / "tingfeng.db") as store:
        return {(p.text or "")[:8]: p.created_at for p in store.iter_posts(PostFilter())}


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_crawl_at_t_stores_what_was_written_by_t(base: str, tmp_path: Path) -> None:
    config = _config(tmp_path, base)
    first = tingfeng(config, "crawl", "--at", AT)
    assert first.returncode == 0, first.stderr[-3000:]
    stored = _stored(config)
    # Relative dates count from T (the pages have no Date header), absolute ones stay.
    assert stored == {
        "听说枫渡大桥今晚": _t("2026-03-14T18:00:00+08:00"),  # 3 小时前
        "昨天就看到围挡了": _t("2026-03-13T22:10:00+08:00"),  # 昨天 22:10
        "大桥今晚22:0": _t("2026-03-14T20:15:00+08:00"),  # 今天 20:15
        "渡口菜市场今天停": _t("2026-03-14T20:30:00+08:00"),  # 半小时前
        "明天早上六点照常": _t(AT),  # 刚刚
        "因桥面维修，枫渡": _t("2026-03-14T18:30:00+08:00"),
    }
    # Written after T: left out, whether a reply (21:40), a whole thread (21:05) or a
    # feed entry (21:50); none has a time after T.
    assert all(when <= _t(AT) for when in stored.values())
    with SQLiteStore(config.parent / "tingfeng.db") as store:
        fetched = {p.fetched_at for p in store.iter_posts(PostFilter())}
    assert fetched == {_t(AT)}

    # A later crawl of the same recorded pages takes in what was left out, even from the
    # thread whose reply count did not change (its page was not remembered as collected).
    later = tingfeng(config, "crawl", "--at", LATER)
    assert later.returncode == 0, later.stderr[-3000:]
    now = _stored(config)
    assert set(now) - set(stored) == {"现在已经开始封了", "滨渡路一家饭店冒", "3月14日21时"}
    assert now["现在已经开始封了"] == _t("2026-03-14T21:40:00+08:00")
    assert now["滨渡路一家饭店冒"] == _t("2026-03-14T21:05:00+08:00")
    assert now["3月14日21时"] == _t("2026-03-14T21:50:00+08:00")
    for text in ("昨天就看到围挡了", "大桥今晚22:0", "因桥面维修，枫渡"):  # not "N 小时前"
        assert now[text] == stored[text]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "yesterday"), "--at"),
        (("--at", "2026-13-01T10:00:00"), "不是 ISO 8601 时间"),
        (("--at", AT, "--set", f"TINGFENG_NOW={AT}"), "只能给一个"),
    ],
)
def test_a_bad_time_is_refused_before_crawling(
    base: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    config = _config(tmp_path, base)
    result = tingfeng(config, "crawl", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "tingfeng.db").exists()  # nothing crawled, no store made
