"""Search latency on the imported CED copy (run bench_import.py first).

    .venv/bin/python bench/bench_search.py [--db PATH] [--rounds N]

Target (issue 2): p95 <= 20 ms for one- and two-word queries with a time filter and
facets (day, source, region).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from models import SHANGHAI
from store import SearchQuery
from store.sqlite import SQLiteStore

QUERIES = [
    "谣言", "地震", "医院", "警察", "转发", "辟谣", "北京", "孩子", "死亡", "微博",
    "食品 安全", "城管 打人", "医院 死亡", "北京 暴雨", "小孩 失踪", "转基因", "爆炸",
    "谣言 求证", "地铁", "学校 老师",
]  # fmt: skip
WINDOWS = [
    (datetime(2012, 1, 1, tzinfo=SHANGHAI), datetime(2013, 1, 1, tzinfo=SHANGHAI)),
    (datetime(2013, 6, 1, tzinfo=SHANGHAI), datetime(2013, 9, 1, tzinfo=SHANGHAI)),
    (datetime(2010, 1, 1, tzinfo=SHANGHAI), datetime(2020, 1, 1, tzinfo=SHANGHAI)),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/tingfeng-bench.db")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    store = SQLiteStore(args.db)
    print(f"posts in store: {store.count_posts():,}")
    timings: list[float] = []
    totals: dict[str, int] = {}
    for _ in range(args.rounds):
        for text in QUERIES:
            for since, until in WINDOWS:
                q = SearchQuery(
                    text=text, since=since, until=until, facets=["day", "source", "region"]
                )
                start = time.perf_counter()
                result = store.search(q)
                timings.append((time.perf_counter() - start) * 1000)
                totals[text] = max(totals.get(text, 0), result.total)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"queries        : {len(timings)} ({len(QUERIES)} texts x {len(WINDOWS)} windows)")
    most = max(totals.values())
    p50 = statistics.median(timings)
    print(f"matches/query  : median {statistics.median(totals.values()):,.0f}, max {most:,}")
    print(f"latency        : p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms")


if __name__ == "__main__":
    main()
