"""SQLite-specific behaviour: FTS escaping property, schema versioning, concurrency."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Post
from store import PostFilter, SearchQuery, StoreError
from store.sqlite import SCHEMA_VERSION, SQLiteStore, _fts_match
from tests.conftest import make_post

HOSTILE = st.text(
    alphabet=st.sampled_from([*"\"'*:-^()[]{}+NEARORANDNOT 城管東东\u3000\\%_;—", "\x00"]),
    max_size=40,
) | st.text(max_size=40)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    store = SQLiteStore(tmp_path_factory.mktemp("fts") / "fts.db")
    store.upsert_posts(
        [make_post(str(i), f'城管 东城区 第{i}条 NEAR * - : ( " 测试') for i in range(20)]
    )
    return store


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=HOSTILE)
def test_no_query_string_raises_or_injects(filled: SQLiteStore, text: str) -> None:
    result = filled.search(SearchQuery(text=text, facets=["day", "source", "region"]))
    assert 0 <= result.total <= 20
    assert filled.count_posts() == 20  # nothing was dropped or altered by a query


@given(text=HOSTILE)
def test_match_expression_is_only_quoted_strings(text: str) -> None:
    match = _fts_match(text)
    if match is None:
        return
    for token in match.split(" "):
        assert token.startswith('"') and token.endswith('"')


def test_schema_version_recorded_and_newer_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="比本版听风支持的"):
        SQLiteStore(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="无法打开 SQLite 数据库"):
        SQLiteStore(path)


def test_concurrent_writers_from_threads_lose_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db", batch_size=7)

    def write(offset: int) -> None:
        store.upsert_posts(make_post(f"{offset}-{i}", f"并发写入{i}") for i in range(50))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_posts() == 200


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    a, b = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")
    a.upsert_posts([make_post("x", "共享文件")])
    post = b.get_post("weibo:x")
    assert isinstance(post, Post) and post.text == "共享文件"


def test_version_1_database_migrates_forward_keeping_every_post(tmp_path: Path) -> None:
    from store import sqlite_schema as sqlite_module

    path = tmp_path / "old.db"
    posts = [make_post(str(i), f"城管 第{i}条", minutes=i) for i in range(3)]
    # Build a version-1 file with the version-1 code path: only the first migration.
    original = sqlite_module.MIGRATIONS
    sqlite_module.MIGRATIONS = original[:1]
    try:
        old = SQLiteStore(path)
        db = old._db
        db.execute("BEGIN IMMEDIATE")
        for rowid, post in enumerate(posts, 1):
            db.execute(
                "INSERT INTO posts(rowid, id, source, kind, created_at) VALUES (?,?,?,?,?)",
                (rowid, post.id, post.source, post.kind, int(post.created_at.timestamp())),
            )
            db.execute(
                "INSERT INTO post_docs(rowid, doc) VALUES (?, ?)",
                (rowid, post.model_dump_json(exclude_none=True).encode()),
            )
        db.execute("COMMIT")
        assert old.schema_version == 1
        old.close()
    finally:
        sqlite_module.MIGRATIONS = original
    store = SQLiteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.count_posts() == 3
    fetched = {row[0]: row[1] for row in store._read("SELECT id, fetched_at FROM posts").fetchall()}
    assert fetched == {p.id: int(p.fetched_at.timestamp()) for p in posts}
    since = posts[1].fetched_at
    assert store.count_posts(PostFilter(fetched_since=since)) == 2


# -- read-only stores --------------------------------------------------------------------
TINGFENG = Path(sys.executable).with_name("tingfeng")


def _cli(tmp: Path, db: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TINGFENG_STORE__PATH": str(db), "TINGFENG_CONFIG": ""}
    return subprocess.run(
        [str(TINGFENG), *args], capture_output=True, text=True, env=env, cwd=tmp, timeout=timeout
    )


def _filled_file(path: Path) -> None:
    with SQLiteStore(path) as store:
        store.upsert_posts([make_post(str(i), f"只读测试 东城区 第{i}条") for i in range(5)])


def test_readonly_never_creates_the_file_or_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "tingfeng.db"
    with pytest.raises(StoreError, match=r"没有数据库 .*absent.*请先运行 tingfeng import"):
        SQLiteStore(path, readonly=True)
    assert not path.parent.exists()
    proc = _cli(tmp_path, path, "stats")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"错误：没有数据库 {path}") and "Traceback" not in proc.stderr
    assert not path.parent.exists()


def test_readonly_store_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    _filled_file(path)
    with SQLiteStore(path, readonly=True) as store:
        assert store.count_posts() == 5
        with pytest.raises(StoreError, match="只读"):
            store.upsert_posts([make_post("new", "不该写入")])
        with pytest.raises(StoreError, match="只读"):
            store.set_state("k", 1)
    assert SQLiteStore(path).count_posts() == 5


def test_reads_do_not_wait_for_a_writer_holding_a_transaction(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    _filled_file(path)
    # The same two commands on an idle copy first: the held run may cost start-up time, as
    # this one does, but never the busy timeout (30 s) on top. Compared, not absolute: on a
    # loaded machine one interpreter start-up alone can take 10 s.
    idle = tmp_path / "idle.db"
    _filled_file(idle)
    started = time.monotonic()
    _cli(tmp_path, idle, "stats", "--json")
    _cli(tmp_path, idle, "search", "只读测试", "--json")
    baseline = time.monotonic() - started
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO state(key, value) VALUES ('held', x'00')")
    try:
        with SQLiteStore(path, readonly=True) as store:
            assert store.search(SearchQuery(text="只读测试")).total == 5
        started = time.monotonic()
        stats = _cli(tmp_path, path, "stats", "--json")
        search = _cli(tmp_path, path, "search", "只读测试", "--json")
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["posts"] == 5
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["total"] == 5
    # A wait for the lock would add the busy timeout (5 s per read-only command, 30 s before).
    assert elapsed < 2 * baseline + 8, (elapsed, baseline)


def test_read_only_database_file_is_searchable_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    path = folder / "old.db"
    _filled_file(path)
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        proc = _cli(tmp_path, path, "search", "东城区", "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["total"] == 5
        assert _cli(tmp_path, path, "stats", "--json").returncode == 0
        with SQLiteStore(path, readonly=True) as store:
            assert len(list(store.iter_posts())) == 5
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == before


def test_one_reader_per_thread(tmp_path: Path) -> None:
    path = tmp_path / "threads.db"
    _filled_file(path)
    store = SQLiteStore(path, readonly=True)
    seen: list[int] = []

    def search() -> None:
        for _ in range(20):
            assert store.search(SearchQuery(text="东城区", facets=["day"])).total == 5
        seen.append(id(store.conns.reader()))

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 4
    store.close()


def _post_indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='posts'")
        return {name for (name,) in rows if not name.startswith("sqlite_autoindex")}


def test_bulk_load_defers_indexes_on_an_empty_store_only(tmp_path: Path) -> None:
    from store.sqlite_schema import POST_INDEXES

    store = SQLiteStore(tmp_path / "s.db")
    assert _post_indexes(tmp_path / "s.db") == set(POST_INDEXES)
    built: list[tuple[int, int]] = []
    with store.bulk_load(lambda done, total: built.append((done, total))) as deferred:
        assert deferred and _post_indexes(tmp_path / "s.db") == set()
        store.upsert_posts([make_post(str(i), f"城管 第{i}条") for i in range(30)])
        store.upsert_posts([make_post("3", "城管 第3条")])  # found by id all the same
        assert store.count_posts() == 30
        # a batch of new posts holding one already stored (with new words): the batch
        # is rolled back whole and takes the ordinary path; nothing is left half-written
        mixed = [make_post(str(i), f"城管 第{i}条") for i in range(30, 40)]
        mixed.insert(5, make_post("7", "城管 第7条 更正 停电"))
        result = store.upsert_posts(mixed)
        assert (result.inserted, result.updated) == (10, 1)
        assert store.count_posts() == 40
        assert store.search(SearchQuery(text="停电")).total == 1
    assert _post_indexes(tmp_path / "s.db") == set(POST_INDEXES)
    assert built == [(n, len(POST_INDEXES)) for n in range(len(POST_INDEXES) + 1)]
    assert store.search(SearchQuery(text="城管", limit=50)).total == 40
    with store.bulk_load() as deferred:  # a store with posts keeps its indexes
        assert not deferred and _post_indexes(tmp_path / "s.db") == set(POST_INDEXES)
    store.close()


def test_bulk_load_tunes_the_writer_and_restores_it(tmp_path: Path) -> None:
    """Bulk settings (small cache, rare WAL checkpoints) hold during the load only: the
    writer's everyday settings are back afterwards, an error inside the load included."""
    from store.sqlite_schema import (
        BULK_CACHE_KIB,
        BULK_WAL_AUTOCHECKPOINT,
        WAL_AUTOCHECKPOINT,
        WRITER_CACHE_KIB,
    )

    store = SQLiteStore(tmp_path / "s.db")

    def settings() -> tuple[int, int, int]:
        with store.conns.write() as db:
            return tuple(  # type: ignore[return-value]
                db.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("cache_size", "wal_autocheckpoint", "threads")
            )

    everyday = (WRITER_CACHE_KIB, WAL_AUTOCHECKPOINT, 0)
    assert settings() == everyday
    with store.bulk_load():
        assert settings() == (BULK_CACHE_KIB, BULK_WAL_AUTOCHECKPOINT, 0)
        store.upsert_posts([make_post(str(i), f"城管 第{i}条") for i in range(10)])
    assert settings() == everyday
    store.close()
    store = SQLiteStore(tmp_path / "t.db")
    with pytest.raises(RuntimeError), store.bulk_load():
        store.upsert_posts([make_post("1", "城管")])
        raise RuntimeError("the import failed")
    assert settings() == everyday
    assert store.count_posts() == 1
    store.close()


