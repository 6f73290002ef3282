"""Report services: what the CLI, the API and the scheduler's digests call."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerting.reports import (
    Period,
    Report,
    ReportError,
    build_report,
    period_bounds,
    to_docx,
    to_markdown,
)
from models import Tier

__all__ = ["ReportError", "build", "docx", "markdown", "queue_report", "report_text"]


def build(store: Any, config: Any, period: Period, *, at: datetime) -> Report:
    """The report of the period (day, ISO week, month) that contains ``at``."""
    return build_report(store, period, at=at, office=config.office)


def markdown(report: Report) -> str:
    return to_markdown(report)


def docx(report: Report, config: Any, path: Path | None = None) -> bytes:
    try:
        return to_docx(report, config.bulletins, path)
    except OSError as exc:
        raise ReportError(f"{path}: 无法写入（{exc}）") from None


def report_text(report: Report) -> Any:
    """The report's Markdown as a channel message: its heading as the title, its headline
    line (网民反映问题 / 已办结) first, then each section's figures, one line each."""
    from alerting.render import AlertText, Line

    heading = to_markdown(report).splitlines()[0]
    lines = [Line(label="网民诉求", value=report.accountability_line)]
    lines.append(Line(label="舆情事件", value=f"{report.incidents} 起"))
    if report.by_category:
        value = "，".join(f"{c} {n}" for c, n in report.by_category[:5])
        lines.append(Line(label="按类别", value=value))
    if report.by_district:
        value = "，".join(f"{d} {n}" for d, n in report.by_district[:5])
        lines.append(Line(label="按区域", value=value))
    for t in report.top[:5]:
        lines.append(
            Line(label="重点事件", value=f"{t['title']}（{t['district']}，热度 {t['heat']}）")
        )
    lines.append(Line(label="辟谣", value=f"{len(report.rebutted)} 条"))
    for c in report.compliance:
        rate = "—" if c.rate is None else f"{c.rate * 100:.0f}%"
        lines.append(
            Line(
                label=f"{Tier(c.tier).label}响应",
                value=f"预警 {c.alerts}，按时 {c.on_time}，超时 {c.late}，按时率 {rate}",
            )
        )
    return AlertText(event="report", title=f"【{heading.lstrip('# ')}】", lines=lines)


def queue_report(store: Any, config: Any, runtime: Any, period: Period, now: datetime) -> int:
    """Queue the report of the last complete period before ``now`` (at Monday 09:00 the
    week that ended at Sunday midnight; on the 1st the previous month) to
    ``alerting.schedule.digest_routes`` through the outbox, once per period (the key is the
    period and its first day). Returns the number of messages queued."""
    from alerting.engine import AlertEngine
    from store.base import ConflictError

    start, _ = period_bounds(period, now)
    report = build(store, config, period, at=start - timedelta(microseconds=1))
    engine = AlertEngine(store, runtime.policy, runtime.config)
    channels = engine.channels_of(runtime.config.schedule.digest_routes)
    subject = f"report-{period}-{report.start.date().isoformat()}"
    messages = engine.enqueue(subject, 1, "report", channels, report_text(report), now)
    try:
        store.save_records(messages)
    except ConflictError:
        return 0  # already queued for this period
    return len(messages)
