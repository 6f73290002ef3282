"""The story server: 江屿市's sites on 127.0.0.1, as of a story clock.

Like the crawler's fixture server (tests/crawler/fixture_server.py) it is the standard
library's threading HTTP server; it runs in a thread of the calling process, so a test or
the demo command can move a :class:`~tingfeng.demo.clock.ManualClock` between crawls.
Every answer carries the story clock as its HTTP ``Date``, which is what relative dates
on the pages count from.

``python -m tingfeng.demo.server --speed 36`` serves the story on an accelerated clock
and prints the sites' addresses (``--config PATH`` also writes the crawl config).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tingfeng.demo.clock import AcceleratedClock, StoryClock
from tingfeng.demo.serving import ThreadedServing
from tingfeng.demo.sites import CitySites, http_date
from tingfeng.demo.story import Story, StoryError, load_story


class StoryServer(ThreadedServing):
    """Serve ``story`` as of ``clock.now()`` on ``host:port`` (0: any free port).

    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    thread_name = "story-server"

    def __init__(
        self, story: Story, clock: StoryClock, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.story = story
        self.clock = clock
        self.sites = CitySites(story)
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._bind(host, port, _handler(self))

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def urls(self) -> dict[str, str]:
        """The sites' entry points, for people (the demo command prints them)."""
        from tingfeng.demo.sites import FORUM_ID, _search_path

        b = self.base_url
        return {
            "首页": f"{b}/",
            "江屿论坛": f"{b}/bbs/forum-{FORUM_ID}-1.html",
            "江屿新闻网": f"{b}/news/list_1.html",
            "新闻网 RSS": f"{b}/news/rss.xml",
            "微博搜索": b + _search_path("江屿"),
            "市民留言板": f"{b}/board/api/messages?page=1&size=10",
        }

    def count(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1


def _handler(server: StoryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "JiangyuDemo/1.0"
        _now: datetime | None = None

        def date_time_string(self, timestamp: float | None = None) -> str:
            # the story clock, not the machine's: relative dates count from it
            return http_date(self._now) if self._now else super().date_time_string(timestamp)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            server.count(path)
            self._now = server.clock.now()
            base = f"http://{self.headers.get('Host') or server.base_url.split('//', 1)[1]}"
            try:
                answer = server.sites.answer(path, parts.query, self._now, base)
            except Exception as exc:  # a page bug must not kill the demo
                self.log_error("story server: %s on %s", exc, self.path)
                body = "服务器内部错误".encode()
                status, content_type = 500, "text/plain; charset=utf-8"
            else:
                body, status, content_type = answer.body, answer.status, answer.content_type
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tingfeng.demo.server", description="江屿市演示城市：按故事时钟提供站点"
    )
    parser.add_argument("--speed", type=float, default=36.0, help="故事时间倍速（默认 36）")
    parser.add_argument("--start", default="19:00", help="故事开始时间 HH:MM（默认 19:00）")
    parser.add_argument("--port", type=int, default=0, help="端口（默认任选空闲端口）")
    parser.add_argument("--config", type=Path, help="同时写出爬虫配置 tingfeng.yaml 到此路径")
    parser.add_argument("--data", type=Path, default=Path("data/demo"), help="配置中的数据目录")
    args = parser.parse_args(argv)
    try:
        story = load_story()
        start = story.at(args.start)
        clock = AcceleratedClock(start, args.speed, end=story.at("23:59"))
    except (StoryError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        server = StoryServer(story, clock, port=args.port)
    except OSError as exc:
        print(f"错误：无法监听端口 {args.port}（{exc.strerror}）", file=sys.stderr)
        return 2
    with server:
        print(f"{story.city}演示城市已启动：故事时间 {start:%H:%M} 起，{args.speed:g} 倍速")
        for name, url in server.urls().items():
            print(f"  {name}：{url}")
        if args.config:
            from tingfeng.demo.config import write_demo_config

            write_demo_config(args.config, server.base_url, args.data)
            print(f"  爬虫配置：{args.config}")
        rumor = min(i.at for i in story.items if i.arc == "rumor")
        bulletin = story.blog("bulletin").at
        print(
            f"  谣言首发 {rumor:%H:%M}（约 {clock.real_seconds_until(rumor):.0f} 秒后），"
            f"情况通报 {bulletin:%H:%M}（约 {clock.real_seconds_until(bulletin):.0f} 秒后）"
        )
        print("按 Ctrl+C 停止。", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
