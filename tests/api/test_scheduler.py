"""``tingfeng serve`` embeds the worker's scheduler: started and stopped with the app,
reported by ``/healthz``, one per store (the worker lock), refused with ``--workers > 1``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import make_config
from tests.api.live import SECRET, free_port, serve
from tingfeng.services.worker import EmbeddedScheduler, SingleWorker, WorkerError, jobstore_path


def test_lifespan_starts_and_stops_the_scheduler(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    scheduler = EmbeddedScheduler(config, None)
    app = create_app(config, scheduler=scheduler)
    assert scheduler.state == "stopped"
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        r = c.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {
            "status": "ok",
            "store": "ok",
            "scheduler": "running",
            "backend": "sqlite",
        }
        assert {"detect", "alerts", "send", "digest", "weekly"} <= {
            job.id for job in scheduler.scheduler.get_jobs()
        }
        # The lock is held while it runs: a tingfeng worker on this store is refused.
        try:
            SingleWorker(jobstore_path(config)).__enter__()
        except WorkerError:
            pass
        else:
            raise AssertionError("a second scheduler got the lock")
        # A scheduler that should run but stopped makes the app unhealthy.
        scheduler.scheduler.shutdown(wait=True)
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["status"] == "error" and r.json()["scheduler"] == "stopped"
    assert scheduler.state == "stopped" and scheduler.scheduler is None
    SingleWorker(jobstore_path(config)).__enter__().__exit__()  # released at shutdown


def test_without_scheduler_healthz_says_disabled(tmp_path: Path) -> None:
    with TestClient(create_app(make_config(tmp_path))) as c:
        r = c.get("/healthz")
    assert r.status_code == 200 and r.json()["scheduler"] == "disabled"


def test_live_serve_runs_one_scheduler_per_store(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    with serve(tmp_path, db, scheduler=True) as live:
        r = httpx.get(live.url + "/healthz", timeout=5)
        assert r.status_code == 200 and r.json()["scheduler"] == "running"
        env = {
            **os.environ,
            "TINGFENG_API__SECRET_KEY": SECRET,
            "TINGFENG_CONFIG": str(live.config),
        }
        second = subprocess.run(
            [sys.executable, "-m", "tingfeng", "serve", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2, second.stdout + second.stderr
        out = second.stdout + second.stderr
        assert f"{db}.jobs.db.lock" in out and "--no-scheduler" in out
        assert "Traceback" not in out
        # Extra API processes beside it are fine with --no-scheduler; several of them in one
        # serve too (docker-compose.yml's default is --workers 2: the uvicorn factory path).
        (tmp_path / "extra").mkdir()
        with serve(tmp_path / "extra", db, workers=2) as extra:
            assert httpx.get(extra.url + "/api/v1/incidents", timeout=5).status_code == 401
            r = httpx.get(extra.url + "/healthz", timeout=5)
            assert r.status_code == 200 and r.json()["scheduler"] == "disabled"
    # SIGTERM ran the shutdown: the lock is free again.
    SingleWorker(Path(f"{db}.jobs.db")).__enter__().__exit__()


def test_serve_refuses_several_workers_with_the_scheduler(tmp_path: Path) -> None:
    cfg = tmp_path / "tingfeng.yaml"
    cfg.write_text(f"store:\n  path: {tmp_path / 'serve.db'}\n", "utf-8")
    env = {**os.environ, "TINGFENG_API__SECRET_KEY": SECRET}
    env.pop("TINGFENG_CONFIG", None)
    cmd = [sys.executable, "-m", "tingfeng", "-c", str(cfg), "serve", "--workers", "2"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--workers 2" in done.stderr and "--no-scheduler" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not Path(f"{tmp_path / 'serve.db'}.jobs.db.lock").exists()  # refused before locking
