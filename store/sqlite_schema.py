"""SQLite schema, forward migrations and connections (one writer, read-only readers).

- WAL journal; one writer connection that takes ``BEGIN IMMEDIATE`` per transaction
  (:meth:`Connections.write`, the only place a transaction is opened), and read-only
  readers (``file:...?mode=ro``), one per thread, so a reader never waits for the writer
  and never writes by accident.
- ``meta.schema_version`` with forward migrations in :data:`MIGRATIONS`. A read-only store
  never migrates: an older file is refused with a hint to run a write command first.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from models import Alert, Incident, Post
from store.base import StoreError
from store.incident_fields import KEYWORD_SEP, alert_rank, incident_fields

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE posts(
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            author_id TEXT,
            root_id TEXT,
            incident_id TEXT,
            rumor_score REAL
        );
        CREATE TABLE post_docs(rowid INTEGER PRIMARY KEY, doc BLOB NOT NULL);
        CREATE INDEX posts_created ON posts(created_at);
        CREATE INDEX posts_source ON posts(source, created_at);
        CREATE INDEX posts_root ON posts(root_id) WHERE root_id IS NOT NULL;
        CREATE INDEX posts_incident ON posts(incident_id) WHERE incident_id IS NOT NULL;
        CREATE INDEX posts_author ON posts(author_id) WHERE author_id IS NOT NULL;
        CREATE TABLE post_regions(
            region TEXT NOT NULL,
            post_rowid INTEGER NOT NULL,
            PRIMARY KEY(region, post_rowid)
        ) WITHOUT ROWID;
        CREATE INDEX post_regions_post ON post_regions(post_rowid);
        CREATE VIRTUAL TABLE posts_fts USING fts5(tokens);
        CREATE TABLE snapshots(
            post_id TEXT NOT NULL,
            observed_at INTEGER NOT NULL,
            reposts INTEGER NOT NULL,
            comments INTEGER NOT NULL,
            likes INTEGER NOT NULL,
            PRIMARY KEY(post_id, observed_at)
        ) WITHOUT ROWID;
        CREATE TABLE records(
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            doc BLOB NOT NULL,
            PRIMARY KEY(kind, id)
        ) WITHOUT ROWID;
        CREATE INDEX records_updated ON records(kind, updated_at);
        CREATE TABLE state(key TEXT PRIMARY KEY, value BLOB NOT NULL);
        """,
    ),
    (
        2,
        # When a post was collected, so a detection pass finds posts crawled late.
        """
        ALTER TABLE posts ADD COLUMN fetched_at INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX posts_fetched ON posts(fetched_at);
        """,
    ),
    (
        3,
        # The filter and sort fields of each incident record (store.incident_fields), kept
        # beside the record in the same transaction: the incident list filters, orders,
        # counts and pages in SQL and reads only its page's documents.
        """
        CREATE TABLE incidents(
            id TEXT PRIMARY KEY,
            hot INTEGER NOT NULL,
            district TEXT,
            category TEXT,
            rumor_score REAL,
            heat REAL NOT NULL,
            first_seen_us INTEGER,
            last_seen_us INTEGER,
            title_lc TEXT NOT NULL,
            keywords_lc TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX incidents_heat ON incidents(heat DESC, id);
        CREATE INDEX incidents_hot ON incidents(hot, heat DESC, id);
        CREATE INDEX incidents_last_seen ON incidents(last_seen_us DESC, id);
        CREATE INDEX incidents_rumor ON incidents(rumor_score DESC, id);
        CREATE INDEX incidents_district ON incidents(district) WHERE district IS NOT NULL;
        CREATE INDEX incidents_category ON incidents(category) WHERE category IS NOT NULL;
        """,
    ),
    (
        4,
        # Each incident's current tier (响应级别 of its current alert, NULL if never
        # alerted) on its listing row, for the incident list's tier filter and column.
        # ``alert_incidents`` holds the fields of every incident alert that decide which is
        # current (store.incident_fields.alert_rank); saving an alert rewrites its row and
        # the tier of its incident in the same transaction, saving an incident looks its
        # tier up: one indexed read either way, whatever the number of alerts.
        """
        CREATE TABLE alert_incidents(
            alert_id TEXT PRIMARY KEY,
            incident_id TEXT NOT NULL,
            open INTEGER NOT NULL,
            opened_us INTEGER NOT NULL,
            tier TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX alert_incidents_current
            ON alert_incidents(incident_id, open DESC, opened_us DESC, alert_id DESC);
        ALTER TABLE incidents ADD COLUMN tier TEXT;
        CREATE INDEX incidents_tier ON incidents(tier, heat DESC, id);
        """,
    ),
    (
        5,
        # Each incident's number of posts on its listing row, for the list's ``size``
        # order (the dashboard's 事件 page sorts by 规模); filled from the records.
        """
        ALTER TABLE incidents ADD COLUMN post_count INTEGER NOT NULL DEFAULT 0;
        UPDATE incidents SET post_count = COALESCE((SELECT json_extract(r.doc, '$.post_count')
            FROM records r WHERE r.kind = 'incident' AND r.id = incidents.id), 0);
        CREATE INDEX incidents_size ON incidents(post_count DESC, id);
        """,
    ),
]


