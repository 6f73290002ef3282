"""The demo story crawled at a scheduler's cadence: completeness and cost per crawl.

Starts the story server (tingfeng/demo/) with a manual clock and crawls every source
through the real Scrapy engine (``python -m crawler.run`` with ``TINGFENG_NOW`` = the
story clock) every ``--every`` story minutes from ``--start`` to ``--end``, into one
SQLite store. After each crawl it compares the store with what the sites show and prints
the wall time and CPU time of the crawl process. Target: nothing missed, nothing extra,
and a crawl well under the real time its story interval takes at the demo's speed
(5 story minutes at 36× = 8.3 s).

    python bench/bench_demo_crawl.py [--every 15] [--start 19:00] [--end 23:00]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from store.base import PostFilter  # noqa: E402
from store.sqlite import SQLiteStore  # noqa: E402
from tingfeng.demo.clock import ManualClock  # noqa: E402
from tingfeng.demo.config import post_id, write_demo_config  # noqa: E402
from tingfeng.demo.server import StoryServer  # noqa: E402
from tingfeng.demo.story import load_story  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--every", type=int, default=15, help="story minutes between crawls")
    parser.add_argument("--start", default="19:00")
    parser.add_argument("--end", default="23:00")
    args = parser.parse_args()
    story = load_story()
    clock = ManualClock(story.at(args.start))
    missed = extra = 0
    walls: list[float] = []
    cpus: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, StoryServer(story, clock) as server:
        config = write_demo_config(Path(tmp) / "tingfeng.yaml", server.base_url, tmp)
        at = story.at(args.start)
        print(f"crawl every {args.every} story minutes, {args.start}-{args.end}; machine load "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
        while at <= story.at(args.end):
            clock.set(at)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "crawler.run", str(config),
                 "--set", f"TINGFENG_NOW={at.isoformat()}"],
                capture_output=True, text=True, cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )  # fmt: skip
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            store = SQLiteStore(Path(tmp) / "tingfeng.db")
            got = {p.id for p in store.iter_posts(PostFilter())}
            store.close()
            want = {post_id(i) for i in story.visible(at)}
            missed, extra = len(want - got), len(got - want)
            walls.append(wall)
            cpus.append(cpu)
            print(f"{at:%H:%M}  stored {len(got):4d}  visible {len(want):4d}  missing {missed}  "
                  f"extra {extra}  wall {wall:5.1f} s  cpu {cpu:4.1f} s", flush=True)  # fmt: skip
            at += timedelta(minutes=args.every)
    print(f"crawls: {len(walls)}, wall median {sorted(walls)[len(walls) // 2]:.1f} s, "
          f"CPU median {sorted(cpus)[len(cpus) // 2]:.1f} s; final missing {missed}, "
          f"extra {extra}")  # fmt: skip
    return 0 if missed == extra == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
