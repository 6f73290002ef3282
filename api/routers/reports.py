"""Reports: the day's, the ISO week's and the month's figures, as JSON or a Word document
(everyone logged in reads)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from api.deps import ConfigDep, CurrentUser, NowDep, StoreDep
from api.services.reports import Period, ReportPublic, ReportQuery, report, report_docx

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


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get(
    "/{period}/docx",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}, "description": "GB/T 9704 Word document"}},
)
def get_report_docx(
    period: Period,
    query: Annotated[ReportQuery, Query()],
    user: CurrentUser,
    store: StoreDep,
    config: ConfigDep,
    now: NowDep,
) -> Response:
    """The same report as a Word document in official layout (charts as pictures), as
    ``tingfeng report <period> --docx`` writes it."""
    data, name = report_docx(store, config, period, on=query.on, now=now)
    disposition = f"attachment; filename=\"report-{period}.docx\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=DOCX, headers={"Content-Disposition": disposition})
