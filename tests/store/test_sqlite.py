"""SQLite-specific behaviour: FTS escaping property, schema versioning, concurrency."""

from __future__ import annotations

import sqlite3
import threading
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
    with pytest.raises(StoreError, match="newer than this Tingfeng supports"):
        SQLiteStore(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the SQLite store"):
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
    from store import sqlite as sqlite_module

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