def test_a_bulk_load_killed_midway_gets_its_indexes_back(tmp_path: Path) -> None:
    """The importer dies inside the load (no clean-up runs): the next writer builds the
    missing indexes, and the posts stored so far are all there once."""
    script = (
        "import os, sys\n"
        "from store.sqlite import SQLiteStore\n"
        "from tests.conftest import make_post\n"
        "store = SQLiteStore(sys.argv[1])\n"
        "with store.bulk_load():\n"
        "    store.upsert_posts([make_post(str(i), '停电 第%d条' % i) for i in range(20)])\n"
        "    os._exit(9)\n"
    )
    db = tmp_path / "s.db"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", script, str(db)], cwd=root, check=False)
    assert proc.returncode == 9
    assert _post_indexes(db) == set()
    with SQLiteStore(db, readonly=True) as reader:  # readable meanwhile, if unindexed
        assert reader.count_posts() == 20
    from store.sqlite_schema import POST_INDEXES

    with SQLiteStore(db) as store:
        assert _post_indexes(db) == set(POST_INDEXES)
        result = store.upsert_posts([make_post(str(i), f"停电 第{i}条") for i in range(25)])
        assert (result.inserted, store.count_posts()) == (5, 25)


def test_version_3_store_gets_each_incidents_current_tier_on_upgrade(tmp_path: Path) -> None:
    from models import Alert, AlertKind, AlertStatus, Incident, Tier
    from store import IncidentQuery

    path = tmp_path / "v3.db"
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with SQLiteStore(path) as store:
        for name in ("open", "closed", "never"):
            store.save_record(Incident(id=name, title=name, heat=1.0))
        for alert_id, incident, tier, hours, status in [
            ("a1", "open", Tier.II, 2, AlertStatus.NOTIFIED),
            ("a2", "open", Tier.I, 5, AlertStatus.CLOSED),
            ("a3", "closed", Tier.IV, 1, AlertStatus.CLOSED),
            ("a4", "closed", Tier.III, 3, AlertStatus.CLOSED),
        ]:
            store.save_record(
                Alert(id=alert_id, incident_id=incident, alert_kind=AlertKind.INCIDENT,
                      tier=tier, rule="r", status=status, opened_at=at + timedelta(hours=hours))
            )  # fmt: skip
        db = store._db  # what version 3 had: no tier column, no alert_incidents table
        db.execute("DROP INDEX incidents_size")
        db.execute("ALTER TABLE incidents DROP COLUMN post_count")
        db.execute("DROP INDEX incidents_tier")
        db.execute("ALTER TABLE incidents DROP COLUMN tier")
        db.execute("DROP TABLE alert_incidents")
        db.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    with SQLiteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        page = store.list_incidents(IncidentQuery())
        assert {k: v.value for k, v in page.tiers.items()} == {"open": "II", "closed": "III"}
        assert [i.id for i in store.list_incidents(IncidentQuery(tiers=["none"])).incidents] == [
            "never"
        ]


