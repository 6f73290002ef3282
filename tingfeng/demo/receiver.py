"""The demo's WeCom group robot (企业微信群机器人) on 127.0.0.1.

A real local HTTP receiver of the robot's shape: ``POST /cgi-bin/webhook/send?key=KEY``
with a JSON body. It checks what the platform checks (the key, the JSON, ``msgtype``
``text`` or ``markdown``, content size in UTF-8 bytes: 2,048 for text, 4,096 for markdown,
20 messages a minute per robot) and answers as the platform does: HTTP 200 with
``{"errcode": 0, "errmsg": "ok"}``, or an error code (93000 invalid key, 40008 invalid
message type, 40058 / 45002 too long, 45009 too fast, 44004 empty). What it accepted is
kept in memory, appended to a JSON-lines log, shown at ``GET /`` as a page, and handed to
``on_message`` (the demo prints it).
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tingfeng.demo.serving import ThreadedServing

LIMITS = {"text": 2048, "markdown": 4096}
PER_MINUTE = 20


@dataclass
class Received:
    at: datetime
    msgtype: str
    content: str

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "msgtype": self.msgtype, "content": self.content}


@dataclass
class RobotReceiver(ThreadedServing):
    """Serve the robot on ``host:port`` (0: a free port); ``key`` is the robot's key."""

    thread_name = "demo-robot"

    key: str
    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    on_message: Callable[[Received], None] | None = None
    clock: Callable[[], float] = time.monotonic
    messages: list[Received] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._bind(self.host, self.port, _handler(self))

    # -- what the platform checks ------------------------------------------------------
    def check(self, query: str, body: bytes) -> tuple[int, str, Received | None]:
        keys = parse_qs(query).get("key", [])
        if keys != [self.key]:
            return 93000, "invalid webhook url", None
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 40001, "invalid json", None
        if not isinstance(data, dict):
            return 40001, "invalid json", None
        msgtype = data.get("msgtype")
        if msgtype not in LIMITS:
            return 40008, f"invalid message type {msgtype!r}", None
        part = data.get(msgtype)
        content = part.get("content") if isinstance(part, dict) else None
        if not isinstance(content, str) or not content.strip():
            return 44004, "empty content", None
        if len(content.encode("utf-8")) > LIMITS[msgtype]:
            code = 40058 if msgtype == "text" else 45002
            return code, f"content exceed max length {LIMITS[msgtype]}", None
        with self._lock:
            now = self.clock()
            while self._recent and now - self._recent[0] >= 60:
                self._recent.popleft()
            if len(self._recent) >= PER_MINUTE:
                return 45009, "api freq out of limit", None
            self._recent.append(now)
        return 0, "ok", Received(datetime.now(UTC), msgtype, content)

    def accept(self, message: Received) -> None:
        with self._lock:
            self.messages.append(message)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(message.as_dict(), ensure_ascii=False) + "\n")
        if self.on_message is not None:
            self.on_message(message)

    def page(self) -> bytes:
        with self._lock:
            items = list(reversed(self.messages))
        rows = "".join(
            f"<li><time>{m.at.astimezone():%H:%M:%S}</time> <b>{m.msgtype}</b>"
            f"<pre>{html.escape(m.content)}</pre></li>"
            for m in items
        )
        body = (
            "<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='5'>"
            "<title>演示群机器人</title><h1>企业微信群机器人（演示接收端）</h1>"
            f"<p>已收到 {len(items)} 条消息（每 5 秒刷新）</p><ol>{rows or '<li>暂无</li>'}</ol>"
        )
        return body.encode("utf-8")


def _handler(robot: RobotReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if urlsplit(self.path).path in ("/", "/messages"):
                self._send(200, robot.page(), "text/html; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if parts.path != "/cgi-bin/webhook/send":
                self._send(404, b"not found", "text/plain")
                return
            code, msg, received = robot.check(parts.query, body)
            if received is not None:
                robot.accept(received)
            else:
                with robot._lock:
                    robot.rejected.append({"errcode": code, "errmsg": msg})
            answer = json.dumps({"errcode": code, "errmsg": msg}).encode()
            self._send(200, answer, "application/json; charset=utf-8")

    return Handler
