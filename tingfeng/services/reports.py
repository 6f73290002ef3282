"""Report services: what the CLI, the API and the scheduler's digests call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from alerting.reports import Period, Report, ReportError, build_report, to_docx, to_markdown

__all__ = ["ReportError", "build", "docx", "markdown"]


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
