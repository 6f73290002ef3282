"""The worker: one APScheduler 3.x scheduler per store, with a persistent job store.

Jobs: crawl each enabled source at its interval (a subprocess each, so a crashing spider
never takes the worker down), detection, the alerting pass (tiers, reminders, escalation,
source health), sending, a daily alert digest, and the weekly and monthly reports. Jobs are
module-level functions taking the configuration file's path, so the job store (SQLite via
SQLAlchemy) holds only names and arguments.

Missed runs: APScheduler's default ``misfire_grace_time`` of 1 s silently skips runs on a
busy machine; here it is ``alerting.schedule.misfire_grace_seconds`` (1 h) with
``coalesce=True`` and ``max_instances=1``, and every missed run is logged.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from models.common import now_utc
from store.lock import LockHeld, PidLock

log = logging.getLogger("tingfeng.worker")

_contexts: dict[str | None, dict[str, Any]] = {}
_lock = threading.Lock()


class WorkerError(Exception):
    """The worker cannot start (another one runs, bad schedule)."""


def _context(path: str | None) -> dict[str, Any]:
    """Configuration, alerting runtime and store of one configuration file, loaded once per
    process (jobs run in a thread pool and share them; the stores are thread-safe)."""
    from store import open_store
    from tingfeng.config import load_config
    from tingfeng.services.alerts import load_runtime

    with _lock:
        ctx = _contexts.get(path)
        if ctx is None:
            cfg = load_config(path)
            if cfg.store.backend == "sqlite":
                cfg.store.path.parent.mkdir(parents=True, exist_ok=True)
            ctx = {"config": cfg, "runtime": load_runtime(cfg), "store": open_store(cfg.store)}
            _contexts[path] = ctx
        return ctx


def _config(path: str | None) -> Any:
    return _context(path)["config"]


def _store(path: str | None) -> Any:
    return _context(path)["store"]


def _runtime(path: str | None) -> Any:
    return _context(path)["runtime"]


def close_contexts() -> None:
    with _lock:
        for ctx in _contexts.values():
            ctx["store"].close()
        _contexts.clear()


# -- jobs (module level: the persistent job store refers to them by name) ------------------
def job_crawl(config_path: str | None, source: str) -> int:
    """``tingfeng crawl SOURCE`` in a subprocess. A crawl that crashes or hangs is recorded
    in the source's health (so it becomes an alert), never only in a log nobody reads."""
    cfg = _config(config_path)
    cmd = [sys.executable, "-m", "tingfeng"]
    if config_path:
        cmd += ["-c", config_path]
    cmd += ["crawl", source]
    timeout = cfg.alerting.schedule.crawl_timeout_minutes * 60
    started = now_utc()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        log.error("crawl %s: stopped after %.0f min", source, timeout / 60)
        record_crawl_failure(config_path, source, "crawl_timeout", started)
        return -1
    if done.returncode not in (0, 1):  # 1 = crawled but unhealthy: its health says so
        log.error("crawl %s: exit %s: %s", source, done.returncode, done.stderr[-500:])
        record_crawl_failure(config_path, source, "crawl_crashed", started)
    return done.returncode


def record_crawl_failure(config_path: str | None, source: str, what: str, started: Any) -> None:
    from crawler.health import SourceHealth, merge_previous, state_key

    store = _store(config_path)
    previous = store.get_state(state_key(source))
    health = SourceHealth(
        source=source,
        started_at=started,
        finished_at=now_utc(),
        finish_reason=what,
        errors={what: 1},
        crawls=1,
    )
    store.set_state(state_key(source), merge_previous(health, previous).model_dump(mode="json"))


#: One alerting pass (or send) at a time: the detect pipeline and the clock job share it.
_alerting = threading.Lock()


def job_detect(config_path: str | None) -> dict[str, Any]:
    """Detection, then at once the alerting pass and sending: a post stored just before a
    detection run reaches the receiver within that run, not one interval per stage later."""
    from nlp.detect import run_detect
    from tingfeng.cli.app import state
    from tingfeng.cli.hot import hot_config

    cfg = _config(config_path)
    state._config = cfg  # hot_config reads nlp.rumor_model from the CLI state
    out = {"detect": run_detect(_store(config_path), hot_config(cfg.hot)).as_dict()}
    out.update(job_alerts(config_path))
    return out


