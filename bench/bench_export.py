"""Stream every post of the benchmark store out as JSON lines; print rate and peak memory.

    .venv/bin/python bench/bench_export.py [--db PATH] [--limit N]

Peak memory must not depend on how many posts are exported (issue 2): compare a run with
``--limit 10`` against a full run.
"""

from __future__ import annotations

import argparse
import resource
import time
from itertools import islice

from store.sqlite import SQLiteStore


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/tingfeng-bench.db")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    store = SQLiteStore(args.db)
    start = time.perf_counter()
    count = 0
    with open("/dev/null", "wb") as sink:
        for post in islice(store.iter_posts(), args.limit):
            sink.write(post.model_dump_json().encode() + b"\n")
            count += 1
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"exported   : {count:,} posts in {elapsed:.1f} s ({count / elapsed:,.0f} posts/s)")
    print(f"peak RSS   : {peak:,.0f} MB")


if __name__ == "__main__":
    main()
