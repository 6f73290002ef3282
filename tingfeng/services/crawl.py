"""Crawls: run configured sources once in a crawl process, and read their health.

The crawl runs in its own process (``python -m tingfeng.crawl_process``) because the
Twisted reactor cannot be restarted within one; the scheduler starts it the same way.
That process boots the application itself (dictionaries, gazetteer names).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from store import Store
from tingfeng.config import Config
from tingfeng.services.errors import ServiceError

#: Called with each JSON event of the crawl process (``progress`` and ``done``).
OnEvent = Callable[[dict[str, Any]], None]


class CrawlOutcome(BaseModel):
    """One ``done`` event per crawled source (its health record), in finishing order."""

    results: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return bool(self.results) and all(r.get("healthy") for r in self.results)


def check_crawl(settings: Config, names: list[str]) -> None:
    """Refuse, before any process starts, what cannot be crawled: unknown names, no
    configuration file, nothing enabled, bad source settings."""
    for name in names:
        settings.source(name)  # unknown names fail here, with the list of known ones
    if settings.source_file is None:
        raise ServiceError("没有配置文件：请用 --config 路径 指定，或设置环境变量 TINGFENG_CONFIG")
    if not names and not any(s.enabled for s in settings.sources):
        raise ServiceError("sources: 没有可采集的数据源（没有启用的数据源）")
    from crawler.run import check_sources, select_sources

    check_sources(select_sources(settings, names))


def crawl_clock(at: datetime | str | None, overrides: list[str] | None = None) -> datetime | None:
    """The crawl's reference clock from ``--at`` (ISO 8601, no zone = Beijing time), or
    :class:`ServiceError` naming the option; ``None`` crawls live. ``--at`` and a
    ``TINGFENG_NOW`` override are the same setting, so giving both is refused."""
    from crawler.dates import NOW_SETTING
    from tingfeng.services.detect import DetectInputError, parse_at

    try:
        when = parse_at(at)
    except DetectInputError as exc:
        raise ServiceError(str(exc)) from None
    if when is not None and any(
        v.partition("=")[0].strip() == NOW_SETTING for v in overrides or []
    ):
        raise ServiceError(f"--at: --at 与 --set {NOW_SETTING}=... 只能给一个")
    return when


def crawl_sources(
    settings: Config,
    names: list[str],
    *,
    overrides: list[str] | None = None,
    at: datetime | str | None = None,
    on_event: OnEvent | None = None,
    log_to_stderr: bool = False,
) -> CrawlOutcome:
    """Crawl ``names`` (default: every enabled source) once; ``overrides`` are Scrapy
    settings as ``NAME=VALUE``. ``at`` is the reference clock (the crawl happens "at" it:
    posts written after it are not stored, relative dates without an HTTP ``Date`` count
    from it, and it is the fetch time of what is stored). Raises ServiceError with the
    log's tail if it fails."""
    from crawler.dates import NOW_SETTING

    when = crawl_clock(at, overrides)
    check_crawl(settings, names)
    cmd = [sys.executable, "-m", "tingfeng.crawl_process", str(settings.source_file), *names]
    cmd.append("--progress")
    for value in overrides or []:
        cmd += ["--set", value]
    if when is not None:
        cmd += ["--set", f"{NOW_SETTING}={when.isoformat()}"]
    outcome = CrawlOutcome()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=None if log_to_stderr else log, text=True,
            encoding="utf-8", cwd=Path.cwd(),
        )  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "done":
                outcome.results.append(event)
            if on_event is not None:
                on_event(event)
        code = proc.wait()
        if code != 0:
            log.seek(0)
            tail = "".join(log.readlines()[-15:]).strip()
            shown = "".join(f"\n  {line}" for line in tail.splitlines())
            raise ServiceError(
                f"采集进程失败（退出码 {code}）" + (f"，日志末尾：{shown}" if tail else "")
            )
    return outcome


def source_health(
    settings: Config, store: Store, names: list[str], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Each named (default: every configured) source's last crawl and whether it works, as
    of ``now`` (default the current time; staleness is judged by the clock)."""
    from crawler.health import read_health

    wanted = [settings.source(n) for n in names] if names else settings.sources
    return [read_health(store, source, now).model_dump(mode="json") for source in wanted]
