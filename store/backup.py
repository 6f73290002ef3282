"""Online backup and restore of the SQLite store.

- **Backup** uses SQLite's online backup API (``sqlite3.Connection.backup``) in a single
  step, i.e. inside one read transaction on the source. In WAL mode a reader never blocks
  the writer and sees one committed state, so a backup taken while an import, a crawl or the
  worker writes is a consistent store as of one commit: every batch wholly in it or wholly
  out. It is written to ``DEST.partial``, checked (``PRAGMA quick_check``, schema version),
  switched to a single self-contained file (rollback journal, no ``-wal``/``-shm``), synced
  and only then renamed to ``DEST``: a killed backup never leaves a file that looks complete.
- **Restore** checks the file first (SQLite, the tables of a Tingfeng store, a schema version
  this code knows, ``quick_check``), takes the worker's lock so no worker can start during the
  restore, keeps the current store as ``PATH.before-restore-<time>`` unless told not to,
  then copies the backup into the live database with the same backup API. That is one write
  transaction on the destination, so a process that still has the store open (the API) sees
  the old store or the restored one, never a mix. The store is then opened once, which runs
  the forward schema migrations when the backup is older than the code.

Only :mod:`sqlite3` and the schema version are used, so this module does not depend on how
the SQLite backend is split into modules.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from store.base import StoreError
from store.lock import LockHeld, PidLock

SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables every Tingfeng SQLite store has (schema version 1 on).
REQUIRED_TABLES = frozenset({"meta", "posts", "post_docs", "posts_fts", "snapshots", "records"})


class BackupError(StoreError):
    """A backup or restore refused or failed; the message names the file and the reason."""


@dataclass(frozen=True)
class StoreSummary:
    """What a store file holds (read without opening it as a store)."""

    path: str
    schema_version: int
    posts: int
    records: int
    snapshots: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RestoreResult:
    restored: StoreSummary
    previous: str | None  # where the replaced store was kept, if it existed and was kept

    def as_dict(self) -> dict[str, Any]:
        return {"restored": self.restored.as_dict(), "previous": self.previous}


def code_schema_version() -> int:
    from store.sqlite import SCHEMA_VERSION

    return SCHEMA_VERSION


def _connect_ro(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)


def inspect_store(path: str | Path) -> StoreSummary:
    """Check that ``path`` is a Tingfeng SQLite store and count what it holds.

    Raises :class:`BackupError` naming the file when it is missing, not SQLite, not a
    Tingfeng store, or damaged. A schema version newer than the code is reported, not
    refused (the caller decides).
    """
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path}: 文件不存在 / no such file")
    if not path.is_file():
        raise BackupError(f"{path}: 不是文件 / not a file")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path}: 不是听风数据库（不是 SQLite 文件）/ not a Tingfeng store")
    try:
        db = _connect_ro(path)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise BackupError(
                    f"{path}: 不是听风数据库（缺少表 {', '.join(sorted(missing))}）"
                    " / not a Tingfeng store"
                )
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None or not str(row[0]).isdigit():
                raise BackupError(
                    f"{path}: 不是听风数据库（没有 schema_version）/ no schema version"
                )
            counts = [
                db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("posts", "records", "snapshots")
            ]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: 无法读取 / cannot be read ({exc})") from None
    return StoreSummary(str(path), int(row[0]), *counts, bytes=path.stat().st_size)


def _quick_check(db: sqlite3.Connection, path: Path) -> None:
    result = [r[0] for r in db.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        raise BackupError(f"{path}: 数据库已损坏 / damaged ({'; '.join(result[:3])})")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup_target(store_path: Path, dest: Path, now: datetime | None = None) -> Path:
    """``dest`` itself, or a time-stamped file inside it when it is a folder."""
    if dest.is_dir():
        return dest / f"{store_path.stem}-{_stamp(now)}.db"
    return dest


def backup(
    store_path: str | Path,
    dest: str | Path,
    *,
    overwrite: bool = False,
    now: datetime | None = None,
) -> StoreSummary:
    """Copy the store at ``store_path`` to ``dest`` (a file, or a folder to put a time-stamped
    file in) while other processes keep writing. Returns what the backup holds."""
    src = Path(store_path)
    source = inspect_store(src)
    if source.schema_version > code_schema_version():
        raise BackupError(
            f"{src}: 存储结构版本 {source.schema_version} 比本版听风支持的"
            f"（{code_schema_version()}）新，请升级听风"
        )
    target = backup_target(src, Path(dest), now)
    if _same_file(src, target):
        raise BackupError(f"{target}: 备份目标就是存储本身 / the backup target is the store")
    if target.exists() and not overwrite:
        raise BackupError(f"{target}: 已存在（覆盖请加 --force）/ exists (use --force)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: 目录不存在 / no such folder")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(src, partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return inspect_store(target)


def _copy(src: Path, dest: Path) -> None:
    """One-step online backup of ``src`` into a new file ``dest``, checked and synced."""
    try:
        source = _connect_ro(src)
        try:
            out = sqlite3.connect(dest, isolation_level=None)
            try:
                source.backup(out)  # pages=-1: every page in one read transaction
                # A backup is one self-contained file: no -wal/-shm to forget when copying.
                out.execute("PRAGMA journal_mode=DELETE")
                _quick_check(out, dest)
            finally:
                out.close()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{src} → {dest}: 备份失败 / backup failed ({exc})") from None
    _fsync(dest)


class _HeldLock(PidLock):
    """The worker's lock, taken so no worker starts while a restore runs."""

    def __enter__(self) -> _HeldLock:
        try:
            return super().__enter__()
        except LockHeld as held:
            raise BackupError(
                f"{self.path}: 调度进程 tingfeng worker（pid {held.pid}）正在使用该存储，"
                "请先停止它再恢复 / a running worker holds this store; stop it first"
            ) from None
            self._fh.close()
            self._fh = None


