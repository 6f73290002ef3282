"""CPU of one incident-list page with the tier filter, as alerts pile up.

    .venv/bin/python bench/bench_incident_tiers.py [--incidents 3000] [--alerts 2000 20000]
        [--repeat 30]

Builds an SQLite store under a temporary folder with ``--incidents`` incident records and,
for each ``--alerts`` figure, that many incident alerts (mixed tiers, open and closed,
several per incident), then times in CPU seconds (``time.process_time``, which survives a
loaded machine better than wall-clock) what ``GET /api/v1/incidents?tier=I&tier=II``
computes: ``api.services.incidents.list_incidents_json`` with the answer cache off.

Printed beside it, in the same run:

- ``read-time``: the way the list resolved tiers before schema 4, kept here for the
  comparison: every alert's five fields read (one ``json_extract`` of the alert documents), each
  incident's current alert picked in Python, the wanted ids handed to the store;
- ``floor``: the bare SQL count and page on the ``incidents`` table with the same tier
  condition (no JSON, no models): what the indexed query itself costs.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from api.services.incidents import IncidentFilters, list_incidents_json  # noqa: E402
from models import Alert, AlertKind, AlertStatus, Incident, Tier  # noqa: E402
from store import IncidentQuery  # noqa: E402
from store.sqlite import SQLiteStore  # noqa: E402

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def alert_fields(
    store: SQLiteStore, fields: tuple[str, ...], limit: int, offset: int
) -> list[dict]:
    """Some fields of every alert document, as the replaced code read them (one
    json_extract a document, newest update first); kept here since the store no longer
    needs such a read."""
    paths = ", ".join(f"'$.{name}'" for name in fields)
    sql = (
        f"SELECT json_extract(doc, {paths}) FROM records WHERE kind=?"
        " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
    )
    rows = store.conns.read(sql, [Alert.kind, limit, offset])
    return [dict(zip(fields, orjson.loads(values), strict=True)) for (values,) in rows]


def read_time_tiers(store: SQLiteStore) -> dict[str, str]:
    """The pre-schema-4 resolution (tingfeng.services.alerts.current_tiers as it was)."""
    fields = ("incident_id", "alert_kind", "status", "opened_at", "tier")
    current: dict[str, tuple[tuple[bool, datetime], str]] = {}
    offset, page = 0, 10_000
    while True:
        rows = alert_fields(store, fields, page, offset)
        for row in rows:
            key = row["incident_id"]
            if key is None or row["alert_kind"] != AlertKind.INCIDENT.value:
                continue
            rank = (row["status"] != "closed", datetime.fromisoformat(row["opened_at"]))
            kept = current.get(key)
            if kept is None or rank >= kept[0]:
                current[key] = (rank, row["tier"])
        if len(rows) < page:
            return {k: t for k, (_, t) in current.items()}
        offset += page


def read_time_page(store: SQLiteStore, wanted: set[str]) -> int:
    tiers = read_time_tiers(store)
    ids = sorted(i for i, t in tiers.items() if t in wanted)
    return store.list_incidents(IncidentQuery(ids=ids, limit=20)).total


def floor(store: SQLiteStore) -> int:
    db = store.conns.reader()
    where = " WHERE tier IN ('I','II')"
    total = db.execute(f"SELECT count(*) FROM incidents{where}").fetchone()[0]
    db.execute(f"SELECT id FROM incidents{where} ORDER BY heat DESC, id LIMIT 20").fetchall()
    return int(total)


def cpu_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat * 1000


def grow(store: SQLiteStore, incidents: int, have: int, want: int, rnd: random.Random) -> None:
    batch = []
    for n in range(have, want):
        status = AlertStatus.CLOSED if rnd.random() < 0.7 else AlertStatus.NOTIFIED
        batch.append(
            Alert(
                id=f"alert-{n}",
                incident_id=f"inc-{rnd.randrange(incidents)}",
                alert_kind=AlertKind.INCIDENT,
                title=f"预警{n}",
                tier=rnd.choice(list(Tier)),
                rule="bench",
                status=status,
                opened_at=T0 + timedelta(minutes=n),
                figures={"heat": rnd.random() * 100},
            )
        )
        if len(batch) == 500:
            store.save_records(batch)
            batch = []
    if batch:
        store.save_records(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=3000)
    parser.add_argument("--alerts", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="tf-tiers-") as tmp:
        store = SQLiteStore(Path(tmp) / "tiers.db")
        incidents = [
            Incident(id=f"inc-{i}", title=f"事件{i}", heat=rnd.random() * 100, hot=i % 5 == 0)
            for i in range(args.incidents)
        ]
        for start in range(0, len(incidents), 500):
            store.save_records(incidents[start : start + 500])
        filters = IncidentFilters(tier=["I", "II"])
        have = 0
        print(f"incidents={args.incidents} repeat={args.repeat} load={os.getloadavg()}")
        for want in sorted(args.alerts):
            grow(store, args.incidents, have, want, rnd)
            have = want
            assert read_time_page(store, {"I", "II"}) == floor(store)  # the same answer
            new = cpu_ms(lambda: list_incidents_json(store, filters), args.repeat)
            old = cpu_ms(lambda: read_time_page(store, {"I", "II"}), args.repeat)
            bare = cpu_ms(lambda: floor(store), args.repeat)
            print(
                f"alerts={want:>6}  list page (stored tier) {new:7.2f} ms CPU"
                f"  read-time {old:7.2f} ms  floor {bare:6.2f} ms"
                f"  ratio to floor {new / bare:5.1f}  read-time/stored {old / new:5.1f}"
                f"  load={os.getloadavg()[0]:.2f}"
            )
        store.close()


if __name__ == "__main__":
    main()
