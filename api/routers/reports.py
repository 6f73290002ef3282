"""Reports: the day's, the ISO week's and the month's figures (everyone logged in reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ConfigDep, CurrentUser, NowDep, StoreDep
from api.services.reports import Period, ReportPublic, ReportQuery, report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/{period}", response_model=ReportPublic)
def get_report(
    period: Period,
    query: Annotated[ReportQuery, Query()],
    user: CurrentUser,
    store: StoreDep,
    config: ConfigDep,
    now: NowDep,
) -> ReportPublic:
    """``daily`` / ``weekly`` / ``monthly``: incidents by category and district, the top
    incidents, rumors rebutted, response-time compliance per tier and the office's
    accountability line, for the period containing ``on`` (default: now)."""
    return report(store, config, period, on=query.on, now=now)
