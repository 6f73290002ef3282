"""The ``alerting:`` configuration section (see docs/configuration.md and docs/alerting.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models import Tier


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EscalationStep(_Section):
    """Wait this long (after the deadline, or after the previous step), then notify the
    route; with ``repeat_minutes`` the step repeats at that interval until acknowledged."""

    wait_minutes: float = Field(default=0, ge=0)
    route: str = Field(min_length=1)
    repeat_minutes: float | None = Field(default=None, gt=0)


class OutboxConfig(_Section):
    """How the sender claims, retries and gives up (see docs/alerting.md)."""

    lease_seconds: float = Field(default=300, gt=0)
    backoff_seconds: float = Field(default=15, gt=0)
    backoff_max_seconds: float = Field(default=600, gt=0)
    #: A message still failing this long after it was stored goes to dead-letter.
    dead_after_hours: float = Field(default=24, gt=0)
    #: Messages claimed per transaction; keep ``batch × timeout`` below the lease.
    batch: int = Field(default=20, ge=1, le=10_000)


class ScheduleConfig(_Section):
    """``tingfeng worker``: what runs when (APScheduler 3.x, persistent job store)."""

    #: SQLite file of the job store; empty means ``<store.path>.jobs.db`` (or
    #: ``data/scheduler.db`` with Elasticsearch). One worker per job store at a time.
    jobstore: Path | None = None
    detect_seconds: float = Field(default=60, gt=0)
    alert_seconds: float = Field(default=60, gt=0)
    send_seconds: float = Field(default=15, gt=0)
    #: Daily digest, weekly report (day and time) and monthly report (day of the month and
    #: time), local time (``timezone``).
    digest_time: str = Field(default="08:00", pattern=r"^\d{1,2}:\d{2}$")
    weekly_time: str = Field(default="mon 09:00", pattern=r"^[a-z]{3} \d{1,2}:\d{2}$")
    monthly_time: str = Field(default="1 09:00", pattern=r"^\d{1,2} \d{1,2}:\d{2}$")
    digest_routes: list[str] = Field(default_factory=lambda: ["duty"])
    timezone: str = "Asia/Shanghai"
    #: A run late by up to this much still runs (APScheduler's default of 1 s silently skips
    #: runs on a busy machine); missed runs of one job are coalesced into one.
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    crawl_timeout_minutes: float = Field(default=30, gt=0)


class DraftOnAlert(_Section):
    """Draft a bulletin as soon as an alert is raised for a likely rumor, so the officer who
    takes the alert finds a rebuttal draft waiting (``alerting.drafts``)."""

    enabled: bool = True
    #: Incidents whose rumor score is at least this (the 中 rumor band and above).
    rumor_min: float = Field(default=0.5, ge=0, le=1)
    #: The kind drafted: a kind (辟谣声明, rebuttal...) or an office template's name.
    kind: str = "辟谣声明"
    #: Alerts of these tiers get a draft (I, II, III, IV).
    tiers: list[str] = Field(default_factory=lambda: [t.value for t in Tier])
    #: Recorded as the draft's author (a person edits and another approves it).
    by: str = Field(default="tingfeng", min_length=1)
    #: Draft the text again each pass while the incident grows, until a person edits it.
    refresh: bool = True

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[str]) -> list[str]:
        known = [t.value for t in Tier]
        for tier in value:
            if tier not in known:
                raise ValueError(f"{tier!r}: 响应级别应为 {'、'.join(known)} 之一")
        return value


def _default_routes() -> dict[Tier, list[str]]:
    return {Tier.I: ["duty", "supervisor"], Tier.II: ["duty"], Tier.III: ["duty"], Tier.IV: []}


class AlertingConfig(_Section):
    """The ``alerting:`` section: policy file, channels, routes, clocks, outbox."""

    #: Tier policy file; empty means the shipped ``alerting/policy.yaml``.
    policy: Path | None = None
    #: Base URL of the dashboard, for the incident link in every alert.
    base_url: str = "http://127.0.0.1:8000"
    #: Channel name → options (``type`` is the channel's registered name).
    channels: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Route name → channel names.
    routes: dict[str, list[str]] = Field(default_factory=dict)
    #: Which routes hear about an alert of each tier.
    tier_routes: dict[Tier, list[str]] = Field(default_factory=_default_routes)
    #: Unhealthy sources and undeliverable messages go here.
    admin_route: str = "admin"
    #: Reminders before a deadline, as shares of its length.
    reminders: list[float] = Field(default_factory=lambda: [0.5, 0.9])
    escalation: list[EscalationStep] = Field(
        default_factory=lambda: [
            EscalationStep(wait_minutes=0, route="supervisor", repeat_minutes=30)
        ]
    )
    #: Remind whoever set a silence this many minutes before it ends.
    silence_reminder_minutes: float = Field(default=30, ge=0)
    #: Incidents updated within this many hours are evaluated on each pass.
    active_hours: float = Field(default=72, gt=0)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    drafts: DraftOnAlert = Field(default_factory=DraftOnAlert)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)

    @field_validator("reminders")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        for share in value:
            if not 0 < share < 1:
                raise ValueError(f"{share}: 提醒点是时限的比例，应在 0 与 1 之间")
        return sorted(set(value))

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("应以 http:// 或 https:// 开头")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _references(self) -> AlertingConfig:
        from alerting.channels import ChannelError, build_channel

        problems: list[str] = []
        for name, raw in self.channels.items():
            try:
                build_channel(name, raw if isinstance(raw, dict) else {})
            except ChannelError as exc:
                problems.append(str(exc))
        for route, names in self.routes.items():
            for name in names:
                if name not in self.channels:
                    problems.append(f"alerting.routes.{route}: 没有名为 {name!r} 的渠道")
        used = [(f"tier_routes.{t.value}", r) for t, rs in self.tier_routes.items() for r in rs]
        used += [(f"escalation.{i}.route", s.route) for i, s in enumerate(self.escalation)]
        for key, route in used:
            # An unconfigured route is allowed only while no route is configured at all
            # (a fresh install records alerts without sending anything).
            if self.routes and route not in self.routes:
                problems.append(f"alerting.{key}: 没有名为 {route!r} 的路由")
        if problems:
            raise ValueError("; ".join(problems))
        return self
