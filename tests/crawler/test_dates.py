from __future__ import annotations

from datetime import datetime

import pytest

from crawler.dates import DateError, parse_cn_time
from models import SHANGHAI

NOW = datetime(2026, 5, 28, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2013-05-28 23:10", datetime(2013, 5, 28, 23, 10)),
        ("2013年5月28日", datetime(2013, 5, 28)),
        ("2013年5月28日 23:10", datetime(2013, 5, 28, 23, 10)),
        ("5分钟前", datetime(2026, 5, 28, 11, 55)),
        ("5 分钟前", datetime(2026, 5, 28, 11, 55)),
        ("3小时前", datetime(2026, 5, 28, 9, 0)),
        ("半小时前", datetime(2026, 5, 28, 11, 30)),
        ("2个小时前", datetime(2026, 5, 28, 10, 0)),
        ("刚刚", datetime(2026, 5, 28, 12, 0)),
        ("昨天 12:30", datetime(2026, 5, 27, 12, 30)),
        ("前天 08:00", datetime(2026, 5, 26, 8, 0)),
        ("今天 08:01", datetime(2026, 5, 28, 8, 1)),
        ("发表于 2013-5-28 23:10", datetime(2013, 5, 28, 23, 10)),
        ("05-20 10:00", datetime(2026, 5, 20, 10, 0)),
        ("Sat Jun 29 12:40:09 +0800 2013", datetime(2013, 6, 29, 12, 40, 9)),
        ("Wed, 27 May 2026 18:00:00 +0800", datetime(2026, 5, 27, 18, 0)),
        ("2026-05-28T17:30:00+08:00", datetime(2026, 5, 28, 17, 30)),
        (1369754400, datetime(2013, 5, 28, 23, 20)),
        ("1369754400000", datetime(2013, 5, 28, 23, 20)),
    ],
)
def test_chinese_forms_become_aware_datetimes(raw: object, expected: datetime) -> None:
    parsed = parse_cn_time(raw, now=NOW)
    assert parsed.tzinfo is not None
    assert parsed == expected.replace(tzinfo=SHANGHAI)


def test_month_day_in_january_means_last_year() -> None:
    january = datetime(2027, 1, 3, 9, 0, tzinfo=SHANGHAI)
    assert parse_cn_time("12-30 10:00", now=january).year == 2026


def test_absurd_dates_are_read_not_refused() -> None:
    # Range checks belong to the validate pipeline, which counts them.
    assert parse_cn_time("1970-01-01 08:00", now=NOW).year == 1970
    assert parse_cn_time("2099-12-31 23:59", now=NOW).year == 2099
    assert parse_cn_time(0, now=NOW).year == 1970


@pytest.mark.parametrize("raw", ["", "   ", "明天见", "2026-13-45", "13月45日", None, ["x"]])
def test_garbage_raises_date_error(raw: object) -> None:
    with pytest.raises(DateError):
        parse_cn_time(raw, now=NOW)


# -- what relative dates count from ------------------------------------------------------
def test_reference_clock_setting() -> None:
    from crawler.dates import reference_clock

    assert reference_clock(None) is None and reference_clock("") is None
    assert reference_clock("2026-06-12T23:00:00+08:00") == datetime(
        2026, 6, 12, 23, 0, tzinfo=SHANGHAI
    )
    assert reference_clock("2026-06-12 23:00") == datetime(2026, 6, 12, 23, 0, tzinfo=SHANGHAI)
    with pytest.raises(DateError, match="TINGFENG_NOW: 'yesterday' is not an ISO 8601 time"):
        reference_clock("yesterday")


def test_http_date_header() -> None:
    from crawler.dates import http_date

    assert http_date(b"Fri, 12 Jun 2026 14:30:00 GMT") == datetime(
        2026, 6, 12, 22, 30, tzinfo=SHANGHAI
    )
    assert http_date(None) is None and http_date(b"not a date") is None


def test_relative_base_prefers_the_served_time() -> None:
    from crawler.dates import relative_base

    served = datetime(2026, 6, 12, 22, 30, tzinfo=SHANGHAI)
    fetched = datetime(2026, 6, 12, 23, 0, tzinfo=SHANGHAI)
    assert relative_base(fetched, served) == served
    assert relative_base(fetched, None) == fetched
    assert relative_base(served, fetched) == served  # a server clock running fast
    assert relative_base(fetched, served, clock=fetched) == served
    # A page recorded at 22:30, read "as of" 20:00: its own Date still dates it.
    early = datetime(2026, 6, 12, 20, 0, tzinfo=SHANGHAI)
    assert relative_base(early, served, clock=early) == served
    # A live server's Date months after the crawl's reference clock: the clock is "now".
    live = datetime(2026, 12, 1, 20, 0, tzinfo=SHANGHAI)
    assert relative_base(fetched, live, clock=fetched) == fetched