def restore(
    src: str | Path,
    store_path: str | Path,
    *,
    worker_lock: str | Path | None = None,
    keep_current: bool = True,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace the store at ``store_path`` with the backup ``src``.

    Refuses (``BackupError``, nothing changed) when ``src`` is not a Tingfeng store, is
    damaged, has a schema newer than this code, is the store itself, when the current file
    at ``store_path`` is not a Tingfeng store, or when a worker holds ``worker_lock``.
    """
    source, target = Path(src), Path(store_path)
    summary = inspect_store(source)
    if summary.schema_version > code_schema_version():
        raise BackupError(
            f"{source}: 存储结构版本 {summary.schema_version} 比本版听风支持的"
            f"（{code_schema_version()}）新，请先升级听风再恢复"
        )
    if _same_file(source, target):
        raise BackupError(f"{source}: 这就是当前存储 / this is the current store")
    try:
        db = _connect_ro(source)
        try:
            _quick_check(db, source)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source}: 无法读取 / cannot be read ({exc})") from None
    if target.exists():
        inspect_store(target)  # never overwrite a file that is not a Tingfeng store
    lock = _HeldLock(Path(worker_lock)) if worker_lock else None
    if lock is not None:
        lock.__enter__()
    try:
        previous: Path | None = None
        if target.exists() and keep_current:
            previous = target.with_name(f"{target.name}.before-restore-{_stamp(now)}")
            _copy(target, previous)
        target.parent.mkdir(parents=True, exist_ok=True)
        _restore_into(source, target)
        _open_once(target)
    finally:
        if lock is not None:
            lock.__exit__()
    return RestoreResult(inspect_store(target), str(previous) if previous else None)


def _restore_into(source: Path, target: Path) -> None:
    try:
        src = _connect_ro(source)
        try:
            out = sqlite3.connect(target, isolation_level=None, timeout=30.0)
            try:
                out.execute("PRAGMA busy_timeout=30000")
                src.backup(out)
                _quick_check(out, target)
            finally:
                out.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} → {target}: 恢复失败 / restore failed ({exc})") from None


def _open_once(target: Path) -> None:
    """Open the restored file as a store: WAL on again, forward migrations applied."""
    from store.sqlite import SQLiteStore

    SQLiteStore(target).close()
