"""Crawl throughput on loopback with the full pipeline into SQLite.

Starts the fixture server (tests/crawler/fixture_server.py), whose ``/bench/`` pages are a
synthetic city news site (list pages of 20 links, articles with ad tails and 相关阅读
blocks), and crawls ``--pages`` pages through the real Scrapy engine in a subprocess
(``python -m crawler.run``) with every pipeline step: validate, normalise, boilerplate,
dedup, region tagging and batched SQLite upserts with snapshots.

Prints pages/min measured over the crawl itself (from the health record's start and finish
times), over the whole process including start-up, and per CPU-minute of the crawl
process (the figure that does not depend on what else the machine is running).
Target: ≥ 5,000 pages/min.

    python bench/bench_crawl.py [--pages 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "crawler" / "fixture_server.py"
GAZETTEER = {
    "东城区": ["人民广场", "青龙镇"],
    "西江区": ["滨江路", "西江大桥", "江北街道"],
    "南山县": ["白石镇", "南山古镇", "龙潭水库"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=3000, help="pages to crawl (lists + articles)")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    lists = max(1, round(args.pages / 21))

    server = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base = f"http://127.0.0.1:{int(server.stdout.readline())}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "bench.yaml"
            config.write_text(yaml.safe_dump({
                "store": {"path": str(Path(tmp) / "bench.db")},
                "crawler": {
                    "download_delay": 0, "autothrottle": False, "log_level": "WARNING",
                    "concurrent_requests": args.concurrency,
                    "per_domain_concurrency": args.concurrency, "store_batch_size": 500,
                },
                "gazetteer": GAZETTEER,
                "sources": [{"name": "bench", "kind": "site", "settings": {
                    "start_urls": [f"{base}/bench/list_0.html"],
                    "id_pattern": r"/a/(\d+)\.html$",
                    "list": {"item": "ul.news-list li", "link": "a::attr(href)",
                             "next_page": "a.next::attr(href)", "max_pages": lists},
                    "detail": {"title": "h1.title::text", "content": "#content",
                               "fields": {"created_at": ".info .time::text"}},
                }}],
            }, allow_unicode=True), "utf-8")  # fmt: skip
            started = time.monotonic()
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run(
                [sys.executable, "-m", "crawler.run", str(config), "--progress"],
                capture_output=True, text=True, cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )  # fmt: skip
            wall = time.monotonic() - started
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu_after.ru_utime + cpu_after.ru_stime
                   - cpu_before.ru_utime - cpu_before.ru_stime)  # fmt: skip
            if proc.returncode != 0:
                sys.exit(proc.stderr[-3000:])
            done = next(json.loads(line) for line in proc.stdout.splitlines()
                        if '"event": "done"' in line)  # fmt: skip
            with sqlite3.connect(Path(tmp) / "bench.db") as db:
                posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        server.terminate()
        server.wait()
        server.stdout.close()
    crawl = (datetime.fromisoformat(done["finished_at"])
             - datetime.fromisoformat(done["started_at"])).total_seconds()  # fmt: skip
    pages = done["pages"]
    print(f"pages fetched:      {pages}  (posts stored: {posts}, errors: {done['errors']})")
    print(f"crawl time:         {crawl:.1f} s  → {pages / crawl * 60:,.0f} pages/min")
    print(f"with process start: {wall:.1f} s  → {pages / wall * 60:,.0f} pages/min")
    # On a shared machine the wall clock measures the neighbours too; CPU seconds of the
    # crawl process (start-up included) say what one free core would do.
    print(f"crawler CPU time:   {cpu:.1f} s  → {pages / cpu * 60:,.0f} pages per CPU-minute")
    print(f"load average:       {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