def ts(value: datetime) -> int:
    return int(value.timestamp())


def _backfill_fetched_at(db: sqlite3.Connection) -> None:
    # In chunks: a store of millions of posts must not be read into memory at once.
    cursor = db.execute("SELECT rowid, doc FROM post_docs")
    while rows := cursor.fetchmany(5000):
        db.executemany(
            "UPDATE posts SET fetched_at=? WHERE rowid=?",
            [(ts(Post.model_validate_json(doc).fetched_at), rowid) for rowid, doc in rows],
        )


#: The tier of incident ``?1``: that of its current alert (the order of alert_rank).
CURRENT_TIER_SQL = (
    "SELECT tier FROM alert_incidents WHERE incident_id = ?1"
    " ORDER BY open DESC, opened_us DESC, alert_id DESC LIMIT 1"
)

INCIDENT_ROW_SQL = (
    "INSERT OR REPLACE INTO incidents(id, hot, district, category, rumor_score, heat,"
    " first_seen_us, last_seen_us, title_lc, keywords_lc, post_count, tier)"
    f" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,({CURRENT_TIER_SQL}))"
)
#: The row as schema version 3 had it (no tier yet), for migration 3's backfill.
_INCIDENT_ROW_V3_SQL = (
    "INSERT OR REPLACE INTO incidents(id, hot, district, category, rumor_score, heat,"
    " first_seen_us, last_seen_us, title_lc, keywords_lc) VALUES (?,?,?,?,?,?,?,?,?,?)"
)


def incident_row(inc: Incident) -> tuple[Any, ...]:
    """The ``incidents`` row of one incident record (parameters of INCIDENT_ROW_SQL)."""
    f = incident_fields(inc)
    return (
        inc.id, int(f["hot"]), f["district"], f["category"], f["rumor_score"], f["heat"],
        f["first_seen_us"], f["last_seen_us"], f["title_lc"], KEYWORD_SEP.join(f["keywords_lc"]),
        f["post_count"],
    )  # fmt: skip


def _backfill_incidents(db: sqlite3.Connection) -> None:
    cursor = db.execute("SELECT doc FROM records WHERE kind='incident'")
    while rows := cursor.fetchmany(2000):
        db.executemany(
            _INCIDENT_ROW_V3_SQL,
            [incident_row(Incident.model_validate_json(d))[:10] for (d,) in rows],
        )


ALERT_ROW_SQL = (
    "INSERT OR REPLACE INTO alert_incidents(alert_id, incident_id, open, opened_us, tier)"
    " VALUES (?,?,?,?,?)"
)


def alert_row(alert: Alert) -> tuple[Any, ...] | None:
    """The ``alert_incidents`` row of an alert (None: not an incident alert)."""
    rank = alert_rank(alert)
    if rank is None:
        return None
    return (alert.id, alert.incident_id, int(rank[0]), rank[1], alert.tier.value)


