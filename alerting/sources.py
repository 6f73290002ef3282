"""Alerts about the system itself: unhealthy sources, undeliverable messages, silences
about to end. Mixed into :class:`alerting.engine.AlertEngine`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alerting.events import Event, PassReport, chain_id
from alerting.render import AlertText, local
from models import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertStatus,
    OutboxMessage,
    Silence,
    Tier,
)
from store.base import ConflictError


class SystemAlerts:
    """Source health, dead letters and silence reminders (needs the engine's helpers)."""

    def source_pass(
        self, now: datetime, alerts: list[Alert], silences: list[Silence], report: PassReport
    ) -> None:
        from crawler.health import read_health

        open_by_source = {a.source_name: a for a in alerts if a.is_open and a.source_name}
        admin = [self.config.admin_route]
        for source in self.sources:
            if not source.enabled:
                continue
            health = read_health(self.store, source, now)
            alert = open_by_source.get(source.name)
            if not health.healthy and health.code != "never_crawled":
                if alert is not None and alert.is_open:
                    if alert.reason != health.reason:
                        alert.reason = health.reason or ""
                        alert.figures = health.model_dump(mode="json")
                        self.commit(alert, [], now, report)
                    continue
                alert = Alert(
                    id=self.next_id(f"source-{source.name}"),
                    alert_kind=AlertKind.SOURCE,
                    source_name=source.name,
                    title=f"数据源 {source.title or source.name} 异常",
                    tier=Tier.III,
                    rule="数据源健康",
                    reason=health.reason or "",
                    department="系统管理员",
                    figures=health.model_dump(mode="json"),
                    opened_at=now,
                    created_at=now,
                )
                alert.history.append(AlertEvent(at=now, action="created", text=alert.reason))
                report.source_alerts += 1
                self.commit(
                    alert,
                    [Event("source_unhealthy", admin, _source_note(health))],
                    now,
                    report,
                    muted=self.silence_for(silences, alert, None),
                )
            elif health.healthy and alert is not None and alert.is_open:
                alert.status = AlertStatus.CLOSED
                alert.closed_at, alert.close_reason = now, "数据源已恢复"
                alert.history.append(AlertEvent(at=now, action="closed", text="数据源已恢复"))
                self.commit(
                    alert,
                    [Event("source_recovered", admin)],
                    now,
                    report,
                    muted=self.silence_for(silences, alert, None),
                )

    def dead_letter(self, msg: OutboxMessage, now: datetime) -> None:
        """A message that kept failing: tell the administrator (through other channels)."""
        if msg.event == "dead_letter":
            return  # never an alert about an undeliverable alert about undeliverable ones
        alert, n = self.chain(f"outbox-dead-{msg.channel}")
        note = (
            f"渠道 {msg.channel} 的消息（{msg.event}，预警 {msg.alert_id}）"
            f"持续失败：{msg.last_error}"
        )
        if alert is None or not alert.is_open:
            alert = Alert(
                id=chain_id(f"outbox-dead-{msg.channel}", n),
                alert_kind=AlertKind.SYSTEM,
                title=f"预警渠道 {msg.channel} 投递失败",
                tier=Tier.II,
                rule="消息投递失败",
                reason=note,
                department="系统管理员",
                figures={"dead": 0, "channel": msg.channel},
                opened_at=now,
                created_at=now,
            )
        alert.figures["dead"] = int(alert.figures.get("dead", 0)) + 1
        alert.figures["last_message"] = msg.id
        alert.reason = note
        alert.history.append(
            AlertEvent(at=now, action="dead_letter", text=note, detail={"message": msg.id})
        )
        report = PassReport(at=now)
        self.commit(
            alert,
            [Event("dead_letter", [self.config.admin_route], note)],
            now,
            report,
            exclude=(msg.channel,),
        )

    def silence_reminders(self, now: datetime, report: PassReport) -> None:
        ahead = timedelta(minutes=self.config.silence_reminder_minutes)
        if not ahead:
            return
        for s in self.active_silences(now):
            if s.reminded_at is not None or now < s.ends_at - ahead:
                continue
            s.reminded_at = now
            route = s.created_by if s.created_by in self.config.routes else None
            routes = [route] if route else self.tier_routes(Tier.I)[:1]
            text = AlertText(
                event="silence_ending",
                title=f"【静默即将结束】{s.target.value}：{s.value}",
                lines=[
                    {"label": "设置人", "value": s.created_by},
                    {"label": "原因", "value": s.reason},
                    {"label": "结束时间", "value": local(s.ends_at)},
                ],
            )
            messages = self.enqueue(s.id, 1, "silence_ending", self.channels_of(routes), text, now)
            s.history.append(AlertEvent(at=now, action="reminded", text=f"提醒 {s.created_by}"))
            try:
                self.store.save_records([*messages, s])
            except ConflictError:
                report.conflicts += 1
                continue
            report.messages += len(messages)


def _source_note(health: Any) -> str:
    last = health.last_new_item_at
    when = local(last) if last else "从未"
    return f"最近新内容：{when}；上次采集 {health.pages_ok}/{health.pages} 个页面成功"
