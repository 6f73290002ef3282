"""Embedded SQLite backend: the default store, no server to install.

- WAL journal; one writer connection that takes ``BEGIN IMMEDIATE`` per batch, and a
  separate read connection, so readers never block the writer.
- A post is stored whole as JSON in ``post_docs``; ``posts`` holds only the narrow columns
  filters and facets read, so scanning thousands of matches never touches the documents.
- Full text: FTS5 over jieba-pretokenised text (space-joined tokens from
  :func:`nlp.tokenize.index_text`), so no SQLite tokenizer extension is needed. User query
  strings are turned into quoted FTS5 string tokens: no input can raise an FTS syntax error.
- ``meta.schema_version`` with forward migrations in :data:`MIGRATIONS`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from models import MetricSnapshot, Post, Record
from nlp.tokenize import cut
from store.base import (
    ConflictError,
    Facets,
    PostFilter,
    PreparedPost,
    R,
    SearchHit,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    UpsertResult,
)
from store.highlight import query_terms, snippet
from store.merge import merge_post

#: China has no daylight-saving time, so local days and hours are a fixed offset from UTC.
LOCAL_OFFSET = 8 * 3600

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
]


def _backfill_fetched_at(db: sqlite3.Connection) -> None:
    # In chunks: a store of millions of posts must not be read into memory at once.
    cursor = db.execute("SELECT rowid, doc FROM post_docs")
    while rows := cursor.fetchmany(5000):
        db.executemany(
            "UPDATE posts SET fetched_at=? WHERE rowid=?",
            [(_ts(Post.model_validate_json(doc).fetched_at), rowid) for rowid, doc in rows],
        )


#: Migrations that need Python (run after the SQL of the same version).
PY_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {2: _backfill_fetched_at}
SCHEMA_VERSION = MIGRATIONS[-1][0]

_IN_CHUNK = 500  # ids per "IN (...)" clause, well under SQLite's variable limit


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _fts_match(text: str) -> str | None:
    """FTS5 expression for user text: every query token as a quoted string, ANDed.

    Quoting makes ``*``, ``NEAR``, ``-``, ``:``, ``(`` and ``"`` plain characters. Returns
    ``None`` when the text has no searchable token (then nothing can match).
    """
    tokens = cut(text)
    if not tokens:
        return None
    return " ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens))


class SQLiteStore(Store):
    """The embedded store. Safe to share between threads; one writer at a time."""

    backend = "sqlite"

    def __init__(self, path: str | Path, *, batch_size: int = 2000) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self._write_lock = threading.RLock()
        self._read_lock = threading.RLock()
        try:
            self._db = self._connect()
            self._migrate()
            self._reader = self._connect()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the SQLite store ({exc})") from None

    # -- connections and schema ----------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA cache_size=-65536")
        db.execute("PRAGMA temp_store=MEMORY")
        # Per connection and in memory: search() collects one query's matches here.
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS hits("
            "rowid INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, source TEXT NOT NULL)"
        )
        return db

    def _migrate(self) -> None:
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
                row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                current = int(row[0]) if row else 0
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {current} is newer than this Tingfeng "
                        f"supports ({SCHEMA_VERSION}); upgrade Tingfeng"
                    )
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
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        row = self._read("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _read(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._read_lock:
            return self._reader.execute(sql, tuple(params))

    def close(self) -> None:
        for db in (getattr(self, "_reader", None), getattr(self, "_db", None)):
            if db is not None:
                db.close()

    # -- posts ---------------------------------------------------------------------------
    def upsert_posts(self, posts: Iterable[Post]) -> UpsertResult:
        return self.upsert_prepared(PreparedPost.of(post) for post in posts)

    def upsert_prepared(self, items: Iterable[PreparedPost]) -> UpsertResult:
        result = UpsertResult()
        batch: dict[str, PreparedPost] = {}
        for item in items:
            earlier = batch.get(item.id)
            if earlier is not None:  # the same post twice in one batch: merge first
                merged = merge_post(earlier.post(), item.post())
                item = PreparedPost.of(merged) if merged else earlier
            batch[item.id] = item
            if len(batch) >= self.batch_size:
                result += self._upsert_batch(list(batch.values()))
                batch = {}
        if batch:
            result += self._upsert_batch(list(batch.values()))
        return result

    def _upsert_batch(self, items: list[PreparedPost]) -> UpsertResult:
        result = UpsertResult()
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                existing = self._existing(db, [p.id for p in items])
                next_rowid = (db.execute("SELECT max(rowid) FROM posts").fetchone()[0] or 0) + 1
                new_rows, fts_rows, region_rows = [], [], []
                for item in items:
                    found = existing.get(item.id)
                    if found is None:
                        rowid, next_rowid = next_rowid, next_rowid + 1
                        new_rows.append(self._row(rowid, item))
                        fts_rows.append((rowid, item.tokens))
                        region_rows.extend((r, rowid) for r in item.region_tags)
                        result.inserted += 1
                        continue
                    rowid, old_doc = found
                    if old_doc == item.doc:  # byte-identical re-import: nothing to merge
                        result.unchanged += 1
                        continue
                    old = Post.model_validate_json(old_doc)
                    merged = merge_post(old, item.post())
                    if merged is None:
                        result.unchanged += 1
                        continue
                    self._update(db, rowid, old, merged)
                    result.updated += 1
                db.executemany(
                    "INSERT INTO posts(rowid, id, source, kind, created_at, author_id, root_id,"
                    " incident_id, rumor_score, fetched_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [row[:-1] for row in new_rows],
                )
                db.executemany(
                    "INSERT INTO post_docs(rowid, doc) VALUES (?, ?)",
                    [(row[0], row[-1]) for row in new_rows],
                )
                db.executemany("INSERT INTO posts_fts(rowid, tokens) VALUES (?, ?)", fts_rows)
                db.executemany(
                    "INSERT OR IGNORE INTO post_regions(region, post_rowid) VALUES (?, ?)",
                    region_rows,
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return result

    @staticmethod
    def _row(rowid: int, p: PreparedPost) -> tuple[Any, ...]:
        return (
            rowid, p.id, p.source, p.kind, p.created_at, p.author_id, p.root_id,
            p.incident_id, p.rumor_score, p.fetched_at, p.doc,
        )  # fmt: skip

    def _existing(self, db: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        """Stored ``(rowid, doc)`` of the given ids that exist."""
        found: dict[str, tuple[int, bytes]] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for rowid, post_id, doc in db.execute(
                "SELECT p.rowid, p.id, d.doc FROM posts p JOIN post_docs d ON d.rowid = p.rowid"
                f" WHERE p.id IN ({marks})",
                chunk,
            ):
                found[post_id] = (rowid, doc)
        return found

    def _update(self, db: sqlite3.Connection, rowid: int, old: Post, new: Post) -> None:
        prepared = PreparedPost.of(new)
        row = self._row(rowid, prepared)
        db.execute(
            "UPDATE posts SET source=?, kind=?, created_at=?, author_id=?, root_id=?,"
            " incident_id=?, rumor_score=?, fetched_at=? WHERE rowid=?",
            (*row[2:-1], rowid),
        )
        db.execute("UPDATE post_docs SET doc=? WHERE rowid=?", (row[-1], rowid))
        if (old.title, old.text) != (new.title, new.text):
            db.execute("DELETE FROM posts_fts WHERE rowid=?", (rowid,))
            db.execute(
                "INSERT INTO posts_fts(rowid, tokens) VALUES (?, ?)", (rowid, prepared.tokens)
            )
        if set(old.region_tags) != set(new.region_tags):
            db.execute("DELETE FROM post_regions WHERE post_rowid=?", (rowid,))
            db.executemany(
                "INSERT OR IGNORE INTO post_regions(region, post_rowid) VALUES (?, ?)",
                [(r, rowid) for r in new.region_tags],
            )

    def set_post_fields(self, updates: dict[str, dict[str, Any]]) -> int:
        allowed = {"incident_id", "rumor_score", "region_tags", "near_duplicate_of", "extra"}
        changed = 0
        items = list(updates.items())
        for start in range(0, len(items), self.batch_size):
            chunk = dict(items[start : start + self.batch_size])
            with self._write_lock:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    existing = self._existing(db, list(chunk))
                    for post_id, fields in chunk.items():
                        bad = set(fields) - allowed
                        if bad:
                            raise StoreError(f"set_post_fields: cannot set {sorted(bad)}")
                        if post_id not in existing:
                            continue
                        rowid, old_doc = existing[post_id]
                        old = Post.model_validate_json(old_doc)
                        new = old.model_copy(update=fields)
                        new = Post.model_validate(new.model_dump())
                        if new != old:
                            self._update(db, rowid, old, new)
                            changed += 1
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        return changed

    def get_post(self, post_id: str) -> Post | None:
        row = self._read(
            "SELECT d.doc FROM posts p JOIN post_docs d ON d.rowid = p.rowid WHERE p.id=?",
            (post_id,),
        ).fetchone()
        return Post.model_validate_json(row[0]) if row else None

    def get_posts(self, post_ids: Iterable[str]) -> list[Post]:
        ids = list(dict.fromkeys(post_ids))
        by_id: dict[str, Post] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for (doc,) in self._read(
                "SELECT d.doc FROM posts p JOIN post_docs d ON d.rowid = p.rowid"
                f" WHERE p.id IN ({marks})",
                chunk,
            ):
                post = Post.model_validate_json(doc)
                by_id[post.id] = post
        return [by_id[i] for i in ids if i in by_id]

    # -- filtering -----------------------------------------------------------------------
    @staticmethod
    def _where(flt: PostFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if flt.since is not None:
            clauses.append("p.created_at >= ?")
            params.append(_ts(flt.since))
        if flt.until is not None:
            clauses.append("p.created_at < ?")
            params.append(_ts(flt.until))
        if flt.fetched_since is not None:
            clauses.append("p.fetched_at >= ?")
            params.append(_ts(flt.fetched_since))
        for column, values in (
            ("p.source", flt.sources),
            ("p.author_id", flt.authors),
            ("p.incident_id", flt.incident_ids),
            ("p.kind", flt.kinds),
            ("p.root_id", flt.root_ids),
        ):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if flt.regions:
            marks = ",".join("?" * len(flt.regions))
            clauses.append(
                f"p.rowid IN (SELECT post_rowid FROM post_regions WHERE region IN ({marks}))"
            )
            params.extend(flt.regions)
        if flt.min_rumor_score is not None:
            clauses.append("p.rumor_score >= ?")
            params.append(flt.min_rumor_score)
        if flt.max_rumor_score is not None:
            clauses.append("p.rumor_score <= ?")
            params.append(flt.max_rumor_score)
        return clauses, params

    def _from(self, flt: PostFilter, text: str) -> tuple[str, list[Any], bool] | None:
        """FROM + WHERE for a filter and optional full-text query; None when nothing matches."""
        clauses, params = self._where(flt)
        if text.strip():
            match = _fts_match(text)
            if match is None:
                return None
            sql = "FROM posts_fts JOIN posts p ON p.rowid = posts_fts.rowid WHERE posts_fts MATCH ?"
            params = [match, *params]
            if clauses:
                sql += " AND " + " AND ".join(clauses)
            return sql, params, True
        sql = "FROM posts p" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        return sql, params, False

    def count_posts(self, flt: PostFilter | None = None) -> int:
        frm = self._from(flt or PostFilter(), "")
        assert frm is not None
        return int(self._read(f"SELECT count(*) {frm[0]}", frm[1]).fetchone()[0])

    def search(self, query: SearchQuery) -> SearchResult:
        frm = self._from(query, query.text)
        if frm is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in query.facets})
        sql_from, params, fulltext = frm
        direction = "ASC" if query.sort == "time_asc" else "DESC"
        by_time = f"ORDER BY p.created_at {direction}, p.rowid {direction}"
        with self._read_lock:
            if fulltext:
                # Match and filter once into a temporary table, then count, facet and page
                # from it: each of those used to repeat the full-text scan and the join.
                self._reader.execute("DELETE FROM temp.hits")
                self._reader.execute(
                    f"INSERT INTO temp.hits SELECT p.rowid, p.created_at, p.source {sql_from}",
                    params,
                )
                total, facets = self._aggregate("FROM temp.hits p", [], query.facets)
                if query.sort == "relevance":
                    # bm25() in the select list is computed only for rows that survive the
                    # join, where the ``rank`` column is computed for every match (7× slower
                    # for a common word in a narrow time window). CROSS JOIN keeps the
                    # full-text scan outermost.
                    page_sql = (
                        "SELECT p.rowid, bm25(posts_fts) AS score FROM posts_fts"
                        " CROSS JOIN temp.hits p ON p.rowid = posts_fts.rowid"
                        " WHERE posts_fts MATCH ? ORDER BY score LIMIT ? OFFSET ?"
                    )
                    page_params = [params[0], query.limit, query.offset]
                else:
                    page_sql = f"SELECT p.rowid, NULL FROM temp.hits p {by_time} LIMIT ? OFFSET ?"
                    page_params = [query.limit, query.offset]
            else:
                total, facets = self._aggregate(sql_from, params, query.facets)
                page_sql = f"SELECT p.rowid, NULL {sql_from} {by_time} LIMIT ? OFFSET ?"
                page_params = [*params, query.limit, query.offset]
            page = self._read(page_sql, page_params).fetchall()
        docs = self._docs([rowid for rowid, _ in page])
        rows = [(docs[rowid], rank) for rowid, rank in page]
        terms = query_terms(query.text) if query.text else []
        hits = []
        for doc, rank in rows:
            post = Post.model_validate_json(doc)
            body = post.text or post.title or ""
            hits.append(
                SearchHit(
                    post=post,
                    score=None if rank is None else -float(rank),
                    snippet=snippet(body, terms) if terms else snippet(body, []),
                )
            )
        return SearchResult(total=total, hits=hits, facets=facets)

    def _docs(self, rowids: list[int]) -> dict[int, bytes]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        return dict(
            self._read(f"SELECT rowid, doc FROM post_docs WHERE rowid IN ({marks})", rowids)
        )

    def _aggregate(self, sql_from: str, params: list[Any], wanted: list[str]) -> tuple[int, Facets]:
        """Total and the day/hour/source facets from ONE grouped scan of the matches."""
        hourly = "hour" in wanted
        bucket = f"(p.created_at + {LOCAL_OFFSET}) / {3600 if hourly else 86400}"
        rows = self._read(
            f"SELECT {bucket} AS b, p.source, count(*) {sql_from} GROUP BY b, p.source", params
        ).fetchall()
        total = sum(r[2] for r in rows)
        facets: Facets = {}
        by_source: dict[str, int] = {}
        by_day: dict[int, int] = {}
        by_hour: dict[int, int] = {}
        for b, source, n in rows:
            by_source[source] = by_source.get(source, 0) + n
            day = b // 24 if hourly else b
            by_day[day] = by_day.get(day, 0) + n
            if hourly:
                by_hour[b] = by_hour.get(b, 0) + n
        epoch = datetime(1970, 1, 1)
        if "day" in wanted:
            facets["day"] = [
                ((epoch + timedelta(days=d)).strftime("%Y-%m-%d"), n)
                for d, n in sorted(by_day.items())
            ]
        if hourly:
            facets["hour"] = [
                ((epoch + timedelta(hours=h)).strftime("%Y-%m-%dT%H:00"), n)
                for h, n in sorted(by_hour.items())
            ]
        if "source" in wanted:
            facets["source"] = sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))
        if "region" in wanted:
            facets["region"] = self._region_facet(sql_from, params)
        return total, facets

    def _region_facet(self, sql_from: str, params: list[Any]) -> list[tuple[str, int]]:
        rows = self._read(
            f"SELECT r.region, count(*) FROM post_regions r WHERE r.post_rowid IN "
            f"(SELECT p.rowid {sql_from}) GROUP BY r.region ORDER BY count(*) DESC, r.region",
            params,
        ).fetchall()
        return [(region, int(n)) for region, n in rows]

    def iter_posts(
        self, flt: PostFilter | None = None, *, text: str = "", order: str = "time_asc"
    ) -> Iterator[Post]:
        frm = self._from(flt or PostFilter(), text)
        if frm is None:
            return
        direction = "DESC" if order == "time_desc" else "ASC"
        # A dedicated connection: the cursor stays open while the caller consumes it.
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        try:
            cursor = db.execute(
                f"SELECT (SELECT doc FROM post_docs d WHERE d.rowid = p.rowid) {frm[0]}"
                f" ORDER BY p.created_at {direction}, p.rowid {direction}",
                frm[1],
            )
            while rows := cursor.fetchmany(1000):
                for (doc,) in rows:
                    yield Post.model_validate_json(doc)
        finally:
            db.close()

    # -- snapshots -----------------------------------------------------------------------
    def add_snapshots(self, snapshots: Iterable[MetricSnapshot]) -> int:
        rows = [(s.post_id, _ts(s.observed_at), s.reposts, s.comments, s.likes) for s in snapshots]
        if not rows:
            return 0
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                before = db.total_changes
                db.executemany(
                    "INSERT OR IGNORE INTO snapshots(post_id, observed_at, reposts, comments,"
                    " likes) VALUES (?,?,?,?,?)",
                    rows,
                )
                added = db.total_changes - before
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return added

    def get_snapshots(
        self, post_ids: Iterable[str], since: datetime | None = None
    ) -> list[MetricSnapshot]:
        ids = list(dict.fromkeys(post_ids))
        out: list[MetricSnapshot] = []
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            sql = (
                "SELECT post_id, observed_at, reposts, comments, likes FROM snapshots "
                f"WHERE post_id IN ({','.join('?' * len(chunk))})"
            )
            params: list[Any] = list(chunk)
            if since is not None:
                sql += " AND observed_at >= ?"
                params.append(_ts(since))
            for post_id, at, reposts, comments, likes in self._read(sql, params):
                out.append(
                    MetricSnapshot(
                        post_id=post_id,
                        observed_at=datetime.fromtimestamp(at, UTC),
                        reposts=reposts,
                        comments=comments,
                        likes=likes,
                    )
                )
        out.sort(key=lambda s: (s.post_id, s.observed_at))
        return out

    # -- records -------------------------------------------------------------------------
    def save_record(self, record: R) -> R:
        kind = type(record).kind
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT version FROM records WHERE kind=? AND id=?", (kind, record.id)
                ).fetchone()
                stored = row[0] if row else None
                if (stored or 0) != record.version:
                    raise ConflictError(kind, record.id, record.version, stored)
                now = datetime.now(UTC)
                saved = record.model_copy(update={"version": record.version + 1, "updated_at": now})
                db.execute(
                    "INSERT OR REPLACE INTO records(kind, id, version, updated_at, doc)"
                    " VALUES (?,?,?,?,?)",
                    (kind, saved.id, saved.version, _ts(now), saved.model_dump_json().encode()),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return saved

    def save_records(self, records: Sequence[Record]) -> list[Record]:
        """All records in one ``BEGIN IMMEDIATE`` transaction: every version is checked
        first, and one conflict saves none of them."""
        now = datetime.now(UTC)
        saved: list[Record] = []
        with self._write_lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for record in records:
                    kind = type(record).kind
                    row = db.execute(
                        "SELECT version FROM records WHERE kind=? AND id=?", (kind, record.id)
                    ).fetchone()
                    stored = row[0] if row else None
                    if (stored or 0) != record.version:
                        raise ConflictError(kind, record.id, record.version, stored)
                    copy = record.model_copy(
                        update={"version": record.version + 1, "updated_at": now}
                    )
                    db.execute(
                        "INSERT OR REPLACE INTO records(kind, id, version, updated_at, doc)"
                        " VALUES (?,?,?,?,?)",
                        (kind, copy.id, copy.version, _ts(now), copy.model_dump_json().encode()),
                    )
                    saved.append(copy)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return saved

    def get_record(self, cls: type[R], record_id: str) -> R | None:
        row = self._read(
            "SELECT doc FROM records WHERE kind=? AND id=?", (cls.kind, record_id)
        ).fetchone()
        return cls.model_validate_json(row[0]) if row else None

    def list_records(
        self, cls: type[R], *, limit: int = 100, offset: int = 0, **equals: Any
    ) -> list[R]:
        sql = "SELECT doc FROM records WHERE kind=?"
        params: list[Any] = [cls.kind]
        for field, value in equals.items():
            if field not in cls.model_fields:
                raise StoreError(f"list_records: {cls.kind} has no field {field!r}")
            sql += f" AND json_extract(doc, '$.{field}') IS ?"
            params.append(value.value if hasattr(value, "value") else value)
        sql += " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
        params += [limit, offset]
        return [cls.model_validate_json(doc) for (doc,) in self._read(sql, params)]

    def count_records(self, cls: type[Record]) -> int:
        row = self._read("SELECT count(*) FROM records WHERE kind=?", (cls.kind,)).fetchone()
        return int(row[0])

    # -- state ---------------------------------------------------------------------------
    def get_state(self, key: str) -> Any | None:
        row = self._read("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def set_state(self, key: str, value: Any) -> None:
        with self._write_lock:
            self._db.execute(
                "INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)",
                (key, orjson.dumps(value, default=str)),
            )

    # -- overview ------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        per_source = dict(
            self._read("SELECT source, count(*) FROM posts GROUP BY source ORDER BY source")
        )
        kinds = dict(self._read("SELECT kind, count(*) FROM records GROUP BY kind"))
        snapshots = self._read("SELECT count(*) FROM snapshots").fetchone()[0]
        return {
            "backend": self.backend,
            "posts": sum(per_source.values()),
            "snapshots": snapshots,
            "incidents": kinds.get("incident", 0),
            "alerts": kinds.get("alert", 0),
            "bulletins": kinds.get("bulletin", 0),
            "per_source": per_source,
        }
