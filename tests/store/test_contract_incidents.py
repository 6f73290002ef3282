"""The incident-listing contract (:meth:`Store.list_incidents`), on every backend (the
``store`` fixture of conftest.py: SQLite always, Elasticsearch with TINGFENG_ES_URL).

The store's answer is compared with a plain-Python reading of the documented semantics
(:class:`store.base.IncidentQuery`) over the same records: filters, order, total, pages.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from models import Alert, AlertKind, AlertStatus, Incident, Tier
from store import IncidentQuery, Store
from store.base import ConflictError
from store.incident_fields import current_alert
from tests.conftest import BASE_TIME

DISTRICTS = [None, "江北区", "南岸区"]
CATEGORIES = [None, "民生", "交通"]
TITLES = ["地铁停运", "化工厂冒烟", "Metro 延误", "学校 100% 停课", "谣言*求证?"]
SCORES = [None, 0.0, 0.2, 0.4999, 0.5, 0.65, 0.7999, 0.8, 0.93, 1.0]


def _incidents(n: int = 36) -> list[Incident]:
    rnd = random.Random(13)
    out = []
    for i in range(n):
        first = BASE_TIME + timedelta(hours=rnd.randrange(0, 72), microseconds=rnd.randrange(10**6))
        seen = rnd.random() > 0.1
        out.append(
            Incident(
                id=f"inc-{i:02d}",
                title=rnd.choice(TITLES),
                keywords=rnd.sample(["地铁", "化工厂", "metro", "停课", "谣言", "a_b"], 2),
                district=rnd.choice(DISTRICTS),
                category=rnd.choice(CATEGORIES),
                hot=rnd.random() < 0.4,
                # Repeated heats and scores: the id decides ties.
                heat=float(rnd.choice([0, 12.5, 40, 40, 77.25, 99])),
                rumor_score=rnd.choice(SCORES),
                # Repeated sizes too: the id decides ties.
                post_count=rnd.choice([0, 1, 3, 3, 12, 250]),
                first_seen=first if seen else None,
                last_seen=first + timedelta(hours=rnd.randrange(0, 30)) if seen else None,
            )
        )
    return out


def _expected(records: list[Incident], q: IncidentQuery) -> tuple[int, list[str]]:
    def keep(r: Incident) -> bool:
        if q.hot is not None and r.hot != q.hot:
            return False
        if q.district is not None and r.district != q.district:
            return False
        if q.category is not None and r.category != q.category:
            return False
        if q.seen_since is not None and (r.last_seen is None or r.last_seen < q.seen_since):
            return False
        if q.seen_until is not None and (r.first_seen is None or r.first_seen >= q.seen_until):
            return False
        s = r.rumor_score
        if q.min_rumor_score is not None and (s is None or s < q.min_rumor_score):
            return False
        if q.below_rumor_score is not None and (s is None or s >= q.below_rumor_score):
            return False
        if q.rumor_scored is not None and (s is not None) != q.rumor_scored:
            return False
        if q.ids is not None and r.id not in q.ids:
            return False
        if q.exclude_ids is not None and r.id in q.exclude_ids:
            return False
        if q.text:
            needle = q.text.lower()
            if needle not in r.title.lower() and not any(needle in k.lower() for k in r.keywords):
                return False
        return True

    def key(r: Incident) -> tuple:
        value = {
            "heat": r.heat,
            "last_seen": r.last_seen.timestamp() if r.last_seen else None,
            "rumor": r.rumor_score,
            "size": r.post_count,
        }[q.sort]
        return (1, 0.0, r.id) if value is None else (0, -value, r.id)

    rows = sorted(filter(keep, records), key=key)
    return len(rows), [r.id for r in rows[q.offset : q.offset + q.limit]]


def _answer(store: Store, q: IncidentQuery) -> tuple[int, list[str]]:
    page = store.list_incidents(q)
    return page.total, [r.id for r in page.incidents]


@pytest.fixture
def listed(store: Store) -> tuple[Store, list[Incident]]:
    records = _incidents()
    for r in records:
        store.save_record(r)
    return store, [store.get_record(Incident, r.id) for r in records]  # type: ignore[misc]


def test_filters_orders_and_totals_agree_with_the_documented_semantics(
    listed: tuple[Store, list[Incident]],
) -> None:
    store, records = listed
    t = BASE_TIME + timedelta(hours=36)
    filters = [
        {},
        {"hot": True},
        {"hot": False},
        {"district": "江北区"},
        {"category": "交通", "hot": True},
        {"seen_since": t},
        {"seen_until": t},
        {"seen_since": BASE_TIME + timedelta(hours=20), "seen_until": t},
        {"below_rumor_score": 0.5},
        {"min_rumor_score": 0.5, "below_rumor_score": 0.8},
        {"min_rumor_score": 0.8},
        {"rumor_scored": False},
        {"rumor_scored": True, "district": "南岸区"},
        {"text": "地铁"},
        {"text": "METRO"},
        {"text": "100%"},
        {"text": "a_b"},
        {"text": "*求证?"},
        {"text": "不存在的词"},
        {"ids": ["inc-03", "inc-07", "inc-30", "not-stored"]},
        {"ids": ["inc-03", "inc-07", "inc-30"], "hot": True},
        {"ids": []},
        {"exclude_ids": ["inc-00", "inc-01", "inc-02", "inc-35"]},
        {"exclude_ids": []},
        {"ids": [f"inc-{i:02d}" for i in range(0, 36, 2)], "exclude_ids": ["inc-04"]},
    ]
    checked = 0
    for flt, sort in itertools.product(filters, ["heat", "last_seen", "rumor", "size"]):
        for offset, limit in [(0, 5), (5, 5), (0, 100), (30, 10)]:
            q = IncidentQuery(**flt, sort=sort, offset=offset, limit=limit)
            assert _answer(store, q) == _expected(records, q), q
            checked += 1
    assert checked == len(filters) * 4 * 4
    everything = IncidentQuery(limit=1000)
    assert _answer(store, everything)[0] == len(records)


def test_time_bounds_are_exact_to_the_microsecond(store: Store) -> None:
    at = BASE_TIME + timedelta(microseconds=123_457)
    store.save_record(Incident(id="a", title="t", first_seen=at, last_seen=at))
    assert store.list_incidents(IncidentQuery(seen_since=at)).total == 1
    assert store.list_incidents(IncidentQuery(seen_since=at + timedelta(microseconds=1))).total == 0
    assert store.list_incidents(IncidentQuery(seen_until=at)).total == 0
    assert store.list_incidents(IncidentQuery(seen_until=at + timedelta(microseconds=1))).total == 1


def test_a_saved_change_moves_the_incident_between_filters(store: Store) -> None:
    saved = store.save_record(Incident(id="x", title="江北区 内涝", heat=10.0))
    other = store.save_record(Incident(id="y", title="南岸区 停电", heat=20.0, hot=True))
    assert _answer(store, IncidentQuery(hot=True)) == (1, ["y"])
    store.save_records(
        [
            saved.model_copy(update={"hot": True, "heat": 50.0, "rumor_score": 0.9}),
            other.model_copy(update={"hot": False}),
        ]
    )
    assert _answer(store, IncidentQuery(hot=True)) == (1, ["x"])
    assert _answer(store, IncidentQuery(min_rumor_score=0.8)) == (1, ["x"])
    assert _answer(store, IncidentQuery()) == (2, ["x", "y"])
    page = store.list_incidents(IncidentQuery(hot=True))
    assert page.incidents[0].version == 2 and page.incidents[0].heat == 50.0


def test_many_ids_are_one_condition(store: Store) -> None:
    # More ids than SQLite's bound-parameter limit (32,766): passed as one value.
    for i in range(3):
        store.save_record(Incident(id=f"m{i}", title="t", heat=float(i)))
    many = [f"x{i}" for i in range(40_000)]
    assert _answer(store, IncidentQuery(ids=[*many, "m1"])) == (1, ["m1"])
    assert _answer(store, IncidentQuery(exclude_ids=[*many, "m1"])) == (2, ["m2", "m0"])


def test_empty_store_and_pages_past_the_end(store: Store) -> None:
    assert _answer(store, IncidentQuery()) == (0, [])
    store.save_record(Incident(id="only", title="唯一"))
    assert _answer(store, IncidentQuery(offset=5)) == (1, [])
    assert _answer(store, IncidentQuery(limit=0)) == (1, [])


# -- the current tier (响应级别 of the incident's current alert) ----------------------------
def _alert(alert_id: str, incident: str | None, tier: Tier, hours: float, **kw: object) -> Alert:
    return Alert(
        id=alert_id,
        incident_id=incident,
        alert_kind=AlertKind.INCIDENT if incident else AlertKind.SOURCE,
        source_name=None if incident else "portal",
        title=alert_id,
        tier=tier,
        rule="test",
        opened_at=BASE_TIME + timedelta(hours=hours),
        **kw,  # type: ignore[arg-type]
    )


def _tier_answer(store: Store, tiers: list[str]) -> tuple[list[str], dict[str, str]]:
    page = store.list_incidents(IncidentQuery(tiers=tiers, limit=1000))  # type: ignore[arg-type]
    assert page.total == len(page.incidents)
    return [r.id for r in page.incidents], {k: v.value for k, v in page.tiers.items()}


def _tier_expected(store: Store, tiers: list[str]) -> tuple[list[str], dict[str, str]]:
    """The documented semantics over every stored record, in plain Python."""
    incidents = store.list_records(Incident, limit=10_000)
    alerts = store.list_records(Alert, limit=10_000)
    current = {}
    for inc in incidents:
        chosen = current_alert(a for a in alerts if a.incident_id == inc.id)
        if chosen is not None:
            current[inc.id] = chosen.tier.value
    keep = [r for r in incidents if not tiers or current.get(r.id, "none") in tiers]
    keep.sort(key=lambda r: (-r.heat, r.id))
    return [r.id for r in keep], {r.id: current[r.id] for r in keep if r.id in current}


TIER_FILTERS: list[list[str]] = [
    [], ["I"], ["II"], ["III", "IV"], ["none"], ["II", "none"], ["I", "II", "III", "IV"],
]  # fmt: skip


def _check_tiers(store: Store) -> None:
    for tiers in TIER_FILTERS:
        assert _tier_answer(store, tiers) == _tier_expected(store, tiers), tiers


def test_the_tier_follows_every_alert_change_in_the_same_save(store: Store) -> None:
    for i in range(6):
        store.save_record(Incident(id=f"t{i}", title=f"分级{i}", heat=float(10 * i)))
    # An alert saved before its incident exists: the incident takes the tier when saved.
    store.save_record(_alert("early", "t-late", Tier.II, 0))
    store.save_record(_alert("src", None, Tier.I, 0))  # a source alert: no incident's tier
    _check_tiers(store)
    assert _tier_answer(store, ["I", "II", "III", "IV"]) == ([], {})
    store.save_record(Incident(id="t-late", title="后到", heat=1.0))
    assert _tier_answer(store, ["II"]) == (["t-late"], {"t-late": "II"})

    a = store.save_record(_alert("a", "t1", Tier.III, 1))
    _check_tiers(store)
    a = store.save_record(a.model_copy(update={"tier": Tier.I}))  # escalated
    assert _tier_answer(store, ["I"])[0] == ["t1"]
    a = store.save_record(a.model_copy(update={"status": AlertStatus.ACKNOWLEDGED}))
    # A later alert of the same incident while the first is open: the open one (a) wins
    # over a closed later one, the later open one over an earlier open one.
    b = store.save_record(_alert("b", "t1", Tier.IV, 3, status=AlertStatus.CLOSED))
    assert _tier_answer(store, ["I"])[0] == ["t1"]
    a = store.save_record(a.model_copy(update={"status": AlertStatus.CLOSED}))  # resolved
    assert _tier_answer(store, ["IV"])[0] == ["t1"]  # the latest, as both are closed
    _check_tiers(store)
    # An alert and its outbox change saved together (save_records), and an incident
    # re-saved by the detector: the tier stays with the alert.
    store.save_records([b.model_copy(update={"status": AlertStatus.NEW, "tier": Tier.II})])
    inc = store.get_record(Incident, "t1")
    assert inc is not None
    store.save_record(inc.model_copy(update={"heat": 99.0, "hot": True}))
    assert _tier_answer(store, ["II"])[0] == ["t1", "t-late"]
    assert store.list_incidents(IncidentQuery(tiers=["II"], hot=True)).total == 1

    rnd = random.Random(4)
    alerts: dict[str, Alert] = {}
    for step in range(40):
        incident = f"t{rnd.randrange(6)}"
        if not alerts or rnd.random() < 0.3:
            saved = store.save_record(
                _alert(f"r{step}", incident, rnd.choice(list(Tier)), rnd.randrange(48))
            )
        else:
            old = alerts[rnd.choice(sorted(alerts))]
            change = rnd.choice(
                [
                    {"status": AlertStatus.CLOSED},
                    {"status": AlertStatus.ACKNOWLEDGED},
                    {"tier": rnd.choice(list(Tier))},
                ]
            )
            saved = store.save_record(old.model_copy(update=change))
        alerts[saved.id] = saved
        if step % 8 == 7:
            _check_tiers(store)
    _check_tiers(store)


def test_a_conflicting_alert_save_changes_no_tier(store: Store) -> None:
    store.save_record(Incident(id="c", title="冲突", heat=1.0))
    first = store.save_record(_alert("c1", "c", Tier.III, 1))
    store.save_record(first.model_copy(update={"tier": Tier.II}))
    with pytest.raises(ConflictError):
        store.save_record(first.model_copy(update={"tier": Tier.I}))  # an old version
    assert _tier_answer(store, [])[1] == {"c": "II"}
