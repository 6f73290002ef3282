"""``tingfeng worker``: persistent jobs, one worker per store, alerts delivered end to end."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import yaml

from store.sqlite import SQLiteStore
from tests.alerting.support import incident, put


def config(tmp_path, url):
    cfg = {
        "store": {"path": str(tmp_path / "tf.db")},
        "alerting": {
            "channels": {"duty": {"type": "webhook", "url": url + "/duty", "secret": "s3cret"}},
            "routes": {"duty": ["duty"], "supervisor": ["duty"], "admin": ["duty"]},
            "schedule": {"alert_seconds": 1, "send_seconds": 1, "detect_seconds": 3600},
        },
    }
    path = tmp_path / "tingfeng.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    return path


def worker(path, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "tingfeng", "-c", str(path), "worker", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_worker_delivers_and_a_second_one_refuses(tmp_path, webhook):
    from datetime import UTC, datetime

    path = config(tmp_path, webhook.url)
    now = datetime.now(UTC)
    with SQLiteStore(tmp_path / "tf.db") as store:
        put(store, incident("inc-w", heat=65, at=now))
    first = worker(path)
    try:
        deadline = time.monotonic() + 60
        while not webhook.accepted and time.monotonic() < deadline:
            time.sleep(0.2)  # waiting on a separate process's real schedule, not a clock
        assert webhook.accepted, first.stderr.read() if first.poll() is not None else ""
        assert webhook.accepted[0]["event"] == "created"
        second = subprocess.run(
            [sys.executable, "-m", "tingfeng", "-c", str(path), "worker"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2
        assert "另一个调度进程" in second.stderr and str(first.pid) in second.stderr
    finally:
        os.kill(first.pid, signal.SIGTERM)
        _, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "调度已停止" in err
    with sqlite3.connect(tmp_path / "tf.db.jobs.db") as db:
        ids = {row[0] for row in db.execute("SELECT id FROM apscheduler_jobs")}
    assert ids == {"detect", "alerts", "send", "digest", "weekly"}
    again = worker(path, "--once")
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0
    assert "任务 digest（kept）" in err  # the stored schedule survives a restart


def test_a_crashing_crawl_becomes_an_unhealthy_source(tmp_path):
    """The crawl job's subprocess fails (here: the source is not configured, exit 2)."""
    from crawler.health import read_health
    from models import Source
    from tingfeng.services import worker as w

    path = tmp_path / "tingfeng.yaml"
    path.write_text(yaml.safe_dump({"store": {"path": str(tmp_path / "tf.db")}}), "utf-8")
    try:
        assert w.job_crawl(str(path), "qc-gone") == 2
        health = read_health(w._store(str(path)), Source(name="qc-gone", kind="feed"))
    finally:
        w.close_contexts()
    assert not health.healthy and "crawl_crashed" in health.reason
