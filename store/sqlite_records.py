"""SQLite versioned records (incidents, alerts, bulletins...), key/value state, overview."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from models import Alert, Incident, Record, Tier
from store.base import ConflictError, IncidentPage, IncidentQuery, R, StoreError
from store.incident_fields import KEYWORD_SEP, NO_TIER, fold, micros
from store.sqlite_schema import (
    INCIDENT_ROW_SQL,
    Connections,
    incident_row,
    ts,
    write_alert_tier,
)

#: ORDER BY of each incident sort (NULLs sort last in descending order, as promised).
_INCIDENT_ORDER = {
    "heat": "i.heat DESC, i.id",
    "last_seen": "i.last_seen_us DESC, i.id",
    "rumor": "i.rumor_score DESC, i.id",
    "size": "i.post_count DESC, i.id",
}


def _incident_where(q: IncidentQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if q.hot is not None:
        clauses.append("i.hot = ?")
        params.append(int(q.hot))
    for column, value in (("i.district", q.district), ("i.category", q.category)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if q.seen_since is not None:
        clauses.append("i.last_seen_us >= ?")
        params.append(micros(q.seen_since))
    if q.seen_until is not None:
        clauses.append("i.first_seen_us < ?")
        params.append(micros(q.seen_until))
    if q.min_rumor_score is not None:
        clauses.append("i.rumor_score >= ?")
        params.append(q.min_rumor_score)
    if q.below_rumor_score is not None:
        clauses.append("i.rumor_score < ?")
        params.append(q.below_rumor_score)
    if q.rumor_scored is not None:
        clauses.append("i.rumor_score IS NOT NULL" if q.rumor_scored else "i.rumor_score IS NULL")
    if q.text:
        needle = fold(q.text)
        if KEYWORD_SEP in needle:  # cannot lie inside one keyword
            clauses.append("instr(i.title_lc, ?) > 0")
            params.append(needle)
        else:
            clauses.append("(instr(i.title_lc, ?) > 0 OR instr(i.keywords_lc, ?) > 0)")
            params += [needle, needle]
    if q.tiers:
        named = [t for t in q.tiers if t != NO_TIER]
        either = []
        if named:
            either.append(f"i.tier IN ({','.join('?' * len(named))})")
            params += named
        if NO_TIER in q.tiers:
            either.append("i.tier IS NULL")
        clauses.append("(" + " OR ".join(either) + ")")
    # One JSON parameter however many ids (SQLite caps bound parameters at 32,766).
    if q.ids is not None:
        clauses.append("i.id IN (SELECT value FROM json_each(?))")
        params.append(orjson.dumps(q.ids).decode())
    if q.exclude_ids:
        clauses.append("i.id NOT IN (SELECT value FROM json_each(?))")
        params.append(orjson.dumps(q.exclude_ids).decode())
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class RecordTables:
    """Records with optimistic concurrency, the ``state`` table and :meth:`stats`."""

    def __init__(self, conns: Connections) -> None:
        self.conns = conns

    def save_record(self, record: R) -> R:
        return self.save_records([record])[0]  # type: ignore[return-value]

    def save_records(self, records: Sequence[Record]) -> list[Record]:
        """All records in one ``BEGIN IMMEDIATE`` transaction: every version is checked,
        and one conflict saves none of them (an alert change and its outbox messages).
        An incident's listing row and an alert's tier row (and its incident's current
        tier) are written in the same transaction."""
        now = datetime.now(UTC)
        saved: list[Record] = []
        with self.conns.write() as db:
            for record in records:
                kind = type(record).kind
                row = db.execute(
                    "SELECT version FROM records WHERE kind=? AND id=?", (kind, record.id)
                ).fetchone()
                stored = row[0] if row else None
                if (stored or 0) != record.version:
                    raise ConflictError(kind, record.id, record.version, stored)
                copy = record.model_copy(update={"version": record.version + 1, "updated_at": now})
                db.execute(
                    "INSERT OR REPLACE INTO records(kind, id, version, updated_at, doc)"
                    " VALUES (?,?,?,?,?)",
                    (kind, copy.id, copy.version, ts(now), copy.model_dump_json().encode()),
                )
                if isinstance(copy, Incident):
                    db.execute(INCIDENT_ROW_SQL, incident_row(copy))
                elif isinstance(copy, Alert):
                    write_alert_tier(db, copy)
                saved.append(copy)
        return saved

    def get_record(self, cls: type[R], record_id: str) -> R | None:
        row = self.conns.read(
            "SELECT doc FROM records WHERE kind=? AND id=?", (cls.kind, record_id)
        ).fetchone()
        return cls.model_validate_json(row[0]) if row else None

    def list_records(
        self, cls: type[R], *, limit: int = 100, offset: int = 0, **equals: Any
    ) -> list[R]:
        sql, params = self._listing(cls, "doc", limit, offset, equals)
        return [cls.model_validate_json(doc) for (doc,) in self.conns.read(sql, params)]

    @staticmethod
    def _listing(
        cls: type[R], columns: str, limit: int, offset: int, equals: dict[str, Any]
    ) -> tuple[str, list[Any]]:
        sql = f"SELECT {columns} FROM records WHERE kind=?"
        params: list[Any] = [cls.kind]
        for field, value in equals.items():
            if field not in cls.model_fields:
                raise StoreError(f"list_records: {cls.kind} has no field {field!r}")
            sql += f" AND json_extract(doc, '$.{field}') IS ?"
            params.append(value.value if hasattr(value, "value") else value)
        sql += " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
        params += [limit, offset]
        return sql, params

    def list_incidents(self, q: IncidentQuery) -> IncidentPage:
        """Filter, count, order and page on the ``incidents`` columns; only the page's
        documents are read. Two statements whatever the page size."""
        where, params = _incident_where(q)
        db = self.conns.reader()
        total = int(db.execute(f"SELECT count(*) FROM incidents i{where}", params).fetchone()[0])
        if total == 0 or q.limit == 0 or q.offset >= total:
            return IncidentPage(total=total, incidents=[])
        # CROSS JOIN keeps incidents the outer loop, so the ORDER BY walks its index and
        # stops at the page (the planner would otherwise scan every incident record).
        rows = db.execute(
            "SELECT r.doc, i.tier FROM incidents i CROSS JOIN records r"
            " ON r.kind = 'incident' AND r.id = i.id"
            f"{where} ORDER BY {_INCIDENT_ORDER[q.sort]} LIMIT ? OFFSET ?",
            [*params, q.limit, q.offset],
        ).fetchall()
        incidents = [Incident.model_validate_json(doc) for doc, _ in rows]
        tiers = {inc.id: Tier(t) for inc, (_, t) in zip(incidents, rows, strict=True) if t}
        return IncidentPage(total=total, incidents=incidents, tiers=tiers)

    def count_records(self, cls: type[Record]) -> int:
        row = self.conns.read("SELECT count(*) FROM records WHERE kind=?", (cls.kind,)).fetchone()
        return int(row[0])

    def get_state(self, key: str) -> Any | None:
        row = self.conns.read("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def set_state(self, key: str, value: Any) -> None:
        with self.conns.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)",
                (key, orjson.dumps(value, default=str)),
            )

    def update_state(self, key: str, change: Callable[[Any | None], Any | None]) -> Any | None:
        """Read, change and write one state value in one ``BEGIN IMMEDIATE`` transaction:
        the writers of every process take turns, so no change is lost."""
        with self.conns.write() as db:
            row = db.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
            value = change(orjson.loads(row[0]) if row else None)
            if value is None:
                db.execute("DELETE FROM state WHERE key=?", (key,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)",
                    (key, orjson.dumps(value, default=str)),
                )
        return value

    def stats(self, backend: str) -> dict[str, Any]:
        read = self.conns.read
        per_source = dict(
            read("SELECT source, count(*) FROM posts GROUP BY source ORDER BY source")
        )
        kinds = dict(read("SELECT kind, count(*) FROM records GROUP BY kind"))
        snapshots = read("SELECT count(*) FROM snapshots").fetchone()[0]
        return {
            "backend": backend,
            "posts": sum(per_source.values()),
            "snapshots": snapshots,
            "incidents": kinds.get("incident", 0),
            "alerts": kinds.get("alert", 0),
            "bulletins": kinds.get("bulletin", 0),
            "per_source": per_source,
        }
