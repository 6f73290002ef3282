"""SQL statements per page and route, counted on the real SQLite store (sqlite3 trace
callback on every connection the store opens): bounded, and the same for 2 rows as for 100.
Then the search answer cache: a repeated search reads no post, a write shows at once."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from api.services.cache import AnswerCache
from models import Incident, Role
from tests.api.conftest import Env
from tests.api.factory import T0, _post

#: Bound on top-level statements of any page or route below (session + user + the work;
#: the monitor page: its two incident lists, the alerts read once for their tiers, sources).
MAX_STATEMENTS = 13
Q = quote("化工厂")


class Statements:
    """Top-level SQL statements run (FTS5's own lookups of its shadow tables come through
    the trace callback as ``-- ...`` lines: they are the engine's, not the app's)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, sql: str) -> None:
        if not sql.startswith("--"):
            self.sql.append(sql)

    def on_posts(self) -> list[str]:
        return [s for s in self.sql if "post" in s or "hits" in s]


def _routes(rows: int) -> list[str]:
    return [
        "/",
        f"/api/v1/incidents?per_page={rows}",
        f"/api/v1/incidents?hot=true&sort=rumor&per_page={rows}",
        f"/api/v1/incidents?tier=I&tier=none&per_page={rows}",
        f"/api/v1/posts?q={Q}&per_page={rows}&facets=day&facets=source&facets=region",
        f"/api/v1/posts?per_page={rows}&sort=time&facets=day",
        f"/search?q={Q}&per_page={rows}",
        "/incidents/inc-a",
        "/api/v1/incidents/inc-a",
        "/sources",
    ]


def _grow(env: Env, posts: int, incidents: int) -> None:
    env.store.upsert_posts(
        _post(
            f"9{i:04d}",
            f"临江化工厂附近第{i}条消息，江北区居民求证",
            i % 600,
            region_tags=["江北区"] if i % 2 else ["临江市"],
            reposts=i % 17,
        )
        for i in range(posts)
    )
    for i in range(incidents):
        env.store.save_record(
            Incident(
                id=f"bulk-{i}",
                title=f"批量事件{i}",
                hot=i % 2 == 0,
                heat=float(i),
                rumor_score=(i % 10) / 10,
                first_seen=T0 + timedelta(minutes=i),
                last_seen=T0 + timedelta(minutes=i),
            )
        )


def test_sql_statements_per_page_are_bounded_and_do_not_grow_with_rows(env: Env) -> None:
    env.app.state.search_cache.ttl = 0  # every request does its full work
    counter = Statements()
    env.store.conns.set_trace(counter)
    c, _ = env.login(Role.ANALYST)

    def count(path: str) -> int:
        c.get(path)  # first visit: model warm-up, reader connections opened
        counter.sql.clear()
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        return len(counter.sql)

    few = {p.replace("=2", "=N"): count(p) for p in _routes(2)}
    _grow(env, posts=300, incidents=150)
    r = c.get(f"/api/v1/posts?q={Q}&per_page=100")
    assert len(r.json()["data"]) == 100 and r.json()["count"] > 300
    assert len(c.get("/api/v1/incidents?per_page=100").json()["data"]) == 100
    many = {p.replace("=100", "=N"): count(p) for p in _routes(100)}
    assert many == few
    assert max(many.values()) <= MAX_STATEMENTS, many
    env.store.conns.set_trace(None)


def test_a_repeated_search_reads_no_post_until_the_store_changes(env: Env) -> None:
    now = [0.0]
    env.app.state.search_cache = AnswerCache(60.0, clock=lambda: now[0])
    counter = Statements()
    env.store.conns.set_trace(counter)
    c, _ = env.login(Role.MONITOR)
    path = f"/api/v1/posts?q={Q}&facets=day&facets=region"

    first = c.get(path).json()
    counter.sql.clear()
    again = c.get(path).json()
    assert again == first
    assert counter.on_posts() == []  # answered from memory: only the session was read

    # A crawl (or any write, here through the store the app serves) drops it at once.
    env.store.upsert_posts([_post("7001", "化工厂旁新帖：临江化工厂冒烟", 5)])
    counter.sql.clear()
    after = c.get(path).json()
    assert after["count"] == first["count"] + 1
    assert any("化工厂旁新帖" in p["text"] for p in after["data"])
    assert counter.on_posts() != []

    # Unchanged store: kept for the TTL only.
    counter.sql.clear()
    c.get(path)
    assert counter.on_posts() == []
    now[0] += 61
    c.get(path)
    assert counter.on_posts() != []
    # A different question is a different answer.
    counter.sql.clear()
    other = c.get(path + "&per_page=1").json()
    assert len(other["data"]) == 1 and counter.on_posts() != []
    env.store.conns.set_trace(None)


def test_identical_questions_asked_at_once_are_answered_by_one_computation(env: Env) -> None:
    import threading

    cache: AnswerCache[int] = AnswerCache(60.0)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        started.set()
        release.wait(10)
        return 42

    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(cache.get(env.store, "k", compute)))
    first.start()
    started.wait(10)
    others = [
        threading.Thread(target=lambda: results.append(cache.get(env.store, "k", compute)))
        for _ in range(5)
    ]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert results == [42] * 6 and len(calls) == 1
    assert cache.stats.misses == 1 and cache.stats.hits + cache.stats.waits >= 5


def test_incident_answer_is_kept_past_its_ttl_while_nothing_is_written(env: Env) -> None:
    from api.services.incidents import IncidentCache, IncidentFilters, list_incidents_json

    ticks = [100.0]
    cache = IncidentCache(2.0, clock=lambda: ticks[0])
    counter = Statements()
    env.store.conns.set_trace(counter)
    hot = IncidentFilters(hot=True)
    first = list_incidents_json(env.store, hot, cache)
    reads = lambda: [s for s in counter.sql if "FROM incidents" in s]  # noqa: E731
    assert len(reads()) == 2  # the count and the page
    ticks[0] += 10
    assert list_incidents_json(env.store, hot, cache) == first
    assert len(reads()) == 2  # stale by the clock, but the store says nothing changed
    env.store.save_record(Incident(id="inc-new", title="新热点", hot=True, heat=99.0))
    ticks[0] += 10
    assert b"inc-new" in list_incidents_json(env.store, hot, cache)
    assert len(reads()) == 4
    env.store.conns.set_trace(None)