def job_alerts(config_path: str | None) -> dict[str, Any]:
    """The alerting pass (tiers, clocks, recovery, source health), then sending."""
    from tingfeng.services.alerts import run_pass

    with _alerting:
        return run_pass(_store(config_path), _runtime(config_path), now_utc(), send=True)


def job_send(config_path: str | None) -> dict[str, Any]:
    from tingfeng.services.alerts import send_pending

    with _alerting:
        return send_pending(_store(config_path), _runtime(config_path), now_utc()).as_dict()


def job_digest(config_path: str | None, period: str = "daily") -> int:
    from tingfeng.services.alerts import queue_digest

    return queue_digest(_store(config_path), _runtime(config_path), period, now_utc())


def job_report(config_path: str | None, period: str = "weekly", now: datetime | None = None) -> int:
    """The weekly (or monthly) report of the period just ended, queued to the digest
    routes (``now`` is for tests: the scheduler passes only the path and the period)."""
    from tingfeng.services.reports import queue_report

    ctx = _context(config_path)
    return queue_report(ctx["store"], ctx["config"], ctx["runtime"], period, now or now_utc())


# -- the scheduler ------------------------------------------------------------------------
def jobstore_path(config: Any) -> Path:
    sched = config.alerting.schedule
    if sched.jobstore is not None:
        path = sched.jobstore
        if not path.is_absolute() and config.source_file:
            path = (Path(config.source_file).parent / path).resolve()
        return path
    if config.store.backend == "sqlite":
        return Path(f"{config.store.path}.jobs.db")
    return Path("data/scheduler.db")


class SingleWorker(PidLock):
    """An exclusive lock beside the job store: a second worker refuses to start."""

    def __init__(self, path: Path) -> None:
        super().__init__(Path(f"{path}.lock"))

    def __enter__(self) -> SingleWorker:
        try:
            return super().__enter__()
        except LockHeld as held:
            raise WorkerError(
                f"另一个调度进程（pid {held.pid}）正在使用 {self.path.with_suffix('')}；"
                "每个存储只能运行一个 tingfeng worker"
            ) from None


