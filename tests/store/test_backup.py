"""Backup and restore of the SQLite store (store/backup.py, ``tingfeng backup|restore``).

Real SQLite files, a real second process writing while the backup runs, the real entry
point (in-process, for speed) for the commands and their refusals.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from models import MetricSnapshot
from models.records import Alert, Incident, Tier
from store import PostFilter, SearchQuery
from store.backup import BackupError, backup, inspect_store, restore
from store.sqlite import SCHEMA_VERSION, SQLiteStore
from tests.conftest import BASE_TIME, ROOT, make_post

BATCH = 40

#: A second process that writes posts in batches of BATCH (one transaction each) for as long
#: as it runs, printing the number committed after each batch.
WRITER = f"""
import sys
from tests.conftest import make_post
from store.sqlite import SQLiteStore

store = SQLiteStore(sys.argv[1], batch_size={BATCH})
n = 0
while True:
    store.upsert_posts(
        make_post(f"w{{n + i}}", f"东城区城管执法 第{{n + i}}条 现场视频", minutes=n + i)
        for i in range({BATCH})
    )
    n += {BATCH}
    print(n, flush=True)
"""


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path, *args: str):
    """Run ``tingfeng ARGS`` on the store ``db`` through the real entry point."""
    from tingfeng.cli.app import main

    monkeypatch.setenv("TINGFENG_CONFIG", "")
    monkeypatch.setenv("TINGFENG_STORE__PATH", str(db))
    monkeypatch.setattr(sys, "argv", ["tingfeng", *args])
    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def table_counts(path: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(path)
    try:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("posts", "post_docs", "posts_fts")
        )
    finally:
        db.close()


def test_backup_while_another_process_writes_then_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "live.db"
    SQLiteStore(live).close()
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as writer:
        try:
            committed = [int(writer.stdout.readline()) for _ in range(3)]  # type: ignore[union-attr]
            backups = []
            for i in range(3):  # several backups, each while the writer keeps committing
                dest = tmp_path / f"b{i}.db"
                code, out, err = cli(monkeypatch, capsys, live, "backup", str(dest))
                assert code == 0, err
                assert "已备份到" in out
                backups.append(dest)
                committed.append(int(writer.stdout.readline()))  # type: ignore[union-attr]
            assert writer.poll() is None, "the writer must still be running"
        finally:
            writer.terminate()
            writer.wait(timeout=30)
    assert committed == sorted(committed) and committed[-1] > committed[2]

    sizes = []
    for dest in backups:
        posts, docs, fts = table_counts(dest)
        # One commit's state: whole batches only, and every table of a post agrees.
        assert posts % BATCH == 0 and posts == docs == fts and posts >= committed[0]
        assert not Path(f"{dest}-wal").exists()  # one self-contained file
        assert inspect_store(dest).schema_version == SCHEMA_VERSION
        sizes.append(posts)
    assert sizes == sorted(sizes)

    # Restore the last backup as the store of a new place; it searches like the original.
    restored = tmp_path / "restored" / "t.db"
    code, out, err = cli(monkeypatch, capsys, restored, "restore", str(backups[-1]))
    assert code == 0, err and "已从" in out
    with SQLiteStore(restored) as store:
        assert store.count_posts() == sizes[-1]
        found = store.search(SearchQuery(text="城管 执法", limit=5))
        assert found.total == sizes[-1] and "<mark>" in found.hits[0].snippet
        assert store.search(SearchQuery(text="第7条")).total == 1


def dump(store: SQLiteStore) -> dict[str, Any]:
    posts = sorted((p.model_dump(mode="json") for p in store.iter_posts()), key=lambda p: p["id"])
    ids = [p["id"] for p in posts]
    return {
        "posts": posts,
        "snapshots": sorted(
            (s.model_dump(mode="json") for s in store.get_snapshots(ids)),
            key=lambda s: (s["post_id"], s["observed_at"]),
        ),
        "incidents": [r.model_dump(mode="json") for r in store.list_records(Incident)],
        "alerts": [r.model_dump(mode="json") for r in store.list_records(Alert)],
        "state": store.get_state("crawl:cursor"),
    }


def fill(store: SQLiteStore, posts: list[Any]) -> None:
    store.upsert_posts(posts)
    store.add_snapshots(
        MetricSnapshot(
            post_id=p.id, observed_at=p.fetched_at, reposts=i, comments=2 * i, likes=3 * i
        )
        for i, p in enumerate(posts)
    )
    incident = store.save_record(Incident(id="inc-1", title="东城区城管执法冲突"))
    store.save_record(incident.model_copy(update={"title": "东城区城管与小贩冲突"}))
    store.save_record(Alert(id="a1", incident_id="inc-1", tier=Tier.II, rule="heat>80"))
    store.set_state("crawl:cursor", {"weibo": "2024-05-01T09:00:00+08:00"})


def test_round_trip_equals_the_original(
    tmp_path: Path,
    sample_posts: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "t.db"
    with SQLiteStore(db) as store:
        fill(store, sample_posts)
        original = dump(store)
    code, _, err = cli(monkeypatch, capsys, db, "backup", str(tmp_path), "--json")
    assert code == 0, err
    [copy] = tmp_path.glob("t-*.db")  # a folder as DEST: a time-stamped file in it
    summary = inspect_store(copy)
    assert (summary.posts, summary.records, summary.snapshots) == (6, 2, 6)

    with SQLiteStore(db) as store:  # later changes, to be undone by the restore
        store.upsert_posts([make_post("99", "西江区新闻")])
        store.save_record(store.get_record(Incident, "inc-1").model_copy(update={"title": "x"}))
        store.set_state("crawl:cursor", {"weibo": "later"})
        changed = dump(store)

    code, out, err = cli(monkeypatch, capsys, db, "restore", str(copy))
    assert code == 0, err
    with SQLiteStore(db) as store:
        assert dump(store) == original
        assert store.search(SearchQuery(text="小贩")).total == 2
    [kept] = tmp_path.glob("t.db.before-restore-*")
    assert f"原存储已保存为 {kept}" in out
    with SQLiteStore(kept) as store:
        assert dump(store) == changed


def refusal(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err


@pytest.fixture
def stored(tmp_path: Path, sample_posts: list[Any]) -> Path:
    db = tmp_path / "t.db"
    with SQLiteStore(db) as store:
        fill(store, sample_posts)
    return db


def test_restore_refuses_what_is_not_a_tingfeng_store(
    tmp_path: Path, stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    text = tmp_path / "notes.db"
    text.write_text("这不是数据库\n", "utf-8")
    refusal(*cli(monkeypatch, capsys, stored, "restore", str(text))[::2], "不是听风数据库")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.close()
    refusal(*cli(monkeypatch, capsys, stored, "restore", str(other))[::2], "缺少表", "posts")
    refusal(*cli(monkeypatch, capsys, stored, "restore", str(tmp_path / "gone.db"))[::2], "gone")
    refusal(*cli(monkeypatch, capsys, stored, "restore", str(stored))[::2], "当前存储")
    with SQLiteStore(stored) as store:
        assert store.count_posts() == 6  # nothing touched


def test_restore_refuses_a_newer_schema(
    tmp_path: Path, stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    newer = tmp_path / "newer.db"
    backup(stored, newer)
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (SCHEMA_VERSION + 1,))
    db.close()
    code, _, err = cli(monkeypatch, capsys, stored, "restore", str(newer))
    refusal(code, err, f"存储结构版本 {SCHEMA_VERSION + 1}", "请先升级听风")
    assert inspect_store(stored).schema_version == SCHEMA_VERSION


def make_version_1(path: Path) -> None:
    with sqlite3.connect(path) as db:  # a version-1 store: no fetched_at, no incidents table
        db.execute("DROP TABLE incidents")
        db.execute("DROP TABLE alert_incidents")
        db.execute("DROP INDEX posts_fetched")
        db.execute("ALTER TABLE posts DROP COLUMN fetched_at")
        db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    db.close()


def test_restore_of_an_older_schema_migrates_forward(tmp_path: Path, stored: Path) -> None:
    older = tmp_path / "older.db"
    backup(stored, older)
    make_version_1(older)
    target = tmp_path / "new" / "t.db"
    result = restore(older, target)
    assert result.restored.schema_version == SCHEMA_VERSION and result.previous is None
    with SQLiteStore(target) as store:
        assert store.count_posts() == 6


HOLDER = """
import fcntl, os, sys
fh = open(sys.argv[1], "a+")
fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
fh.seek(0); fh.truncate(); fh.write(str(os.getpid())); fh.flush()
print("locked", flush=True)
sys.stdin.read()
"""


def test_restore_refuses_while_a_worker_holds_the_store(
    tmp_path: Path, stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    copy = tmp_path / "copy.db"
    backup(stored, copy)
    # The worker's lock (h-alerting's SingleWorker): an exclusive flock on <job store>.lock,
    # holding the worker's pid; held here by another process the same way.
    lock = Path(f"{stored}.jobs.db.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"  # type: ignore[union-attr]
        code, _, err = cli(monkeypatch, capsys, stored, "restore", str(copy))
        refusal(code, err, "tingfeng worker", f"pid {holder.pid}")
    finally:
        holder.communicate("", timeout=30)
    assert not list(tmp_path.glob("*.before-restore-*"))  # refused before touching anything
    code, _, err = cli(monkeypatch, capsys, stored, "restore", str(copy), "--discard-current")
    assert code == 0, err
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_restore_refuses_while_the_real_worker_lock_is_held(tmp_path: Path, stored: Path) -> None:
    worker = pytest.importorskip("tingfeng.services.worker", reason="worker not in this build")
    copy = tmp_path / "copy.db"
    backup(stored, copy)
    with worker.SingleWorker(Path(f"{stored}.jobs.db")), pytest.raises(BackupError, match="pid"):
        restore(copy, stored, worker_lock=Path(f"{stored}.jobs.db.lock"))


def test_backup_refusals(
    tmp_path: Path, stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    dest = tmp_path / "b.db"
    assert cli(monkeypatch, capsys, stored, "backup", str(dest))[0] == 0
    refusal(*cli(monkeypatch, capsys, stored, "backup", str(dest))[::2], "--force")
    assert cli(monkeypatch, capsys, stored, "backup", str(dest), "--force")[0] == 0
    refusal(*cli(monkeypatch, capsys, stored, "backup", str(stored))[::2], "存储本身")
    refusal(*cli(monkeypatch, capsys, stored, "backup", str(tmp_path / "no" / "b.db"))[::2], "no")
    refusal(*cli(monkeypatch, capsys, tmp_path / "none.db", "backup", str(dest))[::2], "none.db")
    assert not list(tmp_path.glob("*.partial"))
    monkeypatch.setenv("TINGFENG_STORE__BACKEND", "elasticsearch")
    monkeypatch.setenv("TINGFENG_STORE__URL", "http://127.0.0.1:9")
    refusal(*cli(monkeypatch, capsys, stored, "backup", str(dest))[::2], "_snapshot")
    refusal(*cli(monkeypatch, capsys, stored, "restore", str(dest))[::2], "_snapshot")


def test_a_damaged_backup_is_refused(tmp_path: Path, stored: Path) -> None:
    copy = tmp_path / "copy.db"
    backup(stored, copy)
    data = bytearray(copy.read_bytes())
    page = 4096
    data[page * 2 : page * 3] = b"\xff" * page  # one page of the b-trees overwritten
    copy.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        restore(copy, stored)
    assert inspect_store(stored).posts == 6


def test_migrate_brings_an_old_store_forward(
    tmp_path: Path, stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    make_version_1(stored)
    code, out, err = cli(monkeypatch, capsys, stored, "migrate")
    assert code == 0, err
    assert f"schema 版本 1 → {SCHEMA_VERSION}" in out
    with SQLiteStore(stored) as store:
        assert store.count_posts(PostFilter(fetched_since=BASE_TIME)) == 6  # backfilled
    code, out, _ = cli(monkeypatch, capsys, stored, "migrate", "--json")
    assert json.loads(out) == {
        "path": str(stored),
        "before": SCHEMA_VERSION,
        "after": SCHEMA_VERSION,
    }


def test_a_process_with_the_store_open_sees_the_restored_store(
    tmp_path: Path, stored: Path
) -> None:
    # The API keeps its connections open across a restore: after it, they read the restored
    # store (the restore is one write transaction on the live file), and can write to it.
    empty = tmp_path / "empty.db"
    SQLiteStore(empty).close()
    with SQLiteStore(stored) as api:
        assert api.count_posts() == 6
        restore(empty, stored, keep_current=False)
        assert api.count_posts() == 0
        assert api.search(SearchQuery(text="城管")).total == 0
        api.upsert_posts([make_post("7", "恢复后写入的新信息")])
        assert api.search(SearchQuery(text="新信息")).total == 1
    assert inspect_store(stored).posts == 1