def test_version_4_store_gets_each_incidents_size_on_upgrade(tmp_path: Path) -> None:
    from models import Incident
    from store import IncidentQuery

    path = tmp_path / "v4.db"
    with SQLiteStore(path) as store:
        for name, posts in (("small", 2), ("large", 40), ("mid", 7)):
            store.save_record(Incident(id=name, title=name, heat=1.0, post_count=posts))
        db = store._db  # what version 4 had: no post_count column
        db.execute("DROP INDEX incidents_size")
        db.execute("ALTER TABLE incidents DROP COLUMN post_count")
        db.execute("UPDATE meta SET value='4' WHERE key='schema_version'")
    with SQLiteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        page = store.list_incidents(IncidentQuery(sort="size"))
        assert [i.id for i in page.incidents] == ["large", "mid", "small"]


def test_update_state_is_atomic_across_processes(tmp_path: Path) -> None:
    """Two processes incrementing one state value on one file (the login counters of two
    API workers): every increment is kept."""
    path = tmp_path / "shared.db"
    SQLiteStore(path).close()
    script = (
        "import sys\n"
        "from store.sqlite import SQLiteStore\n"
        "s = SQLiteStore(sys.argv[1])\n"
        "for _ in range(100):\n"
        "    s.update_state('n', lambda v: (v or 0) + 1)\n"
        "s.close()\n"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=root) for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with SQLiteStore(path, readonly=True) as store:
        assert store.get_state("n") == 200