def build_scheduler(config: Any) -> Any:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = config.alerting.schedule
    path = jobstore_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": sched.misfire_grace_seconds,
        },
        timezone=sched.timezone,
    )

    def listen(event: Any) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("job %s failed: %s", event.job_id, event.exception)

    scheduler.add_listener(listen, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def planned_jobs(config: Any, config_path: str | None) -> list[dict[str, Any]]:
    """The jobs the configuration asks for: id, function, trigger and arguments."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    sched = config.alerting.schedule
    tz = sched.timezone
    hour, minute = (int(x) for x in sched.digest_time.split(":"))
    day, at = sched.weekly_time.split()
    whour, wminute = (int(x) for x in at.split(":"))
    mday, mat = sched.monthly_time.split()
    mhour, mminute = (int(x) for x in mat.split(":"))
    mod = "tingfeng.services.worker"
    jobs = [
        {
            "id": "detect",
            "func": f"{mod}:job_detect",
            "args": [config_path],
            "trigger": IntervalTrigger(seconds=sched.detect_seconds, timezone=tz),
        },
        {
            "id": "alerts",
            "func": f"{mod}:job_alerts",
            "args": [config_path],
            "trigger": IntervalTrigger(seconds=sched.alert_seconds, timezone=tz),
        },
        {
            "id": "send",
            "func": f"{mod}:job_send",
            "args": [config_path],
            "trigger": IntervalTrigger(seconds=sched.send_seconds, timezone=tz),
        },
        {
            "id": "digest",
            "func": f"{mod}:job_digest",
            "args": [config_path, "daily"],
            "trigger": CronTrigger(hour=hour, minute=minute, timezone=tz),
        },
        {
            "id": "weekly",
            "func": f"{mod}:job_report",
            "args": [config_path, "weekly"],
            "trigger": CronTrigger(day_of_week=day, hour=whour, minute=wminute, timezone=tz),
        },
        {
            "id": "monthly",
            "func": f"{mod}:job_report",
            "args": [config_path, "monthly"],
            "trigger": CronTrigger(day=int(mday), hour=mhour, minute=mminute, timezone=tz),
        },
    ]
    for source in config.sources:
        if source.enabled:
            jobs.append(
                {
                    "id": f"crawl:{source.name}",
                    "func": f"{mod}:job_crawl",
                    "args": [config_path, source.name],
                    "trigger": IntervalTrigger(minutes=source.interval_minutes, timezone=tz),
                }
            )
    return jobs


def sync_jobs(scheduler: Any, jobs: list[dict[str, Any]]) -> dict[str, str]:
    """Keep stored jobs whose trigger and arguments did not change (so a digest missed while
    the worker was down still runs, within the grace time); replace or add the others and
    remove the ones no longer configured. Returns ``{job id: "kept"|"added"|"removed"}``."""
    wanted = {j["id"]: j for j in jobs}
    out: dict[str, str] = {}
    for job in scheduler.get_jobs():
        spec = wanted.get(job.id)
        if spec is None:
            job.remove()
            out[job.id] = "removed"
        elif str(job.trigger) == str(spec["trigger"]) and list(job.args) == spec["args"]:
            out[job.id] = "kept"
    for job_id, spec in wanted.items():
        if out.get(job_id) != "kept":
            scheduler.add_job(
                spec["func"],
                spec["trigger"],
                args=spec["args"],
                id=job_id,
                name=job_id,
                replace_existing=True,
            )
            out[job_id] = "added"
    return out


def take_lock(config: Any) -> SingleWorker:
    """Check the alerting set-up and take the store's worker lock (:class:`WorkerError` when
    another worker or ``tingfeng serve`` holds it)."""
    from tingfeng.services.alerts import load_runtime

    load_runtime(config)  # a bad policy or channel stops start-up here, not at 03:00
    return SingleWorker(jobstore_path(config)).__enter__()


def start_worker(
    config: Any, config_path: str | None, guard: SingleWorker | None = None
) -> tuple[Any, SingleWorker]:
    """Check the alerting set-up, take the store's worker lock (unless ``guard`` already
    holds it), start the scheduler in the background and return it with the lock (release
    both with :func:`stop_worker`)."""
    if guard is None:
        guard = take_lock(config)
    try:
        scheduler = build_scheduler(config)
        scheduler.start(paused=True)
        changes = sync_jobs(scheduler, planned_jobs(config, config_path))
        log.info("worker jobs: %s", changes)
        scheduler.tingfeng_changes = changes
        scheduler.resume()
    except BaseException:
        guard.__exit__()
        raise
    return scheduler, guard


def stop_worker(scheduler: Any, guard: SingleWorker) -> None:
    scheduler.shutdown(wait=True)
    guard.__exit__()
    close_contexts()


def next_runs(scheduler: Any) -> dict[str, datetime | None]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


class EmbeddedScheduler:
    """The worker's scheduler inside ``tingfeng serve``: :meth:`lock` early (so a second
    scheduler on the store is refused before the server starts), :meth:`start` and
    :meth:`stop` from the app's lifespan, :attr:`state` for ``/healthz``."""

    def __init__(self, config: Any, config_path: str | None) -> None:
        self.config = config
        self.config_path = config_path
        self.lock_path = SingleWorker(jobstore_path(config)).path
        self.guard: SingleWorker | None = None
        self.scheduler: Any = None

    def lock(self) -> None:
        if self.guard is None:
            self.guard = take_lock(self.config)

    def start(self) -> None:
        self.lock()
        self.scheduler, self.guard = start_worker(self.config, self.config_path, self.guard)

    def stop(self) -> None:
        """Stop the scheduler (if it still runs) and release the lock; safe to call twice."""
        try:
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.shutdown(wait=True)
        finally:
            if self.guard is not None:
                self.guard.__exit__()
            if self.scheduler is not None:
                close_contexts()
            self.scheduler = self.guard = None

    @property
    def state(self) -> str:
        """``running`` or ``stopped`` (never started, shut down, or crashed)."""
        return "running" if self.scheduler is not None and self.scheduler.running else "stopped"