def write_alert_tier(db: sqlite3.Connection, alert: Alert) -> None:
    """Inside the transaction that saves ``alert``: its ``alert_incidents`` row, and the
    current tier of the incident(s) concerned (its own, and a former one if it moved)."""
    before = db.execute(
        "SELECT incident_id FROM alert_incidents WHERE alert_id=?", (alert.id,)
    ).fetchone()
    row = alert_row(alert)
    if row is None:
        db.execute("DELETE FROM alert_incidents WHERE alert_id=?", (alert.id,))
    else:
        db.execute(ALERT_ROW_SQL, row)
    touched = {before[0]} if before else set()
    if row is not None:
        touched.add(row[1])
    for incident_id in touched:
        db.execute(f"UPDATE incidents SET tier=({CURRENT_TIER_SQL}) WHERE id=?1", (incident_id,))


def _backfill_tiers(db: sqlite3.Connection) -> None:
    cursor = db.execute("SELECT doc FROM records WHERE kind='alert'")
    while rows := cursor.fetchmany(2000):
        alerts = (Alert.model_validate_json(d) for (d,) in rows)
        db.executemany(ALERT_ROW_SQL, [r for a in alerts if (r := alert_row(a)) is not None])
    db.execute(
        "UPDATE incidents SET tier=(SELECT a.tier FROM alert_incidents a"
        " WHERE a.incident_id = incidents.id"
        " ORDER BY a.open DESC, a.opened_us DESC, a.alert_id DESC LIMIT 1)"
    )


#: Migrations that need Python (run after the SQL of the same version).
PY_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _backfill_fetched_at,
    3: _backfill_incidents,
    4: _backfill_tiers,
}


SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Bytes of the database file each reader maps (PRAGMA mmap_size); beyond it, plain reads.
MMAP_BYTES = 2 << 30
#: The secondary indexes of ``posts`` (as the migrations create them). A bulk load into an
#: empty store drops them and builds each once at its end (:meth:`Connections.bulk_load`):
#: one sort of the whole table costs a fraction of a million B-tree inserts each. Every
#: writer that opens a store builds any that are missing, so a load that crashed before its
#: end leaves them missing only until the next command that writes.
POST_INDEXES: dict[str, str] = {
    "posts_created": "CREATE INDEX IF NOT EXISTS posts_created ON posts(created_at)",
    "posts_source": "CREATE INDEX IF NOT EXISTS posts_source ON posts(source, created_at)",
    "posts_root": "CREATE INDEX IF NOT EXISTS posts_root ON posts(root_id)"
    " WHERE root_id IS NOT NULL",
    "posts_incident": "CREATE INDEX IF NOT EXISTS posts_incident ON posts(incident_id)"
    " WHERE incident_id IS NOT NULL",
    "posts_author": "CREATE INDEX IF NOT EXISTS posts_author ON posts(author_id)"
    " WHERE author_id IS NOT NULL",
    "posts_fetched": "CREATE INDEX IF NOT EXISTS posts_fetched ON posts(fetched_at)",
}

#: Per reader connection and in memory: search() collects one query's matches here.
_HITS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS hits("
    "rowid INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, source TEXT NOT NULL, score REAL)"
)


#: Page cache of the writer connection (negative: KiB), and during a bulk load.
WRITER_CACHE_KIB = -65536
BULK_CACHE_KIB = -32768
#: WAL pages between automatic checkpoints: SQLite's default, and during a bulk load (64 MB
#: of WAL: a tenth of the checkpoints and their fsyncs; the CED import 33.5 s against 36.9 s
#: in five runs each, the same store written). Larger gains nothing measurable.
WAL_AUTOCHECKPOINT = 1000
BULK_WAL_AUTOCHECKPOINT = 16384
#: While a bulk load's deferred indexes are built: SQLite's default cache, helper threads.
INDEX_BUILD_CACHE_KIB = -2000
INDEX_BUILD_THREADS = 2


def missing_store_message(path: Path) -> str:
    return f"没有数据库 {path}：请先运行 tingfeng import 或 tingfeng crawl"


