"""A real ``tingfeng serve`` on 127.0.0.1 for end-to-end and browser tests and the bench."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SECRET = "live-secret-0123456789-abcdefghijklmnopq"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    db: Path
    config: Path
    process: subprocess.Popen


def write_config(tmp: Path, db: Path, port: int, poll_seconds: float = 15.0) -> Path:
    import yaml

    from tests.api.factory import SOURCES

    config = {
        "store": {"path": str(db)},
        "api": {
            "environment": "production",
            "base_url": f"http://127.0.0.1:{port}",
            "poll_seconds": poll_seconds,
        },
        "sources": [s.model_dump(mode="json") for s in SOURCES],
    }
    path = tmp / "tingfeng.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


@contextmanager
def serve(
    tmp: Path,
    db: Path,
    poll_seconds: float = 15.0,
    timeout: float = 60.0,
    workers: int = 1,
    scheduler: bool = False,
) -> Iterator[LiveServer]:
    """Start ``tingfeng serve`` in a subprocess and poll /healthz until it answers (with
    ``--no-scheduler`` unless ``scheduler``)."""
    port = free_port()
    config = write_config(tmp, db, port, poll_seconds)
    env = {**os.environ, "TINGFENG_API__SECRET_KEY": SECRET, "TINGFENG_CONFIG": str(config)}
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tingfeng",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *([] if scheduler else ["--no-scheduler"]),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"tingfeng serve exited: {(tmp / 'serve.log').read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("tingfeng serve did not answer /healthz in time")
            time.sleep(0.1)
        yield LiveServer(url, db, config, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
