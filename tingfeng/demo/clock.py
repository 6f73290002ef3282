"""Story clocks: what time it is in the demo city.

The story server asks its clock for ``now()`` on every request. An
:class:`AcceleratedClock` runs story time faster than real time (3 h of story in 5 min at
``speed=36``); a :class:`ManualClock` only moves when told to, for tests. The real-time
source of the accelerated clock is injected too, so it can be tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol


class StoryClock(Protocol):
    def now(self) -> datetime: ...

    def rate(self) -> float:
        """Story seconds per real second, now."""
        ...


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"story time {at.isoformat()} has no time zone")
    return at


class ManualClock:
    """A clock that shows ``start`` until :meth:`set` or :meth:`advance` moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def rate(self) -> float:
        return 0.0  # it stands still between steps

    def set(self, at: datetime) -> None:
        with self._lock:
            self._now = _aware(at)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a story clock does not run backwards")
        with self._lock:
            self._now += step
            return self._now


class AcceleratedClock:
    """Story time = ``start`` + real time elapsed since creation × ``speed``.

    ``real`` is a monotonic seconds counter (default :func:`time.monotonic`). ``end``
    stops the clock there (the story's last scene), so a demo left running stays put; with
    ``then`` it runs on at that speed after ``end`` (``then=1``: real time, so deadline
    countdowns keep ticking while someone looks around after the story).
    """

    def __init__(
        self,
        start: datetime,
        speed: float,
        *,
        end: datetime | None = None,
        then: float = 0.0,
        real: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, not {speed}")
        if then < 0:
            raise ValueError(f"the speed after the end must not be negative, not {then}")
        self.then = then
        self.start = _aware(start)
        self.speed = speed
        self.end = _aware(end) if end is not None else None
        self._real = real
        self._t0 = real()

    def now(self) -> datetime:
        elapsed = self._real() - self._t0
        at = self.start + timedelta(seconds=elapsed * self.speed)
        if self.end is None or at <= self.end:
            return at
        if not self.then:
            return self.end
        if self.start >= self.end:  # started after the end (a resumed demo)
            return self.start + timedelta(seconds=elapsed * self.then)
        after = elapsed - (self.end - self.start).total_seconds() / self.speed
        return self.end + timedelta(seconds=after * self.then)

    def rate(self) -> float:
        """``speed`` until ``end``, then ``then``."""
        if self.end is None or self.now() < self.end:
            return self.speed
        return self.then

    def real_seconds_until(self, at: datetime) -> float:
        """Real seconds from now until the story clock shows ``at`` (0 if past)."""
        return max(0.0, (at - self.now()).total_seconds() / self.speed)
