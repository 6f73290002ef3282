"""A worker killed with -9 between storing and sending sends after restart, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import yaml

from models import OutboxMessage, OutboxStatus
from store.sqlite import SQLiteStore
from tests.alerting.support import T0, incident, put


def write_config(tmp_path, url):
    cfg = {
        "store": {"path": str(tmp_path / "tf.db")},
        "alerting": {
            "channels": {
                "duty": {"type": "webhook", "url": url + "/duty", "secret": "s3cret"},
                "lead": {"type": "webhook", "url": url + "/lead", "secret": "s3cret"},
            },
            "routes": {"duty": ["duty"], "supervisor": ["lead"], "admin": ["lead"]},
            "outbox": {"lease_seconds": 120},
        },
    }
    path = tmp_path / "tingfeng.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    return path


def command(config, at):
    return [
        sys.executable,
        "-m",
        "tingfeng",
        "-c",
        str(config),
        "alerts",
        "run",
        "--at",
        at.isoformat(),
    ]


def run(config, at):
    done = subprocess.run(command(config, at), capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done


def test_kill_9_mid_send_then_exactly_once(tmp_path, webhook):
    config = write_config(tmp_path, webhook.url)
    with SQLiteStore(tmp_path / "tf.db") as store:
        put(store, incident("inc-k1", heat=85))  # tier I: duty and lead
        put(store, incident("inc-k2", heat=45))
    webhook.hang = threading.Event()
    proc = subprocess.Popen(
        command(config, T0), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert webhook.hung.wait(60)
    os.kill(proc.pid, signal.SIGKILL)  # stored, claimed, the request in flight
    proc.wait(timeout=10)
    hang, webhook.hang = webhook.hang, None
    hang.set()
    with SQLiteStore(tmp_path / "tf.db") as store:
        stored = store.list_records(OutboxMessage)
        assert len(stored) == 3 and webhook.keys == {}
        assert any(m.status == OutboxStatus.SENDING for m in stored)
    # Restarted within the dead worker's lease: the claimed message waits (in order).
    run(config, T0 + timedelta(seconds=30))
    with SQLiteStore(tmp_path / "tf.db") as store:
        assert store.count_records(OutboxMessage) == 3
    # After the lease: everything is sent, once per idempotency key.
    run(config, T0 + timedelta(minutes=3))
    run(config, T0 + timedelta(minutes=4))
    with SQLiteStore(tmp_path / "tf.db") as store:
        stored = store.list_records(OutboxMessage)
        assert {m.status for m in stored} == {OutboxStatus.DELIVERED}
        assert sorted(webhook.keys) == sorted(m.id for m in stored)
    assert all(n == 1 for n in webhook.keys.values())
