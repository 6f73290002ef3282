"""What every channel shares: options, splitting under a byte limit, the send contract.

A channel renders an :class:`~alerting.render.AlertText` into one or more *parts* (a long
message is split at line boundaries into numbered parts under the platform's byte limit,
never truncated) and sends one part per request. A part counts as delivered only when the
platform's body says so (:class:`SendResult`). Channels never sleep and never retry: the
outbox sender does both, on its injected clock.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting.render import AlertText
from models.common import now_utc
from models.registry import Registry
from text.zh import describe as zh_describe

CHANNELS: Registry[type[Channel]] = Registry(
    "channels",
    builtin=(
        "alerting.channels.webhook",
        "alerting.channels.wecom",
        "alerting.channels.dingtalk",
        "alerting.channels.feishu",
        "alerting.channels.email",
    ),
)

Clock = Callable[[], datetime]


class ChannelError(Exception):
    """A channel option that does not validate (start-up) or an unknown channel type."""


@dataclass
class SendResult:
    ok: bool
    #: What the platform answered (status and body), for the attempt log and the CLI.
    detail: str
    #: The platform said "too fast": retry later without counting toward dead-letter.
    throttled: bool = False


class ChannelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    #: Override the platform's rate limit: messages per minute (0 = no limit).
    rate_per_minute: int | None = Field(default=None, ge=0)


class Channel:
    """Base class. Subclasses set ``Options``, ``max_bytes`` and ``rate_limits`` and
    implement :meth:`parts` and :meth:`send_part`."""

    Options: ClassVar[type[ChannelOptions]] = ChannelOptions
    #: Byte limit of one part as :meth:`measure` counts it (``None``: no limit).
    max_bytes: ClassVar[int | None] = None
    #: Platform rate limits: (messages, seconds) windows.
    rate_limits: ClassVar[tuple[tuple[int, float], ...]] = ()

    def __init__(
        self,
        name: str,
        options: ChannelOptions,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.clock = clock or now_utc
        self._client = client

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            # Small requests: without TCP_NODELAY the body waits for the header's ACK.
            nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
            self._client = httpx.Client(
                timeout=self.options.timeout_seconds,
                transport=httpx.HTTPTransport(socket_options=nodelay),
            )
        return self._client

    def limits(self) -> tuple[tuple[int, float], ...]:
        rate = self.options.rate_per_minute
        if rate is None:
            return self.rate_limits
        return ((rate, 60.0),) if rate else ()

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.options.type,
            "max_bytes": self.max_bytes,
            "rate_limits": [list(w) for w in self.limits()],
        }

    # -- rendering ---------------------------------------------------------------------
    def lines(self, text: AlertText) -> list[str]:
        return text.plain_lines()

    def measure(self, chunk: str) -> int:
        return len(chunk.encode("utf-8"))

    def parts(self, text: AlertText) -> list[str]:
        """The bodies to send, each under :attr:`max_bytes`."""
        return split_lines(self.lines(text), self.max_bytes, self.measure)

    # -- sending -----------------------------------------------------------------------
    def send_part(
        self, body: str, *, text: AlertText, key: str, part: int, total: int
    ) -> SendResult:
        raise NotImplementedError

    def post_json(self, url: str, payload: Any, **kw: Any) -> httpx.Response:
        return self.client.post(url, json=payload, timeout=self.options.timeout_seconds, **kw)

    @staticmethod
    def errcode_result(
        resp: httpx.Response, field: str = "errcode", throttle: frozenset[int] = frozenset()
    ) -> SendResult:
        """Success is HTTP 200 and ``{field: 0}`` in the body, never the status alone."""
        detail = f"HTTP {resp.status_code} {resp.text[:300]}"
        if resp.status_code != 200:
            return SendResult(False, detail, throttled=resp.status_code == 429)
        try:
            body = resp.json()
        except ValueError:
            return SendResult(False, f"{detail} (not JSON)")
        if not isinstance(body, dict):
            return SendResult(False, f"{detail} (not a JSON object)")
        code = body.get(field, body.get("StatusCode"))
        if code == 0:
            return SendResult(True, detail)
        return SendResult(False, detail, throttled=code in throttle)


def split_lines(lines: list[str], limit: int | None, measure: Callable[[str], int]) -> list[str]:
    """Join ``lines`` into as few parts as fit ``limit``; more than one part are numbered
    "（1/3）"; a single over-long line is cut between characters, never dropped."""
    whole = "\n".join(lines)
    if limit is None or measure(whole) <= limit:
        return [whole]
    budget = limit - measure("（99/99）\n")
    if budget <= 0:
        raise ChannelError(f"byte limit {limit} is too small to split into parts")
    pieces: list[str] = []
    for line in lines:
        while measure(line) > budget:
            cut = _fit(line, budget, measure)
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line)
    chunks: list[list[str]] = [[]]
    for piece in pieces:
        trial = "\n".join([*chunks[-1], piece])
        if chunks[-1] and measure(trial) > budget:
            chunks.append([piece])
        else:
            chunks[-1].append(piece)
    total = len(chunks)
    return [f"（{i}/{total}）\n" + "\n".join(chunk) for i, chunk in enumerate(chunks, 1)]


def _fit(line: str, budget: int, measure: Callable[[str], int]) -> int:
    lo, hi = 1, len(line)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(line[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def idempotency_key(channel: str, alert_id: str, revision: int) -> str:
    raw = f"{channel}\x00{alert_id}\x00{revision}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def build_channel(
    name: str,
    raw: dict[str, Any],
    *,
    client: httpx.Client | None = None,
    clock: Clock | None = None,
) -> Channel:
    """The configured channel ``name``; bad options raise :class:`ChannelError`."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not kind:
        raise ChannelError(
            f"alerting.channels.{name}.type: required (known: {', '.join(CHANNELS.names())})"
        )
    try:
        cls = CHANNELS.get(str(kind))
    except KeyError as exc:
        raise ChannelError(f"alerting.channels.{name}.type: {exc}") from None
    try:
        options = cls.Options.model_validate(raw)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            msgs.append(f"alerting.channels.{name}.{key}: {zh_describe(err)}")
        raise ChannelError("\n".join(msgs)) from None
    return cls(name, options, client=client, clock=clock)
