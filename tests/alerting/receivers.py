"""Local HTTP receivers that behave like the platforms (tests/alerting).

Each receiver checks what its platform checks (key or token, signature and its time
window, byte limits, rate limits) and answers with the platform's own error codes in an
HTTP 200 body. Faults are switchable: fail the next N requests, be down until a time,
answer slowly (for timeouts), answer garbage, or hang a request until released. Time comes
from the same injected clock the sender uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


class Receiver:
    """Base: records accepted messages; subclasses implement :meth:`check`."""

    path = "/"

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.accepted: list[dict[str, Any]] = []
        self.requests = 0
        self.rejected: list[tuple[int | str, str]] = []
        self.fail_next = 0
        self.down_until: datetime | None = None
        self.delay = 0.0
        self.garbage = False
        self.hang: threading.Event | None = None
        self.hung = threading.Event()
        self.rate: list[tuple[int, float]] = []
        self._times: deque[float] = deque()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self.server.shutdown()
        self.server.server_close()

    # -- behaviour --------------------------------------------------------------------
    def over_rate(self) -> bool:
        now = self.clock().timestamp()
        longest = max((w for _, w in self.rate), default=0)
        while self._times and self._times[0] <= now - longest:
            self._times.popleft()
        for limit, window in self.rate:
            if sum(1 for t in self._times if t > now - window) >= limit:
                return True
        self._times.append(now)
        return False

    def check(self, parsed: Any, headers: Any, raw: bytes) -> tuple[int, dict[str, Any] | str]:
        raise NotImplementedError

    def fault(self) -> tuple[int, str] | None:
        if self.down_until is not None and self.clock() < self.down_until:
            return 500, "Internal Server Error"
        if self.fail_next > 0:
            self.fail_next -= 1
            return 502, "Bad Gateway"
        if self.garbage:
            return 200, "<html><body>维护中</body></html>"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests += 1
                    hang = receiver.hang
                if hang is not None:
                    receiver.hung.set()
                    hang.wait(30)
                    self.close_connection = True
                    return  # the caller was killed or gave up: nothing is delivered
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    fault = receiver.fault()
                    if fault is None:
                        status, body = receiver.check(urlparse(self.path), self.headers, raw)
                    else:
                        status, body = fault
                data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
                out = data.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


class WebhookReceiver(Receiver):
    """The office's own system: checks the HMAC signature, de-duplicates on the key."""

    def __init__(self, clock: Callable[[], datetime], secret: str = "s3cret") -> None:
        self.secret = secret
        self.keys: dict[str, int] = {}
        super().__init__(clock)

    def check(self, parsed: Any, headers: Any, raw: bytes) -> tuple[int, dict[str, Any] | str]:
        want = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("X-Tingfeng-Signature", ""), want):
            self.rejected.append((401, "bad signature"))
            return 401, {"error": "bad signature"}
        key = headers.get("Idempotency-Key")
        if not key or not headers.get("X-Tingfeng-Timestamp"):
            return 400, {"error": "missing headers"}
        self.keys[key] = self.keys.get(key, 0) + 1
        body = json.loads(raw)
        if self.keys[key] == 1:
            self.accepted.append(body)
        return 200, {"ok": True}


class WeComReceiver(Receiver):
    def __init__(self, clock: Callable[[], datetime], key: str = "wk-1") -> None:
        self.key = key
        super().__init__(clock)
        self.rate = [(20, 60.0)]

    def check(self, parsed: Any, headers: Any, raw: bytes) -> tuple[int, dict[str, Any] | str]:
        if parsed.path != "/cgi-bin/webhook/send" or parse_qs(parsed.query).get("key") != [
            self.key
        ]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        body = json.loads(raw)
        kind = body.get("msgtype")
        content = body.get(kind, {}).get("content", "")
        limit = {"text": 2048, "markdown": 4096}.get(kind)
        if limit is None:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(content.encode()) > limit:
            self.rejected.append((40058, "too long"))
            return 200, {"errcode": 40058, "errmsg": "content exceed max length"}
        if self.over_rate():
            self.rejected.append((45009, "freq"))
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        self.accepted.append(body)
        return 200, {"errcode": 0, "errmsg": "ok"}


class DingTalkReceiver(Receiver):
    def __init__(
        self, clock: Callable[[], datetime], token: str = "dt-1", secret: str = "SECdingtalk"
    ) -> None:
        self.token, self.secret = token, secret
        self.blocked_until = 0.0
        super().__init__(clock)
        self.rate = [(20, 60.0)]

    def check(self, parsed: Any, headers: Any, raw: bytes) -> tuple[int, dict[str, Any] | str]:
        q = parse_qs(parsed.query)
        now = self.clock().timestamp()
        if q.get("access_token") != [self.token]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        try:
            ts = int(q["timestamp"][0])
            sign = q["sign"][0]
        except (KeyError, ValueError):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        msg = f"{ts}\n{self.secret}".encode()
        want = base64.b64encode(hmac.new(self.secret.encode(), msg, hashlib.sha256).digest())
        if abs(now * 1000 - ts) > 3_600_000 or unquote(sign) != want.decode():
            self.rejected.append((310000, "sign"))
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if now < self.blocked_until:
            return 200, {"errcode": 130101, "errmsg": "send too fast, blocked"}
        if len(raw) > 20_000:
            return 200, {"errcode": 460101, "errmsg": "message too long"}
        if self.over_rate():
            self.blocked_until = now + 600  # above the limit the robot is blocked 10 min
            self.rejected.append((130101, "too fast"))
            return 200, {"errcode": 130101, "errmsg": "send too fast"}
        self.accepted.append(json.loads(raw))
        return 200, {"errcode": 0, "errmsg": "ok"}


class FeishuReceiver(Receiver):
    def __init__(
        self, clock: Callable[[], datetime], token: str = "fs-1", secret: str = "feishu-secret"
    ) -> None:
        self.token, self.secret = token, secret
        super().__init__(clock)
        self.rate = [(5, 1.0), (100, 60.0)]

    def check(self, parsed: Any, headers: Any, raw: bytes) -> tuple[int, dict[str, Any] | str]:
        if parsed.path != f"/open-apis/bot/v2/hook/{self.token}":
            return 404, "not found"
        if len(raw) > 20_000:
            self.rejected.append((9499, "too large"))
            return 200, {"code": 9499, "msg": "Bad Request", "data": {}}
        body = json.loads(raw)
        try:
            ts = int(body["timestamp"])
        except (KeyError, ValueError):
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour",
            }
        key = f"{ts}\n{self.secret}".encode()
        want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if abs(self.clock().timestamp() - ts) > 3600 or body.get("sign") != want:
            self.rejected.append((19021, "sign"))
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour",
            }
        if self.over_rate():
            self.rejected.append((11232, "freq"))
            return 200, {"code": 11232, "msg": "frequency limited", "data": {}}
        self.accepted.append(body)
        return 200, {"code": 0, "msg": "success", "data": {}}
