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
#: Crawl subprocesses running now, so stopping the worker stops them too (no orphans).
_children: set[subprocess.Popen[str]] = set()


def job_crawl(config_path: str | None, source: str) -> int:
    """``tingfeng crawl SOURCE`` in a subprocess. A crawl that crashes or hangs is recorded
    in the source's health (so it becomes an alert), never only in a log nobody reads.
    When the process runs on a reference clock (``tingfeng demo``), the crawl runs as of
    that clock (``TINGFENG_NOW``)."""
    cfg = _config(config_path)
    timeout = cfg.alerting.schedule.crawl_timeout_minutes * 60
    started = now_utc()
    try:
        code, stderr = run_crawl(config_path, [source], timeout)
    except subprocess.TimeoutExpired:
        log.error("采集 %s：运行超过 %.0f 分钟，已停止（crawl_timeout）", source, timeout / 60)
        record_crawl_failure(config_path, source, "crawl_timeout", started)
        return -1
    if code < 0 and _stopping.is_set():
        return code  # stopped with the worker: not the source's fault
    if code not in (0, 1):  # 1 = crawled but unhealthy: its health says so
        log.error("采集 %s 异常退出（退出码 %s，crawl_crashed）：%s", source, code, stderr[-500:])
        record_crawl_failure(config_path, source, "crawl_crashed", started)
    return code


def run_crawl(config_path: str | None, sources: list[str], timeout: float) -> tuple[int, str]:
    """Run ``tingfeng crawl SOURCES`` (every enabled source when empty) in its own process
    group, as of the reference clock when one is set; returns the exit code and stderr.
    :func:`stop_children` stops it (and the crawl process it starts) with the worker."""
    import os
    import signal

    from models.common import reference_clock_set

    cmd = [sys.executable, "-m", "tingfeng"]
    if config_path:
        cmd += ["-c", config_path]
    cmd += ["crawl", *sources]
    if reference_clock_set():
        cmd += ["--set", f"TINGFENG_NOW={now_utc().isoformat()}"]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    with _lock:
        _children.add(proc)
        if _stopping.is_set():  # the worker began to stop while this crawl started
            _stop_group(proc, signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(proc, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        with _lock:
            _children.discard(proc)
        if os.name == "posix":
            _stop_group(proc, signal.SIGKILL)  # what the crawl left behind, if anything
    return proc.returncode, stderr or ""


def _stop_group(proc: subprocess.Popen[str], sig: int) -> None:
    import contextlib
    import os

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


#: Set while the worker stops: crawls killed then are not recorded as crashes.
_stopping = threading.Event()


def stop_children(timeout: float = 5.0) -> None:
    """Stop the running crawls (SIGTERM to each crawl's process group, then SIGKILL to
    what is left after ``timeout``)."""
    import signal

    _stopping.set()
    with _lock:
        running = list(_children)
    for proc in running:
        if proc.poll() is None:
            _stop_group(proc, signal.SIGTERM)
    for proc in running:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(proc, signal.SIGKILL)


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
    """Detection, the response tracker, then at once the alerting pass, drafts and sending:
    a post stored just before a detection run reaches the receiver within that run, not one
    interval per stage later."""
    from tingfeng.services.detect import detect

    cfg = _config(config_path)
    store = _store(config_path)
    result = detect(cfg, store, at=now_utc())  # the response tracker included
    out: dict[str, Any] = {
        "detect": result.model_dump(mode="json", exclude={"hot_incidents", "responses"}),
        "responses": result.responses,
    }
    log.info(
        "检测：读入 %d 帖，新事件 %d 个，热点 %d 个，关联官方回应 %d 条",
        result.read,
        result.new_incidents,
        result.hot,
        len(result.responses),
    )
    out.update(job_alerts(config_path))
    return out


def alerts_line(out: dict[str, Any]) -> str:
    """One line of what an alerting pass did, as the worker's log says it."""
    ev, sent = out.get("evaluate", {}), out.get("send", {})
    return (
        f"预警：新增 {ev.get('created', 0)}，升级 {ev.get('escalated', 0)}，"
        f"提醒 {ev.get('reminders', 0)}，超时 {ev.get('overdue', 0)}，"
        f"草稿 {len(out.get('drafts', []))}；"
        f"发送 {sent.get('sent', 0)} 条，失败 {sent.get('failed', 0)}，"
        f"待发 {sent.get('waiting', 0)}"
    )


def job_alerts(config_path: str | None) -> dict[str, Any]:
    """The alerting pass (tiers, clocks, recovery, source health), the drafts of new alerts
    (``alerting.drafts``), then sending."""
    from tingfeng.services.alerts import draft_on_alerts, run_pass

    with _alerting:
        now = now_utc()
        out = run_pass(_store(config_path), _runtime(config_path), now, send=False)
        out["drafts"] = draft_on_alerts(_store(config_path), _config(config_path), now)
        out["send"] = send_pending_now(config_path)
        if _did_something(out):  # a pass runs every minute: a line only when it acted
            log.info("%s", alerts_line(out))
        return out


def _did_something(out: dict[str, Any]) -> bool:
    ev, sent = out.get("evaluate", {}), out.get("send", {})
    keys = ("created", "escalated", "reminders", "overdue", "escalations", "recovered")
    return bool(
        any(ev.get(k) for k in keys)
        or out.get("drafts")
        or any(sent.get(k) for k in ("sent", "failed", "dead"))
    )


def send_pending_now(config_path: str | None) -> dict[str, Any]:
    from tingfeng.services.alerts import send_pending

    return send_pending(_store(config_path), _runtime(config_path), now_utc()).as_dict()


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


#: The name APScheduler gives its background scheduler's thread.
SCHEDULER_THREAD = "APScheduler"


def _report_scheduler_crash(args: threading.ExceptHookArgs) -> None:
    """A scheduler thread that dies (its job store cannot be written: disk full, the file
    deleted) is told in one line; the process then sees :func:`scheduler_alive` false."""
    if args.thread is not None and args.thread.name == SCHEDULER_THREAD:
        log.error(
            "调度线程异常退出，计划任务不再运行：%s: %s",
            args.exc_type.__name__,
            str(args.exc_value).splitlines()[0] if str(args.exc_value) else "",
        )
        return
    _default_excepthook(args)


_default_excepthook = threading.excepthook


def scheduler_alive(scheduler: Any) -> bool:
    """True while ``scheduler`` runs and its thread is alive (APScheduler keeps saying
    ``running`` after its thread died of an exception)."""
    if scheduler is None or not scheduler.running:
        return False
    thread = getattr(scheduler, "_thread", None)
    return thread is None or thread.is_alive()


def build_scheduler(config: Any) -> Any:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = config.alerting.schedule
    path = jobstore_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    threading.excepthook = _report_scheduler_crash
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
            log.warning("任务 %s 错过了计划运行时间 %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("任务 %s 运行失败：%s", event.job_id, event.exception)

    # APScheduler's own warnings are English ("Run time of job ... was missed by ..."):
    # the listener says them in Chinese. Its errors (with the traceback) stay.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    scheduler.add_listener(listen, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def planned_jobs(config: Any, config_path: str | None, speed: float = 1.0) -> list[dict[str, Any]]:
    """The jobs the configuration asks for: id, function, trigger and arguments. ``speed``
    divides every interval (a process on an accelerated reference clock, ``tingfeng demo``,
    crawls and detects at the clock's pace); the daily and weekly times are not scaled."""
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
            "trigger": IntervalTrigger(seconds=sched.detect_seconds / speed, timezone=tz),
        },
        {
            "id": "alerts",
            "func": f"{mod}:job_alerts",
            "args": [config_path],
            "trigger": IntervalTrigger(seconds=sched.alert_seconds / speed, timezone=tz),
        },
        {
            "id": "send",
            "func": f"{mod}:job_send",
            "args": [config_path],
            "trigger": IntervalTrigger(seconds=sched.send_seconds / speed, timezone=tz),
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
                    "trigger": IntervalTrigger(
                        seconds=source.interval_minutes * 60 / speed, timezone=tz
                    ),
                }
            )
    return jobs


#: How :func:`sync_jobs` changed a stored job, as the worker tells its user.
CHANGE_LABELS = {"kept": "沿用", "added": "新增", "removed": "已移除"}


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
    config: Any, config_path: str | None, guard: SingleWorker | None = None, speed: float = 1.0
) -> tuple[Any, SingleWorker]:
    """Check the alerting set-up, take the store's worker lock (unless ``guard`` already
    holds it), start the scheduler in the background and return it with the lock (release
    both with :func:`stop_worker`)."""
    if guard is None:
        guard = take_lock(config)
    _stopping.clear()
    try:
        scheduler = build_scheduler(config)
        scheduler.start(paused=True)
        changes = sync_jobs(scheduler, planned_jobs(config, config_path, speed))
        log.info(
            "计划任务：%s",
            "，".join(f"{job} {CHANGE_LABELS.get(c, c)}" for job, c in sorted(changes.items())),
        )
        scheduler.tingfeng_changes = changes
        scheduler.resume()
    except BaseException:
        guard.__exit__()
        raise
    return scheduler, guard


