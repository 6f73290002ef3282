"""SQLite versioned records (incidents, alerts, bulletins...), key/value state, overview."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from models import Record
from store.base import ConflictError, R, StoreError
from store.sqlite_schema import Connections, ts


class RecordTables:
    """Records with optimistic concurrency, the ``state`` table and :meth:`stats`."""

    def __init__(self, conns: Connections) -> None:
        self.conns = conns

    def save_record(self, record: R) -> R:
        kind = type(record).kind
        with self.conns.write() as db:
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
                (kind, saved.id, saved.version, ts(now), saved.model_dump_json().encode()),
            )
        return saved

    def get_record(self, cls: type[R], record_id: str) -> R | None:
        row = self.conns.read(
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
        return [cls.model_validate_json(doc) for (doc,) in self.conns.read(sql, params)]

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
