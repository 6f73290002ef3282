"""Time helpers shared by every model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic_core import PydanticCustomError

#: Local time of every source Tingfeng is built for; naive times from a source mean this zone.
SHANGHAI = ZoneInfo("Asia/Shanghai")


#: The process's reference clock (``None``: the machine's clock). Set only by a process that
#: runs the whole platform on another clock: ``tingfeng demo`` runs it on the story clock.
_reference: Callable[[], datetime] | None = None
_reference_rate: Callable[[], float] | None = None


def now_utc() -> datetime:
    """The current time, aware, in UTC: the reference clock when one is set."""
    if _reference is not None:
        return _reference().astimezone(UTC)
    return datetime.now(UTC)


def set_reference_clock(
    clock: Callable[[], datetime] | None, rate: Callable[[], float] | None = None
) -> None:
    """Run this process on ``clock`` (an aware ``now()``), or back on the machine's clock.
    ``rate`` says how fast it runs (:func:`clock_rate`; default: as fast as real time).
    Subprocesses are told separately (the worker passes crawls ``TINGFENG_NOW``)."""
    global _reference, _reference_rate
    _reference = clock
    _reference_rate = rate if clock is not None else None


def clock_rate() -> float:
    """Seconds of :func:`now_utc` per real second: 1 on the machine's clock; a demo's
    story clock runs faster, or stands still between manual steps (0). A screen that counts
    down between two answers of the server counts at this rate."""
    return float(_reference_rate()) if _reference_rate is not None else 1.0


def reference_clock_set() -> bool:
    return _reference is not None


def ensure_aware(value: datetime) -> datetime:
    """Return ``value`` with a time zone, reading a naive time as Asia/Shanghai."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=SHANGHAI)
    return value


def window_problem(
    since: datetime | None,
    until: datetime | None,
    names: tuple[str, str] = ("since", "until"),
    shown: tuple[str, str] | None = None,
) -> str | None:
    """The Simplified-Chinese message for a time window whose start is not before its end
    (``since`` at or after ``until``), naming both parameters with the values received
    (``shown``: as the user typed them); None when the window is fine or open. One wording
    for every API endpoint and CLI command that takes a window."""
    if since is None or until is None or since < until:
        return None
    a, b = shown or (since.isoformat(), until.isoformat())
    return f"{names[0]}：起始时间必须早于截止时间 {names[1]}（收到 {names[0]}={a}，{names[1]}={b}）"


#: Type of a validation error a model validator raises for one of its fields
#: (:func:`field_error`): the API's answer names that field, not the whole query.
FIELD_ERROR = "field_error"


def field_error(field: str, text: str) -> PydanticCustomError:
    """An error of the parameter ``field`` found by a model validator, which pydantic would
    otherwise place on the whole model (``query``); raise it from the validator. ``field``
    is in the error's ``ctx``."""
    return PydanticCustomError(FIELD_ERROR, text, {"field": field})  # type: ignore[arg-type]