def stop_worker(scheduler: Any, guard: SingleWorker) -> None:
    scheduler.pause()  # no new runs while the running crawls are stopped
    stop_children()
    scheduler.shutdown(wait=True)
    guard.__exit__()
    close_contexts()


def next_runs(scheduler: Any) -> dict[str, datetime | None]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


class EmbeddedScheduler:
    """The worker's scheduler inside ``tingfeng serve``: :meth:`lock` early (so a second
    scheduler on the store is refused before the server starts), :meth:`start` and
    :meth:`stop` from the app's lifespan, :attr:`state` for ``/healthz``."""

    def __init__(self, config: Any, config_path: str | None, speed: float = 1.0) -> None:
        self.config = config
        self.config_path = config_path
        self.speed = speed
        self.lock_path = SingleWorker(jobstore_path(config)).path
        self.guard: SingleWorker | None = None
        self.scheduler: Any = None

    def lock(self) -> None:
        if self.guard is None:
            self.guard = take_lock(self.config)

    def start(self) -> None:
        self.lock()
        self.scheduler, self.guard = start_worker(
            self.config, self.config_path, self.guard, speed=self.speed
        )

    def stop(self) -> None:
        """Stop the scheduler (if it still runs) and release the lock; safe to call twice."""
        try:
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.pause()  # no new runs while the running crawls are stopped
                stop_children()
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
        return "running" if scheduler_alive(self.scheduler) else "stopped"
