"""Online backup and restore of the benchmark store: seconds, MB/s and peak memory.

    .venv/bin/python bench/bench_backup.py [--db PATH] [--out DIR]

Backs up the store bench_import.py leaves (default /tmp/tingfeng-bench.db) with
:func:`store.backup.backup`, restores the copy into a new store with
:func:`store.backup.restore` (which also opens it once, as the command does), and prints
both times, the size and the peak RSS of this process. No target in the issue: the figures
say how long an office's nightly backup and a restore take. The store is only read.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from store.backup import backup, restore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/tingfeng-bench.db"))
    parser.add_argument("--out", type=Path, default=None, help="folder for the copies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        copy, target = Path(tmp) / "backup.db", Path(tmp) / "restored.db"
        start = time.perf_counter()
        summary = backup(args.db, copy)
        backup_s = time.perf_counter() - start
        start = time.perf_counter()
        restore(copy, target)
        restore_s = time.perf_counter() - start
    mb = summary.bytes / 1e6
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"store          : {args.db} ({summary.posts:,} posts, {mb:,.0f} MB)")
    print(f"backup         : {backup_s:.1f} s ({mb / backup_s:,.0f} MB/s), checked and synced")
    print(f"restore        : {restore_s:.1f} s ({mb / restore_s:,.0f} MB/s), opened once")
    print(f"peak RSS       : {peak:,.0f} MB")
    print(f"load average   : {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
