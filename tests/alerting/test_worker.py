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
    # INFO lines show (bootstrap's WARNING root made them vanish): the pass that alerted
    assert "预警：新增 1，" in err and "发送 1 条" in err, err
    assert "HTTP Request" not in err  # httpx's English line per request
    with sqlite3.connect(tmp_path / "tf.db.jobs.db") as db:
        ids = {row[0] for row in db.execute("SELECT id FROM apscheduler_jobs")}
    assert ids == {"detect", "alerts", "send", "digest", "weekly", "monthly"}
    again = worker(path, "--once")
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0
    assert "任务 digest（沿用）" in err  # the stored schedule survives a restart
    assert "kept" not in err and "Run time of job" not in err


def test_a_crashing_crawl_becomes_an_unhealthy_source(tmp_path, caplog):
    """The crawl job's subprocess fails (here: the source is not configured, exit 2); the
    worker's log line says so in Chinese, with the code the health record uses."""
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
    line = next(r for r in caplog.records if r.name == "tingfeng.worker").getMessage()
    assert line.startswith("采集 qc-gone 异常退出（退出码 2，crawl_crashed）："), line


def test_planned_jobs_include_the_weekly_and_monthly_reports():
    from datetime import datetime

    from models import SHANGHAI
    from tingfeng.config import Config
    from tingfeng.services import worker as w

    jobs = {j["id"]: j for j in w.planned_jobs(Config.model_validate({}), "tf.yaml")}
    assert jobs["digest"]["func"].endswith(":job_digest") and jobs["digest"]["args"][1] == "daily"
    assert jobs["weekly"]["func"].endswith(":job_report")
    assert jobs["weekly"]["args"] == ["tf.yaml", "weekly"]
    assert jobs["monthly"]["func"].endswith(":job_report")
    assert jobs["monthly"]["args"] == ["tf.yaml", "monthly"]
    now = datetime(2026, 6, 11, 2, 0, tzinfo=SHANGHAI)  # a Thursday: injected, not the clock

    def next_run(job_id):
        return jobs[job_id]["trigger"].get_next_fire_time(None, now).isoformat()

    assert next_run("digest") == "2026-06-11T08:00:00+08:00"
    assert next_run("weekly") == "2026-06-15T09:00:00+08:00"  # Monday
    assert next_run("monthly") == "2026-07-01T09:00:00+08:00"
    cfg = Config.model_validate({"alerting": {"schedule": {"monthly_time": "2 07:30"}}})
    jobs = {j["id"]: j for j in w.planned_jobs(cfg, None)}
    assert (
        jobs["monthly"]["trigger"].get_next_fire_time(None, now).isoformat()
        == "2026-07-02T07:30:00+08:00"
    )


def test_weekly_report_job_reaches_the_route(city_store, city_config, tmp_path, webhook):
    """Monday 09:00: last week's report of 岚州, through the outbox, to a real receiver."""
    from datetime import datetime, timedelta

    from alerting.responses import link_responses
    from models import SHANGHAI, OutboxMessage
    from tests.alerting.city import NOW
    from tingfeng.services import worker as w

    link_responses(city_store, city_config.office, now=NOW)
    data = city_config.model_dump(mode="json", exclude_unset=True)
    data["alerting"] = {
        "channels": {"duty": {"type": "webhook", "url": webhook.url + "/duty", "secret": "s3cret"}},
        "routes": {"duty": ["duty"], "supervisor": ["duty"], "admin": ["duty"]},
    }
    path = tmp_path / "tingfeng.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    monday = datetime(2026, 6, 15, 9, 0, tzinfo=SHANGHAI)
    try:
        assert w.job_report(str(path), "weekly", now=monday) == 1
        assert w.job_report(str(path), "weekly", now=monday + timedelta(minutes=5)) == 0
        store = w._store(str(path))
        queued = [m for m in store.list_records(OutboxMessage, limit=50) if m.event == "report"]
        assert [m.alert_id for m in queued] == ["report-weekly-2026-06-08"]
        from tingfeng.services.alerts import send_pending

        sent = send_pending(store, w._runtime(str(path)), monday)
        assert sent.as_dict()["sent"] >= 1
        # the 1st of July: June's report, with the month's wording
        assert w.job_report(str(path), "monthly", now=datetime(2026, 7, 1, 9, tzinfo=SHANGHAI))
        send_pending(store, w._runtime(str(path)), monday + timedelta(days=16))
    finally:
        w.close_contexts()
    bodies = [b for b in webhook.accepted if b.get("event") == "report"]
    assert len(bodies) == 2, webhook.accepted
    weekly, monthly = (str(b) for b in bodies)
    assert "岚州市委网信办舆情周报（2026年6月8日至2026年6月14日）" in weekly
    assert "本周网民反映问题 3 件，已办结 2 件" in weekly
    assert "舆情事件" in weekly and "2 起" in weekly
    assert "北塘区东门菜市场城管打死卖菜老人" in weekly
    assert "Ⅰ级响应" in weekly
    assert "舆情月报" in monthly and "本月网民反映问题 3 件，已办结 2 件" in monthly


def test_a_dead_scheduler_thread_ends_the_worker_with_one_chinese_line(tmp_path, webhook):
    """The job store's folder disappears under a running worker: APScheduler's thread dies
    at its next write. The worker must not sleep on as if it ran jobs (a supervisor would
    never restart it): it says why in one line and exits non-zero."""
    import shutil

    path = config(tmp_path, webhook.url)
    cfg = yaml.safe_load(path.read_text("utf-8"))
    cfg["alerting"]["schedule"]["jobstore"] = str(tmp_path / "jobs" / "jobs.db")
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    proc = worker(path)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "jobs" / "jobs.db").exists() and time.monotonic() < deadline:
            time.sleep(0.2)  # waiting on a separate process's start, not a clock
        time.sleep(1.5)
        shutil.rmtree(tmp_path / "jobs")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, err[-2000:]  # the CLI's exit code of a user-facing error
    assert "Traceback" not in err, err[-3000:]
    assert "调度线程异常退出，计划任务不再运行" in err
    assert "请检查存储与任务库所在的磁盘后重新启动" in err


def test_a_dead_scheduler_thread_is_not_reported_running():
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from tingfeng.services.worker import scheduler_alive

    scheduler = BackgroundScheduler()
    assert not scheduler_alive(scheduler) and not scheduler_alive(None)
    scheduler.start()
    try:
        assert scheduler_alive(scheduler)
        scheduler._thread = threading.Thread(target=lambda: None)  # a thread that ended
        scheduler._thread.start()
        scheduler._thread.join()
        assert scheduler.running and not scheduler_alive(scheduler)
    finally:
        scheduler.shutdown(wait=False)
