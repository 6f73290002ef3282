"""Hand-driven steps of an alert's life: acknowledge, assign, respond, close.

new → notified → acknowledged (who, optional comment) → assigned (to whom; a hand-over
between departments is recorded) → responded (link to the official post) → closed (with a
reason). Steps may be skipped forward (an officer can respond without an explicit
acknowledgement) but never go back; every step is an entry of the alert's history.
"""

from __future__ import annotations

from datetime import datetime

from models import Alert, AlertEvent, AlertStatus

ORDER = [
    AlertStatus.NEW,
    AlertStatus.NOTIFIED,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.ASSIGNED,
    AlertStatus.RESPONDED,
    AlertStatus.CLOSED,
]
STATUS_LABELS = {
    AlertStatus.NEW: "新建",
    AlertStatus.NOTIFIED: "已通知",
    AlertStatus.ACKNOWLEDGED: "已确认",
    AlertStatus.ASSIGNED: "已交办",
    AlertStatus.RESPONDED: "已回应",
    AlertStatus.CLOSED: "已关闭",
}


class LifecycleError(Exception):
    """A step that does not apply to the alert in its current state."""


def _advance(alert: Alert, to: AlertStatus) -> None:
    if ORDER.index(to) > ORDER.index(alert.status):
        alert.status = to


def _open(alert: Alert, action: str) -> None:
    if alert.status == AlertStatus.CLOSED:
        raise LifecycleError(f"预警 {alert.id} 已关闭，不能{action}")


def _actor(actor: str) -> str:
    actor = actor.strip()
    if not actor:
        raise LifecycleError("必须注明操作人（--by）")
    return actor


def acknowledge(alert: Alert, actor: str, at: datetime, comment: str = "") -> Alert:
    _open(alert, "确认")
    actor = _actor(actor)
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = actor, at
    _advance(alert, AlertStatus.ACKNOWLEDGED)
    alert.history.append(
        AlertEvent(at=at, action="acknowledged", actor=actor, text=comment or "已确认")
    )
    return alert


def assign(
    alert: Alert,
    assignee: str,
    actor: str,
    at: datetime,
    department: str | None = None,
    comment: str = "",
) -> Alert:
    _open(alert, "交办")
    actor = _actor(actor)
    if not assignee.strip():
        raise LifecycleError("必须注明承办人")
    previous = (alert.assignee, alert.assigned_department or alert.department)
    new_department = department or alert.assigned_department or alert.department
    # A hand-over is a change of the department already assigned (not the first choice).
    handover = bool(department) and alert.assigned_department not in (None, department)
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = actor, at
    alert.assignee = assignee.strip()
    alert.assigned_department = new_department
    _advance(alert, AlertStatus.ASSIGNED)
    detail = {
        "assignee": alert.assignee,
        "department": new_department,
        "previous_assignee": previous[0],
        "previous_department": previous[1],
    }
    action = "handed_over" if handover else "assigned"
    text = (
        f"由 {previous[1]} 移交 {new_department}，承办人 {alert.assignee}"
        if handover
        else f"交办 {alert.assignee}" + (f"（{new_department}）" if new_department else "")
    )
    if comment:
        text += f"；{comment}"
    alert.history.append(AlertEvent(at=at, action=action, actor=actor, text=text, detail=detail))
    return alert


def respond(
    alert: Alert,
    url: str,
    actor: str,
    at: datetime,
    deadline: str | None = None,
    *,
    response_id: str | None = None,
) -> Alert:
    """Record the official answer; it meets ``deadline`` (default: first response, else the
    earliest clock still running). ``response_id`` names the tracked official post (then
    ``url`` may be the post id when the post has no link)."""
    _open(alert, "登记回应")
    actor = _actor(actor)
    if response_id is None and not url.startswith(("http://", "https://")):
        raise LifecycleError(f"回应链接应以 http:// 或 https:// 开头：{url!r}")
    target = None
    if deadline:
        target = alert.deadline(deadline)
        if target is None:
            names = ", ".join(d.name for d in alert.deadlines) or "无"
            raise LifecycleError(f"预警 {alert.id} 没有时限 {deadline!r}（有：{names}）")
    else:
        running = [d for d in alert.deadlines if d.met_at is None]
        target = alert.deadline("first_response")
        if target is None or target.met_at is not None:
            target = min(running, key=lambda d: d.due) if running else None
    alert.response_url = alert.response_url or url
    alert.responded_at = alert.responded_at or at
    detail: dict[str, object] = {"url": url}
    if response_id is not None:
        detail["response_id"] = response_id
    if target is not None and target.met_at is None:
        target.met_at, target.met_by = at, url
        detail["deadline"] = target.name
        detail["on_time"] = at <= target.due
        detail["minutes_late"] = max(0, round((at - target.due).total_seconds() / 60))
    _advance(alert, AlertStatus.RESPONDED)
    text = f"已回应：{url}" + (f"（{target.label}）" if target else "")
    alert.history.append(
        AlertEvent(at=at, action="responded", actor=actor, text=text, detail=detail)
    )
    return alert


def close(alert: Alert, reason: str, actor: str, at: datetime) -> Alert:
    _open(alert, "再次关闭")
    actor = _actor(actor)
    if not reason.strip():
        raise LifecycleError("关闭预警必须注明原因（--reason）")
    alert.status = AlertStatus.CLOSED
    alert.closed_at, alert.close_reason = at, reason.strip()
    alert.history.append(AlertEvent(at=at, action="closed", actor=actor, text=reason.strip()))
    return alert
