"""A crawl killed mid-way and started again loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.crawler.conftest import REPO, forum_settings, run_crawl, write_config


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("SELECT count(*) FROM posts").fetchone()[0]
    except sqlite3.Error:
        return 0


def _ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [row[0] for row in con.execute("SELECT id FROM posts ORDER BY id")]


def _sources(server: str) -> list[dict]:
    return [{"name": "qc-bbs", "kind": "site", "settings": forum_settings(server)}]


def test_killed_crawl_resumes_without_loss_or_duplicates(server: str, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    run_crawl(write_config(reference, _sources(server)))
    expected = _ids(reference / "tingfeng.db")
    assert len(expected) == 20

    work = tmp_path / "work"
    work.mkdir()
    # Slow and one item per write, so the kill lands mid-crawl with some posts stored.
    config = write_config(
        work, _sources(server), store_batch_size=1, download_delay=0.25, per_domain_concurrency=1
    )
    db = work / "tingfeng.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.run", str(config)], cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while _count(db) < 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    partial = _count(db)
    assert 0 < partial < len(expected)
    with sqlite3.connect(db) as con:
        cursors = con.execute("SELECT count(*) FROM state WHERE key LIKE 'cursor:%'").fetchone()
    assert cursors[0] == 0  # nothing committed by the killed crawl

    run_crawl(config, sets=("DOWNLOAD_DELAY=0",))
    assert _ids(db) == expected
