"""Dates as Chinese sites write them, read as tz-aware datetimes.

Absolute forms go through :func:`text.timeparse.parse_time`; this module adds what
crawled pages print relative to the moment they were served: ``刚刚``, ``5分钟前``,
``3小时前``, ``昨天 12:30``, ``前天 08:00``, ``今天 08:01``, ``2013年5月28日 23:10``,
``05-28 23:10`` (current year), ``发表于 2013-5-28 23:10`` and the like.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from models import SHANGHAI
from text.timeparse import parse_time

_PREFIX = re.compile(r"^(?:发表于|发布于|发布时间|时间|日期|更新于|回复于|来源于)[:：\s]*")
_AGO = re.compile(r"^(\d+|半)\s*个?\s*(秒|分钟|分|小时|天|周)前$")
_DAY_WORD = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_CN_DATE = re.compile(
    r"^(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})秒?)?)?$"
)
_NUM_DATE = re.compile(
    r"^(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})"
    r"(?:[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_AGO_UNITS = {"秒": "seconds", "分钟": "minutes", "分": "minutes", "小时": "hours", "天": "days"}


class DateError(ValueError):
    """A date that could not be read at all."""


#: Scrapy setting holding the crawl's reference clock (``tingfeng crawl --at``): an aware
#: ISO 8601 time (or datetime). When set, it is the crawl's "now": ``fetched_at``, relative
#: dates without an HTTP ``Date`` header, the future-date check and the health record use it.
NOW_SETTING = "TINGFENG_NOW"


def reference_clock(value: object) -> datetime | None:
    """The reference clock from the ``TINGFENG_NOW`` setting (``None``: the real clock).

    Raises :class:`DateError` naming the setting for a value that is not an aware time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise DateError(
                f"{NOW_SETTING}: {value!r} is not an ISO 8601 time (2026-05-28T21:30:00+08:00)"
            ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)
    return when


def http_date(value: bytes | str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime, ``None`` when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=SHANGHAI)


#: A ``Date`` this far after the reference clock is a live server's, not a recorded one.
RECORDED_DATE_WINDOW = timedelta(hours=24)


def relative_base(
    fetched_at: datetime, served_at: datetime | None, clock: datetime | None = None
) -> datetime:
    """What relative dates on a page count from: the page's HTTP ``Date`` when it has one,
    else the fetch time (which is the reference clock when one is set).

    A page is never served after it was fetched, so without a clock a ``Date`` ahead of the
    fetch time (a server clock running fast) gives way to the fetch time. With a clock, a
    ``Date`` up to a day after it is taken as the time a recorded page was served; a later
    one is a live server's answering a crawl of the past, and the clock is used.
    """
    if served_at is None:
        return fetched_at
    if clock is None:
        return min(served_at, fetched_at)
    return served_at if served_at <= clock + RECORDED_DATE_WINDOW else clock


def parse_cn_time(value: object, now: datetime | None = None) -> datetime:
    """Read ``value`` as an aware datetime; relative forms are relative to ``now``.

    ``now`` is the time the page was fetched (defaults to the current time). Raises
    :class:`DateError` for text that is not a date. Range checks (future, 1970) are the
    validate pipeline's job, so this function returns such values unchanged where possible.
    """
    ref = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if value > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, SHANGHAI)
    if not isinstance(value, str):
        raise DateError(f"unsupported date value {value!r}")
    text = _PREFIX.sub("", value.strip().replace("\xa0", " ")).strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        raise DateError("empty date")
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        return parse_cn_time(float(text), ref)
    if text in {"刚刚", "刚才"}:
        return ref
    if m := _AGO.match(text):
        amount = 0.5 if m.group(1) == "半" else int(m.group(1))  # 半小时前, 2个小时前
        unit = m.group(2)
        if unit == "周":
            return ref - timedelta(weeks=amount)
        return ref - timedelta(**{_AGO_UNITS[unit]: amount})
    if m := _DAY_WORD.match(text):
        back = {"今天": 0, "昨天": 1, "前天": 2}[m.group(1)]
        day = (ref - timedelta(days=back)).date()
        return datetime(
            day.year,
            day.month,
            day.day,
            int(m.group(2)),
            int(m.group(3)),
            int(m.group(4) or 0),
            tzinfo=SHANGHAI,
        )
    for pattern in (_CN_DATE, _NUM_DATE):
        if m := pattern.match(text):
            year = int(m.group(1)) if m.group(1) else ref.year
            try:
                result = datetime(
                    year,
                    int(m.group(2)),
                    int(m.group(3)),
                    int(m.group(4) or 0),
                    int(m.group(5) or 0),
                    int(m.group(6) or 0),
                    tzinfo=SHANGHAI,
                )
            except ValueError as exc:
                raise DateError(f"impossible date {value!r}: {exc}") from None
            # "05-28" without a year printed in January means last year's May.
            if not m.group(1) and result > ref + timedelta(days=1):
                result = result.replace(year=year - 1)
            return result
    try:
        return parse_time(text)
    except ValueError:
        pass
    if re.match(r"^[A-Z][a-z]{2}, \d", text):  # RFC 822, as in RSS <pubDate>
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise DateError(f"unrecognised date {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    try:
        # parse_time refuses out-of-range years; read them anyway so the caller can
        # count an absurd date instead of an unreadable one.
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DateError(f"unrecognised date {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