class Connections:
    """The writer (absent in read-only mode) and one read-only reader per thread."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._probe: sqlite3.Connection | None = None
        self._probe_lock = threading.Lock()
        self._trace: Callable[[str], None] | None = None
        #: Inside :meth:`bulk_load` of an empty store: new posts are inserted before their ids
        #: are looked up (a conflict rolls the batch back to the ordinary path).
        self.bulk_loading = False
        if readonly:
            if not path.is_file():
                raise StoreError(missing_store_message(path))
            self._check_version(self.reader())
        else:
            self._writer = self._connect_writer()
            self._migrate()

    # -- connections ---------------------------------------------------------------------
    def _uri(self, *, immutable: bool = False) -> str:
        # quote() keeps "/" and escapes "?", "#" and "%" that would end or corrupt the path.
        uri = f"file:{quote(str(self.path.absolute()))}?mode=ro"
        return uri + ("&immutable=1" if immutable else "")

    def _connect_writer(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.execute(f"PRAGMA cache_size={WRITER_CACHE_KIB}")
        db.execute("PRAGMA temp_store=MEMORY")
        return db

    def connect_reader(self) -> sqlite3.Connection:
        """A new read-only connection (``mode=ro``): it can never create or change the file.

        A file nobody may write (no WAL index can be created next to it) is opened
        ``immutable``: nobody can be changing it either.
        """
        try:
            db = sqlite3.connect(
                self._uri(), uri=True, isolation_level=None, check_same_thread=False, timeout=5.0
            )
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            if os.access(self.path, os.W_OK) or not self.path.is_file():
                raise
            db = sqlite3.connect(
                self._uri(immutable=True),
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
        db.execute("PRAGMA cache_size=-65536")
        # Memory-mapped reads: the readers of every thread (and process) share the OS page
        # cache instead of each copying the hot pages of the index into its own cache.
        db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute(_HITS_TABLE)
        if self._trace is not None:
            db.set_trace_callback(self._trace)
        return db

    def in_transaction(self) -> bool:
        """Whether this thread is inside :meth:`transaction` (its reads then go through the
        writer, so they see what the transaction wrote so far)."""
        return getattr(self._local, "tx_depth", 0) > 0

    def reader(self) -> sqlite3.Connection:
        """This thread's reader (opened on first use); inside :meth:`transaction`, the
        writer itself."""
        if self.in_transaction():
            assert self._writer is not None
            return self._writer
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self.connect_reader()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: 无法打开 SQLite 数据库（{exc}）") from None
            self._local.db = db
            with self._readers_lock:
                self._readers.append(db)
        return db

    def read(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.reader().execute(sql, tuple(params))

    def data_version(self) -> int:
        """A number that changes whenever another connection commits (this process's writer
        or any other process): ``PRAGMA data_version`` of one reader kept for this alone,
        since the value is per connection. Costs microseconds (no file read)."""
        with self._probe_lock:
            if self._probe is None:
                self._probe = self.connect_reader()
            return int(self._probe.execute("PRAGMA data_version").fetchone()[0])

    def set_trace(self, callback: Callable[[str], None] | None) -> None:
        """Call ``callback(sql)`` for every statement any connection of this store runs
        (``sqlite3`` trace callback), from now on; ``None`` stops it. Tests count queries."""
        self._trace = callback
        with self._readers_lock:
            connections = [*self._readers, self._writer, self._probe]
        for db in connections:
            if db is not None:
                db.set_trace_callback(callback)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error);
        inside :meth:`transaction`, a savepoint of it (all or nothing within it, committed
        with it)."""
        if self._writer is None:
            raise StoreError(f"{self.path}: 存储以只读方式打开")
        with self._write_lock:
            db = self._writer
            if self.in_transaction():
                db.execute("SAVEPOINT write")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK TO write")
                    db.execute("RELEASE write")
                    raise
                db.execute("RELEASE write")
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything this thread writes inside is one transaction: committed on leaving,
        rolled back on an error, and lost whole if the process dies (a killed replay
        interval or detection pass leaves nothing half-written). This thread's reads go
        through the writer meanwhile and see those writes; other connections see them
        only after the commit. Nested: the inner one joins the outer."""
        if self._writer is None:
            raise StoreError(f"{self.path}: the store was opened read-only")
        if self.in_transaction():
            yield
            return
        with self._write_lock:
            db = self._writer
            db.execute("BEGIN IMMEDIATE")
            db.execute(_HITS_TABLE)
            self._local.tx_depth = 1
            try:
                yield
            except BaseException:
                self._local.tx_depth = 0
                db.execute("ROLLBACK")
                raise
            self._local.tx_depth = 0
            db.execute("COMMIT")

    @contextmanager
    def bulk_load(self, on_index: Callable[[int, int], None] | None = None) -> Iterator[bool]:
        """Defer the posts' secondary indexes while loading an EMPTY store (yields True
        when they were deferred); rebuilt on leaving, on error too, with ``on_index(done,
        total)`` after each. A store that holds posts keeps its indexes (yields False):
        building them again would cost more than it saves. Lookups by id (the unique
        index) stay indexed throughout, so the load still finds duplicates."""
        with self.write() as db:
            empty = db.execute("SELECT 1 FROM posts LIMIT 1").fetchone() is None
            if empty:
                for name in POST_INDEXES:
                    db.execute(f"DROP INDEX IF EXISTS {name}")
        self.bulk_loading = empty
        if empty:
            # Appends need few cached pages (the id index is all they revisit): memory for
            # the import's other work instead.
            self._writer.execute(f"PRAGMA cache_size={BULK_CACHE_KIB}")  # type: ignore[union-attr]
            self._writer.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_AUTOCHECKPOINT}")  # type: ignore[union-attr]
        try:
            yield empty
        finally:
            self.bulk_loading = False
            if empty:
                writer = self._writer
                # The indexes' sorts in helper threads, over SQLite's default small cache
                # (measured on the CED store: 2.4 s against 2.8-2.9 s single-threaded; with
                # a large cache the helper threads gain nothing).
                writer.execute(f"PRAGMA cache_size={INDEX_BUILD_CACHE_KIB}")  # type: ignore[union-attr]
                writer.execute(f"PRAGMA threads={INDEX_BUILD_THREADS}")  # type: ignore[union-attr]
                try:
                    self.ensure_indexes(on_index)
                finally:
                    writer.execute("PRAGMA threads=0")  # type: ignore[union-attr]
                    writer.execute(f"PRAGMA cache_size={WRITER_CACHE_KIB}")  # type: ignore[union-attr]
                    writer.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")  # type: ignore[union-attr]

    def ensure_indexes(self, on_index: Callable[[int, int], None] | None = None) -> None:
        """Build whichever of :data:`POST_INDEXES` is missing (nothing to do normally),
        one transaction each."""
        if on_index is not None:
            on_index(0, len(POST_INDEXES))
        for done, sql in enumerate(POST_INDEXES.values(), 1):
            with self.write() as db:
                db.execute(sql)
            if on_index is not None:
                on_index(done, len(POST_INDEXES))

    def close(self) -> None:
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for db in readers:
            db.close()
        self._local = threading.local()
        with self._probe_lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- schema --------------------------------------------------------------------------
    def _version_of(self, db: sqlite3.Connection) -> int:
        has_meta = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not has_meta:
            return 0
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _newer(self, current: int) -> StoreError:
        return StoreError(
            f"{self.path}: 存储结构版本 {current} 比本版听风支持的（{SCHEMA_VERSION}）新，"
            "请升级听风"
        )

    def _check_version(self, db: sqlite3.Connection) -> None:
        current = self._version_of(db)
        if current > SCHEMA_VERSION:
            raise self._newer(current)
        if current == 0:
            raise StoreError(f"{self.path}: 不是听风数据库（没有 schema 版本）")
        if current < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: 存储结构版本 {current} 需要升级到 {SCHEMA_VERSION}；"
                "请先运行 tingfeng migrate（或一次写入的命令，如 import、crawl）"
            )

    def _migrate(self) -> None:
        latest = MIGRATIONS[-1][0]
        with self.write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
            current = self._version_of(db)
            if current > latest:
                raise self._newer(current)
            for version, script in MIGRATIONS:
                if version > current:
                    for statement in script.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    if version in PY_MIGRATIONS:
                        PY_MIGRATIONS[version](db)
                    current = version
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)",
                (str(current),),
            )
            if current >= 2:  # a bulk load that crashed left some out
                for sql in POST_INDEXES.values():
                    db.execute(sql)

    def schema_version(self) -> int:
        row = self.read("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])
