"""Deadline clocks of an open alert: reminders, overdue, escalation steps.

Pure over the alert and ``now``: :meth:`DeadlineClocks.clock_events` mutates the alert's
deadlines (what was reminded, when the next escalation falls due) and returns the events to
announce; the engine stores both together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerting.events import UNACKNOWLEDGED, Event, PassReport
from alerting.render import local, span
from models import Alert, AlertEvent


class DeadlineClocks:
    """Mixed into :class:`alerting.engine.AlertEngine` (needs ``config``, ``tier_routes``)."""

    def clock_events(self, alert: Alert, now: datetime, report: PassReport) -> list[Event]:
        if not alert.is_open:
            return []
        events: list[Event] = []
        routes = self.tier_routes(alert.tier)
        steps = self.config.escalation
        for d in alert.deadlines:
            if d.met_at is not None:
                continue
            length = d.hours * 3600
            start = d.due - timedelta(seconds=length)
            passed = [
                s
                for s in self.config.reminders
                if s not in d.reminded and now >= start + timedelta(seconds=s * length)
            ]
            if passed and now < d.due:
                d.reminded = sorted({*d.reminded, *passed})
                left = (d.due - now).total_seconds()
                events.append(
                    Event("reminder", routes, f"{d.label}时限 {local(d.due)}，剩余 {span(left)}")
                )
                report.reminders += 1
            if now < d.due:
                continue
            if d.overdue_at is None:
                d.overdue_at = now
                d.reminded = sorted({*d.reminded, *self.config.reminders})
                if steps:
                    d.next_escalation_at = d.due + timedelta(minutes=steps[0].wait_minutes)
                events.append(Event("overdue", routes, f"{d.label}时限 {local(d.due)} 已过"))
                alert.history.append(
                    AlertEvent(
                        at=now,
                        action="overdue",
                        text=f"{d.label}已超时",
                        detail={"deadline": d.name},
                    )
                )
                report.overdue += 1
            if (
                alert.status in UNACKNOWLEDGED
                and d.next_escalation_at is not None
                and now >= d.next_escalation_at
            ):
                step = steps[min(d.escalations, len(steps) - 1)]
                d.escalations += 1
                if d.escalations < len(steps):
                    d.next_escalation_at = now + timedelta(
                        minutes=steps[d.escalations].wait_minutes
                    )
                elif step.repeat_minutes:
                    d.next_escalation_at = now + timedelta(minutes=step.repeat_minutes)
                else:
                    d.next_escalation_at = None
                events.append(
                    Event(
                        "escalation",
                        [step.route],
                        f"{d.label}超时未确认，第 {d.escalations} 次上报",
                    )
                )
                alert.history.append(
                    AlertEvent(
                        at=now,
                        action="escalation",
                        text=f"超时上报 {step.route}（第 {d.escalations} 次）",
                        detail={"deadline": d.name, "route": step.route},
                    )
                )
                report.escalations += 1
        return events

    # -- sources ----------------------------------------------------------------------
