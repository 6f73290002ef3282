"""SQLite posts, full-text search and metric snapshots.

- A post is stored whole as JSON in ``post_docs``; ``posts`` holds only the narrow columns
  filters and facets read, so scanning thousands of matches never touches the documents.
- Full text: FTS5 over jieba-pretokenised text (space-joined tokens from
  :func:`nlp.tokenize.index_text`), so no SQLite tokenizer extension is needed. User query
  strings are turned into quoted FTS5 string tokens: no input can raise an FTS syntax error.
- Reads never fail on a stored post whatever its dates: documents are read back leniently
  (see :func:`load_post`), so one bad row cannot break a search, an export or a replay.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from models import MetricSnapshot, Post
from nlp.tokenize import cut
from store.base import (
    Facets,
    PostFilter,
    PreparedPost,
    SearchHit,
    SearchQuery,
    SearchResult,
    StoreError,
    UpsertResult,
)
from store.highlight import query_terms, snippet
from store.merge import merge_post
from store.sqlite_schema import Connections, ts

#: China has no daylight-saving time, so local days and hours are a fixed offset from UTC.
LOCAL_OFFSET = 8 * 3600
_IN_CHUNK = 500  # ids per "IN (...)" clause, well under SQLite's variable limit
#: Posts per transaction while bulk loading an empty store (:meth:`Connections.bulk_load`).
BULK_BATCH = 20_000
#: Fields :meth:`PostTables.set_post_fields` may change.
SETTABLE = frozenset({"incident_id", "rumor_score", "region_tags", "near_duplicate_of", "extra"})
#: Stored times beyond these cannot be shown in every time zone (datetime overflows); such
#: rows (written before imports refused impossible dates) are read with a clamped time.
_SAFE_MIN = datetime(1, 1, 2, tzinfo=UTC)
_SAFE_MAX = datetime(9999, 12, 30, tzinfo=UTC)


def fts_match(text: str) -> str | None:
    """FTS5 expression for user text: every query token as a quoted string, ANDed.

    Quoting makes ``*``, ``NEAR``, ``-``, ``:``, ``(`` and ``"`` plain characters. Returns
    ``None`` when the text has no searchable token (then nothing can match).
    """
    tokens = cut(text)
    if not tokens:
        return None
    return " ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens))


def _safe_time(value: datetime) -> datetime:
    try:
        value.astimezone(UTC) + timedelta(days=1)
        value.astimezone(UTC) - timedelta(days=1)
    except OverflowError:
        return _SAFE_MIN if value.year < 5000 else _SAFE_MAX
    return value


def load_post(doc: bytes) -> Post:
    """A stored document as a :class:`Post`; times that would overflow are clamped."""
    post = Post.model_validate_json(doc)
    created, fetched = _safe_time(post.created_at), _safe_time(post.fetched_at)
    if created is not post.created_at or fetched is not post.fetched_at:
        post = post.model_copy(update={"created_at": created, "fetched_at": fetched})
    return post


def _post(p: PreparedPost) -> Post:
    """The post of a prepared row (a PreparedPost or a plain tuple in its field order)."""
    return Post.model_validate_json(p[9])


def _row(rowid: int, p: PreparedPost) -> tuple[Any, ...]:
    return (
        rowid, p.id, p.source, p.kind, p.created_at, p.author_id, p.root_id,
        p.incident_id, p.rumor_score, p.fetched_at, p.doc,
    )  # fmt: skip


def _where(flt: PostFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.since is not None:
        clauses.append("p.created_at >= ?")
        params.append(ts(flt.since))
    if flt.until is not None:
        clauses.append("p.created_at < ?")
        params.append(ts(flt.until))
    if flt.fetched_since is not None:
        clauses.append("p.fetched_at >= ?")
        params.append(ts(flt.fetched_since))
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


def _from(flt: PostFilter, text: str) -> tuple[str, list[Any], bool] | None:
    """FROM + WHERE for a filter and optional full-text query; None when nothing matches."""
    clauses, params = _where(flt)
    if text.strip():
        match = fts_match(text)
        if match is None:
            return None
        sql = "FROM posts_fts JOIN posts p ON p.rowid = posts_fts.rowid WHERE posts_fts MATCH ?"
        params = [match, *params]
        if clauses:
            sql += " AND " + " AND ".join(clauses)
        return sql, params, True
    sql = "FROM posts p" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    return sql, params, False


def _bucket_label(start: datetime, step: timedelta, n: int, fmt: str) -> str:
    try:
        return (start + step * n).strftime(fmt)
    except OverflowError:  # a stored time no calendar can show
        return "?"


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=8192)
def _day_label(day: int) -> str:
    """``YYYY-MM-DD`` of a local day number (days since 1970-01-01): a facet of a common
    word has a bucket for most days of years of posts, and strftime per bucket showed."""
    try:
        return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    except (OverflowError, ValueError):  # a stored time no calendar can show
        return "?"


class PostTables:
    """Posts (with their FTS rows and region rows) and metric snapshots."""

    def __init__(self, conns: Connections, batch_size: int) -> None:
        self.conns = conns
        self.batch_size = batch_size

    # -- writing -------------------------------------------------------------------------
    def upsert_prepared(self, items: Iterable[PreparedPost]) -> UpsertResult:
        # Fields by position: bulk imports hand plain tuples in PreparedPost's field order
        # (building a named tuple per post is measurable at a million posts).
        result = UpsertResult()
        # A bulk load into an empty store writes a whole flush of the import in one
        # transaction (fewer commits, each B-tree and FTS page written fewer times).
        limit = max(self.batch_size, BULK_BATCH) if self.conns.bulk_loading else self.batch_size
        # One batch (a bulk import's flush): when every id occurs once, as nearly always,
        # no per-post merge loop is needed.
        if (
            isinstance(items, list)
            and len(items) <= limit
            and len({item[0] for item in items}) == len(items)
        ):
            return self._upsert_batch(items) if items else result
        batch: dict[str, PreparedPost] = {}
        for item in items:
            key = item[0]
            earlier = batch.get(key)
            if earlier is not None:  # the same post twice in one batch: merge first
                merged = merge_post(_post(earlier), _post(item))
                item = PreparedPost.of(merged) if merged else earlier
            batch[key] = item
            if len(batch) >= limit:
                result += self._upsert_batch(list(batch.values()))
                batch = {}
        if batch:
            result += self._upsert_batch(list(batch.values()))
        return result

    def _upsert_batch(self, items: list[PreparedPost]) -> UpsertResult:
        updated = unchanged = 0  # plain ints: a model attribute write per post is slow
        with self.conns.write() as db:
            next_rowid = (db.execute("SELECT max(rowid) FROM posts").fetchone()[0] or 0) + 1
            if self.conns.bulk_loading:  # items hold each id once (upsert_prepared)
                # A bulk load into an empty store: its posts are new but for the rare
                # duplicate id, which the unique index refuses; then this batch takes the
                # ordinary path below. Saves looking up every id first.
                db.execute("SAVEPOINT fresh")
                try:
                    self._insert_new(db, next_rowid, items)
                except sqlite3.IntegrityError:
                    db.execute("ROLLBACK TO fresh")
                else:
                    db.execute("RELEASE fresh")
                    return UpsertResult(inserted=len(items))
                db.execute("RELEASE fresh")
            existing = self._existing(db, [p[0] for p in items])
            new_items = items
            if existing:
                new_items = []
                for item in items:
                    found = existing.get(item[0])
                    if found is None:
                        new_items.append(item)
                        continue
                    rowid, old_doc = found
                    if old_doc == item[9]:  # byte-identical re-import: nothing to merge
                        unchanged += 1
                        continue
                    old = Post.model_validate_json(old_doc)
                    merged = merge_post(old, _post(item))
                    if merged is None:
                        unchanged += 1
                        continue
                    self._update(db, rowid, old, merged)
                    updated += 1
            self._insert_new(db, next_rowid, new_items)
        return UpsertResult(inserted=len(new_items), updated=updated, unchanged=unchanged)

    @staticmethod
    def _insert_new(db: sqlite3.Connection, next_rowid: int, new_items: list[PreparedPost]) -> None:
        """Insert posts whose ids are not stored, from rowid ``next_rowid`` on."""
        # Parameters straight from the prepared tuples (fields by position: id, source,
        # kind, created_at, author_id, root_id, incident_id, rumor_score, region_tags,
        # doc, tokens, fetched_at), one list per statement.
        rowids = range(next_rowid, next_rowid + len(new_items))
        db.executemany(
            "INSERT INTO posts(rowid, id, source, kind, created_at, author_id, root_id,"
            " incident_id, rumor_score, fetched_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(r, *p[:8], p[11]) for r, p in zip(rowids, new_items, strict=True)],
        )
        db.executemany(
            "INSERT INTO post_docs(rowid, doc) VALUES (?, ?)",
            [(r, p[9]) for r, p in zip(rowids, new_items, strict=True)],
        )
        db.executemany(
            "INSERT INTO posts_fts(rowid, tokens) VALUES (?, ?)",
            [(r, p[10]) for r, p in zip(rowids, new_items, strict=True)],
        )
        region_rows = [(t, r) for r, p in zip(rowids, new_items, strict=True) if p[8] for t in p[8]]
        if region_rows:
            db.executemany(
                "INSERT OR IGNORE INTO post_regions(region, post_rowid) VALUES (?, ?)",
                region_rows,
            )

    @staticmethod
    def _existing(db: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        """Stored ``(rowid, doc)`` of the given ids that exist (documents are read only for
        the ids found: on a fresh import there are none)."""
        rowids: dict[int, str] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rowids.update(db.execute(f"SELECT rowid, id FROM posts WHERE id IN ({marks})", chunk))
        found: dict[str, tuple[int, bytes]] = {}
        keys = list(rowids)
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for rowid, doc in db.execute(
                f"SELECT rowid, doc FROM post_docs WHERE rowid IN ({marks})", chunk
            ):
                found[rowids[rowid]] = (rowid, doc)
        return found

    @staticmethod
    def _update(db: sqlite3.Connection, rowid: int, old: Post, new: Post) -> None:
        prepared = PreparedPost.of(new)
        row = _row(rowid, prepared)
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
        for fields in updates.values():
            bad = set(fields) - SETTABLE
            if bad:
                raise StoreError(f"set_post_fields: cannot set {sorted(bad)}")
        changed = 0
        items = list(updates.items())
        for start in range(0, len(items), self.batch_size):
            chunk = dict(items[start : start + self.batch_size])
            with self.conns.write() as db:
                existing = self._existing(db, list(chunk))
                for post_id, fields in chunk.items():
                    if post_id not in existing:
                        continue
                    rowid, old_doc = existing[post_id]
                    old = Post.model_validate_json(old_doc)
                    new = Post.model_validate(old.model_copy(update=fields).model_dump())
                    if new != old:
                        self._update(db, rowid, old, new)
                        changed += 1
        return changed

    # -- reading -------------------------------------------------------------------------
    def get_post(self, post_id: str) -> Post | None:
        row = self.conns.read(
            "SELECT d.doc FROM posts p JOIN post_docs d ON d.rowid = p.rowid WHERE p.id=?",
            (post_id,),
        ).fetchone()
        return load_post(row[0]) if row else None

    def get_posts(self, post_ids: Iterable[str]) -> list[Post]:
        ids = list(dict.fromkeys(post_ids))
        by_id: dict[str, Post] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for (doc,) in self.conns.read(
                "SELECT d.doc FROM posts p JOIN post_docs d ON d.rowid = p.rowid"
                f" WHERE p.id IN ({marks})",
                chunk,
            ):
                post = load_post(doc)
                by_id[post.id] = post
        return [by_id[i] for i in ids if i in by_id]

    def count_posts(self, flt: PostFilter | None = None) -> int:
        frm = _from(flt or PostFilter(), "")
        assert frm is not None
        return int(self.conns.read(f"SELECT count(*) {frm[0]}", frm[1]).fetchone()[0])

    def search(self, query: SearchQuery) -> SearchResult:
        frm = _from(query, query.text)
        if frm is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in query.facets})
        sql_from, params, fulltext = frm
        direction = "ASC" if query.sort == "time_asc" else "DESC"
        by_time = f"ORDER BY p.created_at {direction}, p.rowid {direction}"
        db = self.conns.reader()  # this thread's own connection: temp.hits is private to it
        if fulltext:
            # Match and filter once into a temporary table, then count, facet and page
            # from it: each of those used to repeat the full-text scan and the join.
            # For relevance the bm25 score is taken in the same scan: bm25() in the select
            # list is computed only for rows that survive the filters (the ``rank`` column
            # would be computed for every match, 7x slower for a common word in a narrow
            # time window), and the full-text scan is not repeated to rank the page.
            relevance = query.sort == "relevance"
            score = "bm25(posts_fts)" if relevance else "NULL"
            db.execute("DELETE FROM temp.hits")
            db.execute(
                f"INSERT INTO temp.hits SELECT p.rowid, p.created_at, p.source, {score} {sql_from}",
                params,
            )
            total, facets = self._aggregate(db, "FROM temp.hits p", [], query.facets)
            if relevance:
                page_sql = (
                    "SELECT p.rowid, p.score FROM temp.hits p"
                    " ORDER BY p.score, p.rowid LIMIT ? OFFSET ?"
                )
                page_params = [query.limit, query.offset]
            else:
                page_sql = f"SELECT p.rowid, NULL FROM temp.hits p {by_time} LIMIT ? OFFSET ?"
                page_params = [query.limit, query.offset]
        else:
            total, facets = self._aggregate(db, sql_from, params, query.facets)
            page_sql = f"SELECT p.rowid, NULL {sql_from} {by_time} LIMIT ? OFFSET ?"
            page_params = [*params, query.limit, query.offset]
        page = db.execute(page_sql, page_params).fetchall()
        docs = self._docs(db, [rowid for rowid, _ in page])
        terms = query_terms(query.text) if query.text and query.snippets else []
        hits = []
        for rowid, rank in page:
            post = load_post(docs[rowid])
            body = post.text or post.title or ""
            hits.append(
                SearchHit(
                    post=post,
                    score=None if rank is None else -float(rank),
                    snippet=snippet(body, terms) if query.snippets else "",
                )
            )
        return SearchResult(total=total, hits=hits, facets=facets)

    @staticmethod
    def _docs(db: sqlite3.Connection, rowids: list[int]) -> dict[int, bytes]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        sql = f"SELECT rowid, doc FROM post_docs WHERE rowid IN ({marks})"
        return dict(db.execute(sql, rowids))

    def _aggregate(
        self, db: sqlite3.Connection, sql_from: str, params: list[Any], wanted: list[str]
    ) -> tuple[int, Facets]:
        """Total and the day/hour/source facets from ONE grouped scan of the matches."""
        hourly = "hour" in wanted
        bucket = f"(p.created_at + {LOCAL_OFFSET}) / {3600 if hourly else 86400}"
        rows = db.execute(
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
            facets["day"] = [(_day_label(d), n) for d, n in sorted(by_day.items())]
        if hourly:
            facets["hour"] = [
                (_bucket_label(epoch, timedelta(hours=1), h, "%Y-%m-%dT%H:00"), n)
                for h, n in sorted(by_hour.items())
            ]
        if "source" in wanted:
            facets["source"] = sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))
        if "region" in wanted:
            rows = db.execute(
                f"SELECT r.region, count(*) FROM post_regions r WHERE r.post_rowid IN "
                f"(SELECT p.rowid {sql_from}) GROUP BY r.region ORDER BY count(*) DESC, r.region",
                params,
            ).fetchall()
            facets["region"] = [(region, int(n)) for region, n in rows]
        return total, facets

    def iter_posts(
        self, flt: PostFilter | None = None, *, text: str = "", order: str = "time_asc"
    ) -> Iterator[Post]:
        frm = _from(flt or PostFilter(), text)
        if frm is None:
            return
        direction = "DESC" if order == "time_desc" else "ASC"
        # A dedicated connection: the cursor stays open while the caller consumes it.
        # Inside a transaction, the writer: it alone sees what the transaction wrote.
        shared = self.conns.in_transaction()
        db = self.conns.reader() if shared else self.conns.connect_reader()
        try:
            cursor = db.execute(
                f"SELECT (SELECT doc FROM post_docs d WHERE d.rowid = p.rowid) {frm[0]}"
                f" ORDER BY p.created_at {direction}, p.rowid {direction}",
                frm[1],
            )
            while rows := cursor.fetchmany(1000):
                for (doc,) in rows:
                    yield load_post(doc)
        finally:
            if not shared:
                db.close()

    # -- snapshots -----------------------------------------------------------------------
    def add_snapshots(self, snapshots: Iterable[MetricSnapshot]) -> int:
        rows = [(s.post_id, ts(s.observed_at), s.reposts, s.comments, s.likes) for s in snapshots]
        if not rows:
            return 0
        with self.conns.write() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO snapshots(post_id, observed_at, reposts, comments,"
                " likes) VALUES (?,?,?,?,?)",
                rows,
            )
            return db.total_changes - before

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
                params.append(ts(since))
            for post_id, at, reposts, comments, likes in self.conns.read(sql, params):
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
