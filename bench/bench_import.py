"""The import users run, against a bare loop over the same texts, in one run.

    .venv/bin/python bench/bench_import.py [CED_DIR] [--db PATH] [--skip-bare]

1. Bare loop (before and after the command, to bracket the machine's load): the same
   texts, rjieba index tokens, FTS5 insert, one process, no validation, no other table.
2. The command: ``tingfeng import ced CED_DIR`` of the installed entry point, in a
   subprocess on a fresh store, rumor scoring included; peak RSS is the largest sum over
   the whole process tree (writer and workers), sampled every 50 ms from /proc.

Target (issue 10): the command at >= 1/3 of the bare loop's posts/s, peak RSS <= 600 MB.
Keeps the database (default /tmp/tingfeng-bench.db) for bench_search.py. Run it nice'd on
a shared machine and quote the load average it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from nlp.tokenize import index_text

HERE = Path(__file__).resolve().parent
TINGFENG = Path(sys.executable).with_name("tingfeng")


def bare_loop(ced: Path, db: Path) -> tuple[int, float]:
    """Texts of every source post and repost -> index tokens -> FTS5, batches of 5,000."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE VIRTUAL TABLE t USING fts5(tokens)")
    rows: list[tuple[int, str]] = []
    n = 0

    def flush() -> None:
        con.execute("BEGIN")
        con.executemany("INSERT INTO t(rowid, tokens) VALUES (?, ?)", rows)
        con.execute("COMMIT")
        rows.clear()

    for path in sorted((ced / "original-microblog").glob("*.json")):
        raw = orjson.loads(path.read_bytes())
        n += 1
        rows.append((n, index_text(raw.get("text") if isinstance(raw, dict) else None)))
        for folder in ("rumor-repost", "non-rumor-repost"):
            reposts = ced / folder / path.name
            if reposts.is_file():
                items = orjson.loads(reposts.read_bytes())
                for item in items if isinstance(items, list) else []:
                    if isinstance(item, dict):
                        n += 1
                        text = item.get("text")
                        rows.append((n, index_text(text if isinstance(text, str) else None)))
        if len(rows) >= 5000:
            flush()
    flush()
    con.close()
    return n, time.perf_counter() - start


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (kB), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/statm") as f:
                pages = int(f.read().split()[1])
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_command(ced: Path, db: Path) -> tuple[dict, float, int, str]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "TINGFENG_STORE__PATH": str(db), "TINGFENG_CONFIG": ""}
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(TINGFENG), "import", "ced", str(ced), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kb(proc.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"tingfeng import ced failed ({proc.returncode}):\n{err.decode()}")
    return json.loads(out), elapsed, peak, err.decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(HERE.parent.parent / "shared/datasets/ced"))
    parser.add_argument("--db", default="/tmp/tingfeng-bench.db")
    parser.add_argument("--skip-bare", action="store_true", help="only the command")
    args = parser.parse_args()
    ced, db = Path(args.ced), Path(args.db)
    bare_db = db.with_name(db.stem + "-bare.db")
    print(f"load average   : {' '.join(f'{x:.2f}' for x in os.getloadavg())} (start)")
    bare: list[float] = []
    if not args.skip_bare:
        n, seconds = bare_loop(ced, bare_db)
        bare.append(n / seconds)
        print(f"bare loop      : {n:,} texts in {seconds:.1f} s = {n / seconds:,.0f} posts/s")
    report, elapsed, peak_kb, err = run_command(ced, db)
    if not args.skip_bare:
        n, seconds = bare_loop(ced, bare_db)
        bare.append(n / seconds)
        print(f"bare loop again: {n:,} texts in {seconds:.1f} s = {n / seconds:,.0f} posts/s")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{bare_db}{suffix}").unlink(missing_ok=True)
    rate = report["inserted"] / elapsed
    print(
        f"command        : tingfeng import ced: {report['inserted']:,} posts, "
        f"{report['snapshots']:,} snapshots, {report['scored']:,} rumor scores"
    )
    print(f"wall time      : {elapsed:.1f} s (interpreter start and model load included)")
    print(f"throughput     : {rate:,.0f} posts/s end to end")
    print(f"peak RSS       : {peak_kb / 1024:,.0f} MB (whole process tree)")
    if bare:
        mean = sum(bare) / len(bare)
        print(f"ratio          : {rate / mean:.2f} of the bare loop (target >= 0.33)")
    print(f"load average   : {' '.join(f'{x:.2f}' for x in os.getloadavg())} (end)")
    print(f"database size  : {db.stat().st_size / 2**20:,.0f} MB")
    if "rumor scores" not in err:
        print("warning        : the command printed no rumor-score line")


if __name__ == "__main__":
    main()
