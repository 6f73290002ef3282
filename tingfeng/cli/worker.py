"""``tingfeng worker``: the scheduler process (one per store)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from tingfeng.cli.app import UserError, app, console, state


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="列出计划任务后退出 / show the jobs and exit.")
    ] = False,
) -> None:
    """运行调度：抓取、检测、预警评估、发送、每日摘要与每周汇总 / run the scheduler."""
    from alerting.channels import ChannelError
    from alerting.yamlpos import PolicyError
    from tingfeng.bootstrap import setup_logging
    from tingfeng.services.worker import (
        CHANGE_LABELS,
        WorkerError,
        next_runs,
        scheduler_alive,
        start_worker,
        stop_worker,
    )

    config = state.config  # loads the configuration and sets up logging (WARNING)
    # INFO: each detection pass says what it did. (after bootstrap, which set
    # the root logger to WARNING: basicConfig here was a no-op and no INFO line showed).
    setup_logging(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # an English line per request
    path = str(state.config_path) if state.config_path else None
    try:
        scheduler, guard = start_worker(config, path)
    except (WorkerError, PolicyError, ChannelError) as exc:
        raise UserError(str(exc)) from None
    changes = getattr(scheduler, "tingfeng_changes", {})
    for job_id, when in sorted(next_runs(scheduler).items()):
        state_of = CHANGE_LABELS.get(changes.get(job_id, ""), changes.get(job_id, ""))
        console.print(f"任务 {job_id}（{state_of}）：下次 {when.isoformat() if when else '-'}")
    stop = threading.Event()
    if not once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        console.print("调度已启动（Ctrl-C 或 SIGTERM 停止）")
        while not stop.wait(1.0):
            if not scheduler_alive(scheduler):
                break  # the scheduler thread died: exit non-zero, so a supervisor restarts
    crashed = not once and not stop.is_set()
    stop_worker(scheduler, guard)
    if crashed:
        raise UserError(
            "调度线程异常退出（原因见上一行日志）；请检查存储与任务库所在的磁盘后重新启动"
        )
    console.print("调度已停止")
