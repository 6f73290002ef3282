"""The outbox sender: claims stored messages with a lease and delivers them in order.

* **Claim.** A message is claimed by saving it with ``status = sending`` and a lease; the
  store's optimistic version check makes a claim exclusive. A sender killed with ``-9``
  leaves a lease that runs out, and the next sender takes the message over.
* **Order.** Per channel, messages go out in the order they were stored; a message that
  waits for a retry holds back the later ones of its channel (head of line), so a receiver
  that was down for an hour gets everything, in order, when it returns.
* **Retry.** Capped exponential backoff with jitter; every attempt is logged on the message.
* **Rate.** Each channel's platform limits (or ``rate_per_minute``) on the injected clock.
* **Dead letter.** A message still failing ``dead_after_hours`` after it was stored is set
  ``dead`` and the administrator route is told (an alert of kind ``system``).

At-least-once: a sender killed after the platform accepted a message but before it saved
the delivery sends it again; receivers that can, de-duplicate on ``Idempotency-Key``.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerting.channels.base import Channel, SendResult
from alerting.config import OutboxConfig
from alerting.render import AlertText
from models import OutboxMessage, OutboxStatus
from models.alerting import Attempt
from store.base import ConflictError, Store

OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass
class SendReport:
    sent: int = 0
    parts: int = 0
    failed: int = 0
    dead: int = 0
    throttled: int = 0
    waiting: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RateLimiter:
    """Sliding windows of send times per channel, on the caller's clock. Kept in the store
    (``outbox:rate``) between runs, so a new process never bursts past a platform's limit
    (DingTalk blocks a robot for 10 minutes above 20 a minute)."""

    KEEP = 3600.0  # seconds of history kept; longer than any platform window

    def __init__(self, sent: dict[str, list[float]] | None = None) -> None:
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        for channel, times in (sent or {}).items():
            self._sent[channel].extend(sorted(float(t) for t in times))

    def allowance(self, channel: str, windows: tuple[tuple[int, float], ...], now: float) -> int:
        if not windows:
            return 1 << 30
        times = self._sent[channel]
        while times and times[0] <= now - self.KEEP:
            times.popleft()
        left = []
        for limit, seconds in windows:
            used = sum(1 for t in times if now - seconds < t <= now)
            left.append(limit - used)
        return max(0, min(left))

    def record(self, channel: str, now: float, windows: tuple[tuple[int, float], ...]) -> None:
        if windows:
            self._sent[channel].append(now)

    def to_state(self) -> dict[str, list[float]]:
        return {c: list(t) for c, t in self._sent.items() if t}


RATE_KEY = "outbox:rate"


def pending_messages(store: Store) -> list[OutboxMessage]:
    out: list[OutboxMessage] = []
    for status in OPEN_STATUSES:
        offset = 0
        while True:
            batch = store.list_records(OutboxMessage, limit=1000, offset=offset, status=status)
            out.extend(batch)
            if len(batch) < 1000:
                break
            offset += 1000
    out.sort(key=lambda m: (m.enqueued_at, m.revision, m.seq, m.id))
    return out


class Sender:
    """Delivers outbox messages through configured channels."""

    def __init__(
        self,
        store: Store,
        channels: dict[str, Channel],
        config: OutboxConfig | None = None,
        *,
        owner: str | None = None,
        rng: random.Random | None = None,
        on_dead: Callable[[OutboxMessage, datetime], None] | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.config = config or OutboxConfig()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.rng = rng or random.Random()
        self.on_dead = on_dead
        self.limiter = RateLimiter()
        self._rate_loaded = False

    def backoff(self, attempts: int) -> timedelta:
        base = self.config.backoff_seconds * (2 ** max(attempts - 1, 0))
        capped = min(self.config.backoff_max_seconds, base)
        return timedelta(seconds=capped * self.rng.uniform(0.5, 1.0))

    def run_once(self, now: datetime) -> SendReport:
        """One sweep: every channel sends what is due, in order, within its limits."""
        t0 = time.perf_counter()
        report = SendReport()
        queues: dict[str, list[OutboxMessage]] = defaultdict(list)
        for msg in pending_messages(self.store):
            queues[msg.channel].append(msg)
        if queues and not self._rate_loaded:
            self.limiter = RateLimiter(self.store.get_state(RATE_KEY) or {})
            self._rate_loaded = True
        for name, queue in queues.items():
            try:
                self.drain(name, queue, now, report)
            except Exception as exc:  # one broken channel never stops the others
                report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
        if queues:
            self.store.set_state(RATE_KEY, self.limiter.to_state())
        report.seconds = round(time.perf_counter() - t0, 3)
        return report

    def drain(
        self, name: str, queue: list[OutboxMessage], now: datetime, report: SendReport
    ) -> None:
        """Send ``queue`` (one channel, in order) in claimed batches until something waits."""
        channel = self.channels.get(name)
        ts = now.timestamp()
        budget = self.limiter.allowance(name, channel.limits(), ts) if channel else 0
        pos = 0
        while pos < len(queue):
            batch: list[tuple[OutboxMessage, AlertText, list[str]]] = []
            stop = False
            while pos < len(queue) and len(batch) < self.config.batch:
                msg = queue[pos]
                leased = msg.status == OutboxStatus.SENDING and msg.lease_until
                if (leased and msg.lease_until > now) or (  # type: ignore[operator]
                    msg.next_attempt_at and msg.next_attempt_at > now
                ):
                    report.waiting += 1  # held by another sender, or waiting for a retry
                    stop = True
                    break
                if channel is None:
                    self.fail(msg, now, f"channel {name!r} is not configured", report, hard=True)
                    pos += 1
                    continue
                text = AlertText.model_validate(msg.content)
                parts = channel.parts(text)
                need = len(parts) - msg.parts_sent
                if need > budget:
                    report.throttled += 1
                    stop = True
                    break
                budget -= need
                batch.append((msg, text, parts))
                pos += 1
            if batch and channel is not None:
                claimed = self.claim([m for m, _, _ in batch], now)
                if claimed is None:
                    return
                for i, (msg, (_, text, parts)) in enumerate(zip(claimed, batch, strict=True)):
                    if not self.deliver(channel, msg, text, parts, now, report):
                        self.release(claimed[i + 1 :])
                        return
            if stop or not batch:
                return

    def claim(self, messages: list[OutboxMessage], now: datetime) -> list[OutboxMessage] | None:
        lease = now + timedelta(seconds=self.config.lease_seconds)
        for m in messages:
            m.status, m.lease_owner, m.lease_until = OutboxStatus.SENDING, self.owner, lease
        try:
            return self.store.save_records(messages)  # type: ignore[return-value]
        except ConflictError:
            return None  # another sender claimed first

    def release(self, messages: list[OutboxMessage]) -> None:
        for m in messages:
            m.status, m.lease_owner, m.lease_until = OutboxStatus.PENDING, None, None
        if messages:
            with contextlib.suppress(ConflictError):  # else the lease runs out by itself
                self.store.save_records(messages)

    def deliver(
        self,
        channel: Channel,
        msg: OutboxMessage,
        text: AlertText,
        parts: list[str],
        now: datetime,
        report: SendReport,
    ) -> bool:
        total = len(parts)
        while msg.parts_sent < total:
            part = msg.parts_sent + 1
            try:
                result = channel.send_part(
                    parts[part - 1], text=text, key=msg.id, part=part, total=total
                )
            except Exception as exc:  # timeouts, refused connections, a channel bug
                result = SendResult(False, f"{type(exc).__name__}: {exc}")
            self.limiter.record(channel.name, now.timestamp(), channel.limits())
            msg.log.append(Attempt(at=now, ok=result.ok, part=part, detail=result.detail[:500]))
            msg.log = msg.log[-50:]
            if not result.ok:
                if result.throttled:
                    report.throttled += 1
                self.fail(msg, now, result.detail, report)
                return False
            msg.parts_sent += 1
            report.parts += 1
        msg.status = OutboxStatus.DELIVERED
        msg.delivered_at = now
        msg.lease_owner = msg.lease_until = None
        msg.attempts += 1
        msg.last_error = None
        self.save(msg)
        report.sent += 1
        return True

    def fail(
        self, msg: OutboxMessage, now: datetime, detail: str, report: SendReport, hard: bool = False
    ) -> None:
        msg.attempts += 1
        msg.last_error = detail[:500]
        msg.lease_owner = msg.lease_until = None
        age = now - msg.enqueued_at
        if hard or age >= timedelta(hours=self.config.dead_after_hours):
            msg.status = OutboxStatus.DEAD
            report.dead += 1
            self.save(msg)
            if self.on_dead is not None:
                self.on_dead(msg, now)
            return
        msg.status = OutboxStatus.PENDING
        msg.next_attempt_at = now + self.backoff(msg.attempts)
        report.failed += 1
        self.save(msg)

    def save(self, msg: OutboxMessage) -> None:
        try:
            saved = self.store.save_record(msg)
            msg.version = saved.version
        except ConflictError:
            pass  # taken over after our lease ran out; the new owner's record wins
