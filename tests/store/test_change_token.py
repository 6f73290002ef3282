"""``Store.change_token``: what answer caches trust. It must change after every committed
write, whoever made it (this store's writer, another process's), and only then."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from models import Incident, Post
from store.base import Store
from store.sqlite import SQLiteStore

T = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _post(n: int) -> Post:
    return Post(source="qc-forum", native_id=str(n), text=f"青川县停水第{n}帖", created_at=T)


def test_token_changes_with_each_write_of_this_store_and_only_then(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert_posts([_post(1)])
        before = store.change_token()
        assert store.count_posts() == 1  # reads change nothing
        assert store.change_token() == before
        store.upsert_posts([_post(2)])
        after_post = store.change_token()
        assert after_post != before
        store.save_record(Incident(id="i1", title="停水"))
        assert store.change_token() != after_post


def test_token_sees_writes_of_another_process(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SQLiteStore(db) as store:
        store.upsert_posts([_post(1)])
    with SQLiteStore(db, readonly=True) as reader:
        before = reader.change_token()
        script = textwrap.dedent(
            f"""
            from datetime import UTC, datetime
            from models import Post
            from store.sqlite import SQLiteStore
            with SQLiteStore({str(db)!r}) as s:
                s.upsert_posts([Post(source="qc-forum", native_id="9", text="新帖",
                                     created_at=datetime(2026, 5, 1, tzinfo=UTC))])
            """
        )
        root = Path(__file__).resolve().parents[2]
        subprocess.run([sys.executable, "-c", script], check=True, cwd=root, timeout=120)
        assert reader.change_token() != before
        assert reader.count_posts() == 2


def test_a_backend_that_cannot_tell_returns_none() -> None:
    assert Store.change_token(object.__new__(SQLiteStore)) is None  # the base default
