"""Daily, weekly and monthly reports for the API and the reports page (JSON over
:mod:`tingfeng.services.reports`, with personal numbers masked in the titles it quotes)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.security import mask_personal
from models import SHANGHAI
from tingfeng.services import reports as svc

Period = Literal["daily", "weekly", "monthly"]
PERIOD_LABELS = {"daily": "日报", "weekly": "周报", "monthly": "月报"}


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = Field(
        default=None,
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description="a day inside the period (北京时间); default today",
    )


class Count(BaseModel):
    name: str
    count: int


class TopIncident(BaseModel):
    id: str
    title: str
    district: str
    category: str
    heat: float
    posts: int
    first_seen: datetime | None


class Rebutted(BaseModel):
    id: str
    title: str
    incident_id: str | None
    published_at: datetime | None
    url: str | None


class Compliance(BaseModel):
    tier: str
    alerts: int
    on_time: int
    late: int
    open: int
    rate: float | None


class ReportPublic(BaseModel):
    period: Period
    label: str
    start: datetime
    end: datetime
    office: str
    incidents: int
    by_category: list[Count]
    by_district: list[Count]
    top: list[TopIncident]
    rebutted: list[Rebutted]
    compliance: list[Compliance]
    complaints: int
    resolved: int
    accountability_line: str
    markdown: str


def _at(period: Period, on: date | None, now: datetime) -> datetime:
    """The reference time: now, or for a day ``on`` the end of the period containing it
    (the whole period when it is over, up to now while it runs)."""
    if on is None:
        return now
    start, _ = svc.period_bounds(period, datetime.combine(on, time(12), tzinfo=SHANGHAI))
    if period == "daily":
        end = start + timedelta(days=1)
    elif period == "weekly":
        end = start + timedelta(days=7)
    else:
        end = (start + timedelta(days=32)).replace(day=1)
    return max(min(end - timedelta(microseconds=1), now), start)


def report_docx(
    store: Any, config: Any, period: Period, *, on: date | None, now: datetime
) -> tuple[bytes, str]:
    """The report as a Word document (the layout of ``tingfeng report --docx``), with
    personal numbers masked in the titles it quotes, and its file name."""
    built = svc.build(store, config, period, at=_at(period, on, now))
    for row in built.top + built.rebutted:
        row["title"] = mask_personal(row.get("title")) or ""
    start = built.start.astimezone(SHANGHAI)
    name = f"{built.office}舆情{PERIOD_LABELS[period]}-{start:%Y%m%d}.docx"
    return svc.docx(built, config), name


def report(
    store: Any, config: Any, period: Period, *, on: date | None, now: datetime
) -> ReportPublic:
    built = svc.build(store, config, period, at=_at(period, on, now))
    data = built.as_dict()
    for row in data["top"] + data["rebutted"]:
        row["title"] = mask_personal(row.get("title")) or ""
    return ReportPublic(
        period=period,
        label=PERIOD_LABELS[period],
        start=built.start,
        end=built.end,
        office=built.office,
        incidents=built.incidents,
        by_category=[Count(name=n, count=c) for n, c in built.by_category],
        by_district=[Count(name=n, count=c) for n, c in built.by_district],
        top=data["top"],
        rebutted=data["rebutted"],
        compliance=data["compliance"],
        complaints=built.complaints,
        resolved=built.resolved,
        accountability_line=built.accountability_line,
        markdown=mask_personal(svc.markdown(built)) or "",
    )
