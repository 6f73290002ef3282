"""The incident list through the API is answered by the store's indexed listing: every
filter at once costs the same few statements for 2 rows as for 100, no statement reads
incident documents beyond the page, and bad filters are 4xx JSON naming the field. The
tier filter and column: each incident's tier is that of its current alert (the open one,
else the latest), kept by the store beside the incident: no alert record is read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Alert, AlertKind, AlertStatus, Incident, Role, Tier
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
    assert scans == []  # no read of every incident record, nor of the alerts
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
        ("tier=V", "tier"),
        ("tier=I,II", "tier"),  # repeat the parameter, as for the alert feed
        ("tier=i", "tier"),
    ],
)
def test_bad_filters_are_422_naming_the_field(env: Env, query: str, field: str) -> None:
    c, _ = env.login(Role.ANALYST)
    r = c.get(f"/api/v1/incidents?{query}")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/json")
    # The field itself, or (a window's two ends checked together) the problem names it.
    named = [d["field"] + " " + d["problem"] for d in r.json()["detail"]]
    assert any(field in n for n in named), (query, r.json())


def _alert(
    alert_id: str, incident: str | None, tier: Tier, hours: int, status: AlertStatus
) -> Alert:
    return Alert(
        id=alert_id,
        incident_id=incident,
        alert_kind=AlertKind.INCIDENT if incident else AlertKind.SOURCE,
        source_name=None if incident else "lj-portal",
        title=alert_id,
        tier=tier,
        rule="test",
        status=status,
        opened_at=T0 + timedelta(hours=hours),
    )


OPEN, ACKED, CLOSED = AlertStatus.NOTIFIED, AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED


def _tiered(env: Env) -> None:
    """t-open: one open II. t-again: closed I, then open III. t-closed: closed IV, then
    closed I (the latest). t-old-open: open IV before a later closed I (open wins).
    t-none: never alerted; a source alert of tier I belongs to no incident."""
    for i, name in enumerate(["t-open", "t-again", "t-closed", "t-old-open", "t-none"]):
        env.store.save_record(Incident(id=name, title=f"分级{name}", heat=100.0 - i))
    for alert in [
        _alert("a1", "t-open", Tier.II, 1, OPEN),
        _alert("a2", "t-again", Tier.I, 1, CLOSED),
        _alert("a3", "t-again", Tier.III, 5, ACKED),
        _alert("a4", "t-closed", Tier.IV, 1, CLOSED),
        _alert("a5", "t-closed", Tier.I, 5, CLOSED),
        _alert("a6", "t-old-open", Tier.IV, 1, OPEN),
        _alert("a7", "t-old-open", Tier.I, 5, CLOSED),
        _alert("s1", None, Tier.I, 1, OPEN),
    ]:
        env.store.save_record(alert)


@pytest.mark.parametrize("role", list(Role))
def test_tier_filter_and_column_follow_the_current_alert(env: Env, role: Role) -> None:
    env.app.state.incident_cache.ttl = 0
    _tiered(env)
    c, _ = env.login(role)

    def ids(query: str) -> list[str]:
        r = c.get(f"/api/v1/incidents?per_page=100&{query}")
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        assert body["count"] == len(body["data"])
        return [row["id"] for row in body["data"] if row["id"].startswith("t-")]

    rows = {r["id"]: r for r in c.get("/api/v1/incidents?per_page=100").json()["data"]}
    assert {k: rows[k]["tier"] for k in rows if k.startswith("t-")} == {
        "t-open": "II",
        "t-again": "III",
        "t-closed": "I",
        "t-old-open": "IV",
        "t-none": None,
    }
    assert rows["t-closed"]["tier_name"] == "Ⅰ级" and rows["t-none"]["tier_name"] is None
    assert ids("tier=I") == ["t-closed"]
    assert ids("tier=III&tier=IV") == ["t-again", "t-old-open"]
    everyone = c.get("/api/v1/incidents?per_page=100").json()["count"]
    none = c.get("/api/v1/incidents?per_page=100&tier=none").json()
    assert none["count"] == everyone - 4 and "t-none" in [r["id"] for r in none["data"]]
    assert all(r["tier"] is None for r in none["data"])
    assert ids("tier=II&tier=none") == ["t-open", "t-none"]
    assert ids("tier=I&tier=II&tier=III&tier=IV") == ["t-open", "t-again", "t-closed", "t-old-open"]
    assert ids("tier=I&hot=true") == []  # with the other filters: all must hold
    assert c.get("/api/v1/incidents/t-old-open").json()["incident"]["tier"] == "IV"
    # Closing the open IV leaves the latest alert current: t-old-open moves to I.
    a6 = env.store.get_record(Alert, "a6")
    assert a6 is not None
    env.store.save_record(a6.model_copy(update={"status": CLOSED}))
    assert ids("tier=I") == ["t-closed", "t-old-open"]
    assert ids("tier=IV") == []


def test_tier_filter_reads_no_alert_whatever_the_rows(env: Env) -> None:
    env.app.state.incident_cache.ttl = 0
    _tiered(env)
    counter = Statements()
    env.store.conns.set_trace(counter)
    c, _ = env.login(Role.OFFICER)

    def statements(rows: int) -> list[str]:
        path = f"/api/v1/incidents?tier=I&tier=IV&tier=none&per_page={rows}"
        c.get(path)
        counter.sql.clear()
        assert c.get(path).status_code == 200
        return [s for s in counter.sql if "FROM incidents" in s or "FROM records" in s]

    few = statements(2)
    _grow(env, 0, 150)
    for i in range(0, 150, 3):
        env.store.save_record(_alert(f"g{i}", f"grow-{i:03d}", Tier.IV, 2, OPEN))
    many = statements(100)
    assert [s for s in many if "'alert'" in s or "alert_incidents" in s] == []
    assert len(few) == len(many)
    assert len([s for s in many if "FROM incidents" in s]) == 2  # the count and the page
    env.store.conns.set_trace(None)
