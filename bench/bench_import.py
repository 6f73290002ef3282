"""Import the CED copy into a fresh SQLite store; print posts/s and peak memory.

    .venv/bin/python bench/bench_import.py [CED_DIR] [--db PATH] [--workers N]

Target (issue 2): >= 20,000 posts/s end to end, tokenisation and indexing included,
peak memory <= 1 GB. Keeps the database (default /tmp/tingfeng-bench.db) for
bench_search.py.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from ingest.pipeline import default_workers, import_ced
from store.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(HERE.parent.parent / "shared/datasets/ced"))
    parser.add_argument("--db", default="/tmp/tingfeng-bench.db")
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    db = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(db, batch_size=5000)
    start = time.perf_counter()
    report = import_ced(store, Path(args.ced), workers=args.workers)
    elapsed = time.perf_counter() - start
    store.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"posts imported : {report.inserted:,} (skipped {sum(report.skipped.values()):,})")
    print(f"snapshots      : {report.snapshots:,}")
    print(f"wall time      : {elapsed:.1f} s with {args.workers} worker process(es)")
    print(f"throughput     : {report.inserted / elapsed:,.0f} posts/s")
    print(f"peak RSS       : writer {own:,.0f} MB, largest worker {workers:,.0f} MB")
    print(f"database size  : {db.stat().st_size / 2**20:,.0f} MB")


if __name__ == "__main__":
    main()
