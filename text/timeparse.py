"""Time formats found in exports and research data, all read as tz-aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

from models import SHANGHAI

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%a %b %d %H:%M:%S %z %Y",  # Weibo API: "Sat Jun 29 12:40:09 +0800 2013"
)

#: Outside this range a timestamp is a data error (e.g. 0 → 1970, or milliseconds misread).
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_time(value: object) -> datetime:
    """Parse a Unix timestamp (s or ms), ISO 8601 or a common Chinese/Weibo format.

    Naive values are Asia/Shanghai. Raises ``ValueError`` naming the value otherwise.
    """
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError(f"no time given ({value!r})")
    if isinstance(value, int | float):
        seconds = float(value) / 1000 if value > 1e11 else float(value)
        result = datetime.fromtimestamp(seconds, UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return parse_time(float(text))
        result = _parse_text(text)
    else:
        raise ValueError(f"unsupported time value {value!r}")
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise ValueError(f"time out of range: {value!r}")
    return result


def _parse_text(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"unrecognised time {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed
