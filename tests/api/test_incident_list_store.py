"""The incident list through the API is answered by the store's indexed listing: every
filter at once costs the same few statements for 2 rows as for 100, no statement reads
incident documents beyond the page, and bad filters are 4xx JSON naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Incident, Role
from tests.api.conftest import Env
from tests.api.factory import T0
from tests.api.test_query_counts import Statements

ALL_FILTERS = (
    "since=2026-11-29T00:00:00%2B08:00&until=2026-12-03T00:00:00%2B08:00"
    "&district=江北区&category=交通&hot=true&rumor=medium&q=批量&sort=last_seen"
)


def _grow(env: Env, start: int, stop: int) -> None:
    for i in range(start, stop):
        env.store.save_record(
            Incident(
                id=f"grow-{i:03d}",
                title=f"批量事件{i}",
                district="江北区" if i % 2 else "南岸区",
                category="交通",
                hot=i % 3 != 0,
                heat=float(i % 40),
                rumor_score=0.5 + (i % 30) / 100,
                first_seen=T0 + timedelta(minutes=i),
                last_seen=T0 + timedelta(minutes=2 * i),
            )
        )


def test_every_filter_at_once_is_a_count_and_one_page_read(env: Env) -> None:
    env.app.state.incident_cache.ttl = 0
    counter = Statements()
    env.store.conns.set_trace(counter)
    c, _ = env.login(Role.MONITOR)

    def statements(rows: int, page: int = 1) -> tuple[list[str], dict]:
        path = f"/api/v1/incidents?{ALL_FILTERS}&per_page={rows}&page={page}"
        c.get(path)
        counter.sql.clear()
        r = c.get(path)
        assert r.status_code == 200, r.text[:300]
        return [s for s in counter.sql if "incidents" in s or "records" in s], r.json()

    _grow(env, 0, 12)
    few, small = statements(2)
    assert small["count"] > 2 and len(small["data"]) == 2
    _grow(env, 12, 240)
    many, body = statements(100)
    expected = [i for i in range(240) if i % 2 and i % 3]  # 江北区 and hot; the rest all hold
    assert body["count"] == len(expected) and len(body["data"]) == min(100, len(expected))
    seen = [row["last_seen"] for row in body["data"]]
    assert seen == sorted(seen, reverse=True)
    assert all(row["district"] == "江北区" and row["hot"] for row in body["data"])
    assert all(0.5 <= row["rumor_score"] < 0.8 for row in body["data"])
    # The session/token lookup, then the count and the page: the same for 2 and 100 rows.
    work = lambda sql: [s for s in sql if "FROM incidents" in s]  # noqa: E731
    assert len(work(few)) == len(work(many)) == 2
    scans = [s for s in many if "FROM records WHERE kind" in s and "AND id=" not in s]
    assert scans == []  # no read of every incident record
    _, past_the_end = statements(100, page=50)
    assert past_the_end["data"] == [] and past_the_end["count"] == body["count"]
    env.store.conns.set_trace(None)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("rumor=maybe", "rumor"),
        ("sort=oldest", "sort"),
        ("hot=perhaps", "hot"),
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("page=101&per_page=100", "page"),  # past 10,000 rows: the same on every backend
        ("since=2026-13-01", "since"),
        ("since=2026-12-02&until=2026-12-01", "since"),
        ("q=" + "长" * 101, "q"),
        ("district=" + "区" * 101, "district"),
    ],
)
def test_bad_filters_are_422_naming_the_field(env: Env, query: str, field: str) -> None:
    c, _ = env.login(Role.ANALYST)
    r = c.get(f"/api/v1/incidents?{query}")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/json")
    # The field itself, or (a window's two ends checked together) the problem names it.
    named = [d["field"] + " " + d["problem"] for d in r.json()["detail"]]
    assert any(field in n for n in named), (query, r.json())
