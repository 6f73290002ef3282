"""A real HTTP server on 127.0.0.1 serving the recorded pages under tests/files/crawler/.

Run as ``python tests/crawler/fixture_server.py [--port N]``: it prints the port on the
first line of stdout, then serves until killed (Scrapy's own tests start their mock
server the same way). ``routes.json`` adds behaviour to some paths: failures that heal
(``fail_first``), slow answers (``delay``), status codes, redirects and wrong headers.

``/__hits`` answers the number of requests per path (tests check a robots-disallowed page
was never fetched). ``/bench/...`` serves a synthetic news site of any size for the
benchmark: ``/bench/list_N.html`` links to 20 articles and to page N+1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

FILES = Path(__file__).resolve().parent.parent / "files" / "crawler"
WWW = FILES / "www"
ROUTES = json.loads((FILES / "routes.json").read_text("utf-8"))
#: Set by ``main`` from ``--root``: another city's recorded pages (``www/`` + ``routes.json``).
_PORT = 0

_hits: Counter[str] = Counter()
_lock = threading.Lock()

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

_DISTRICTS = ["东城区", "西江区", "南山县"]
_PLACES = ["人民广场", "滨江路", "白石镇", "青龙镇", "西江大桥", "南山古镇", "江北街道", "龙潭水库"]
_TOPICS = ["道路施工", "积水", "夜市", "停车难", "公交线路调整", "学校招生", "医院挂号", "垃圾清运"]


def canonical(target: str) -> tuple[str, str]:
    parts = urlsplit(target)
    path = unquote(parts.path)
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return path, f"{path}?{query}" if query else path


def bench_page(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1].removesuffix(".html")
    if name.startswith("list_"):
        n = int(name[5:])
        links = "\n".join(
            f'<li><a href="/bench/a/{n * 20 + i}.html">新闻{n * 20 + i}</a></li>' for i in range(20)
        )
        return (
            f'<html><head><meta charset="utf-8"><title>列表{n}</title></head><body>'
            '<ul class="news-list">'
            f'{links}</ul><a class="next" href="/bench/list_{n + 1}.html">下一页</a></body></html>'
        )
    if name.isdigit():
        i = int(name)
        d, p, t = _DISTRICTS[i % 3], _PLACES[i % 8], _TOPICS[(i // 8) % 8]
        body = "".join(
            f"<p>第{i}号稿件：{d}{p}附近居民反映{t}问题，第{k}段说明了具体情况，"
            f"相关部门表示将在{(i + k) % 30 + 1}个工作日内答复，市民可拨打12345热线咨询。</p>"
            for k in range(6)
        )
        return (
            f'<html><head><meta charset="utf-8"><title>{d}{t}{i}</title></head><body>'
            f'<div class="article"><h1 class="title">{d}{p}{t}情况通报（{i}）</h1>'
            f'<div class="info"><span class="time">2026-05-{i % 28 + 1:02d} '
            f"10:{i % 60:02d}</span></div>"
            f'<div class="content" id="content">{body}'
            "<p>首付15万买地铁三室！售楼热线：0838-6123456</p>"
            '<div class="related"><h3>相关阅读</h3><ul><li><a href="#">其他新闻</a></li></ul></div>'
            '</div></div><div class="footer">版权所有 © 青川新闻网 蜀ICP备12345678号</div>'
            "</body></html>"
        )
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QingchuanFixtures/1.0"
    #: A recorded ``Date`` header (route ``date``, or routes.json ``date``) replacing the clock.
    _date: str | None = None

    def date_time_string(self, timestamp: float | None = None) -> str:
        return self._date or super().date_time_string(timestamp)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.do_GET()

    def do_GET(self) -> None:
        path, key = canonical(self.path)
        with _lock:
            _hits[key] += 1
            hits = _hits[key]
        if path == "/__hits":
            self._send(200, json.dumps(dict(_hits), ensure_ascii=False).encode(), _TYPES[".json"])
            return
        if path.startswith("/bench/"):
            page = bench_page(path)
            if page is None:
                self._send(404, b"not found", "text/plain")
            else:
                self._send(200, page.encode("utf-8"), _TYPES[".html"])
            return
        route = ROUTES["exact"].get(key) or ROUTES["exact"].get(path)
        if route is None:
            route = next((r for p, r in ROUTES["prefix"].items() if path.startswith(p)), {})
        self._date = route.get("date", ROUTES.get("date"))
        if route.get("delay"):
            time.sleep(float(route["delay"]))
        if hits <= int(route.get("fail_first", 0)):
            self._send(500, "服务器内部错误".encode(), "text/plain; charset=utf-8")
            return
        if route.get("redirect"):
            self._send(302, b"", "text/html", {"Location": route["redirect"]})
            return
        file = WWW / (route.get("file") or path.lstrip("/"))
        try:
            file = file.resolve()
            file.relative_to(WWW)
            body = file.read_bytes()
        except (OSError, ValueError):
            self._send(404, "页面不存在".encode(), "text/plain; charset=utf-8")
            return
        # Recorded pages hold absolute links to their own server as __HOST__.
        body = body.replace(b"__HOST__", f"127.0.0.1:{_PORT}".encode())
        content_type = route.get("content_type") or _TYPES.get(
            file.suffix, "application/octet-stream"
        )
        if "content_type" not in route and file.suffix == ".html" and path.startswith("/bbs/"):
            content_type = ROUTES.get("bbs_content_type", "text/html; charset=gbk")
        self._send(int(route.get("status", 200)), body, content_type)


def serve(port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", type=Path, help="a directory with www/ and routes.json")
    args = parser.parse_args()
    global WWW, ROUTES, _PORT
    if args.root:
        WWW = args.root.resolve() / "www"
        ROUTES = json.loads((args.root / "routes.json").read_text("utf-8"))
    server = serve(args.port)
    _PORT = server.server_address[1]
    print(server.server_address[1], flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
