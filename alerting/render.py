"""What an alert says (Simplified Chinese), as channel-neutral data.

:func:`compose` turns an alert (plus the incident's posts, rebuttal and clock) into an
:class:`AlertText`: a title, labelled lines and a link. Each channel renders that into its
own markup (plain text, WeCom/DingTalk markdown, a Feishu card, HTML e-mail, JSON), so what
is said is decided once and tested once.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerting.policy import COLOUR_NAMES, TIER_NUMERALS
from models import SHANGHAI, Alert, AlertKind, Deadline, Incident, Post

EVENT_LABELS = {
    "created": "新预警",
    "escalated": "预警升级",
    "new_appeal": "新诉求",
    "reminder": "时限提醒",
    "overdue": "已超时",
    "escalation": "超时升级",
    "recovered": "已平息",
    "source_unhealthy": "数据源异常",
    "source_recovered": "数据源恢复",
    "dead_letter": "消息投递失败",
    "silence_ending": "静默即将结束",
    "test": "测试消息",
    "digest": "预警摘要",
    "report": "舆情报告",
}


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    value: str
    #: A link shown with the value (incident page, rebuttal, official post).
    href: str | None = None


class AlertText(BaseModel):
    """Everything a message says, before markup."""

    model_config = ConfigDict(extra="forbid")

    event: str
    title: str
    tier: str | None = None
    colour: str = "blue"
    lines: list[Line] = Field(default_factory=list)
    link: str | None = None
    link_label: str = "查看事件详情"
    mentions: list[str] = Field(default_factory=list)

    # -- neutral renderings used by several channels ------------------------------------
    def plain_lines(self) -> list[str]:
        out = [self.title]
        for line in self.lines:
            value = f"{line.value} {line.href}" if line.href else line.value
            out.append(f"{line.label}：{value}")
        if self.link:
            out.append(f"{self.link_label}：{self.link}")
        return out

    def markdown_lines(self, colour_tag: str | None = None, quote: bool = True) -> list[str]:
        """Markdown lines; ``quote`` sets fields off as ``>`` (WeCom, DingTalk; Feishu's
        lark_md has no block quote)."""
        title = f"**{self.title}**"
        if colour_tag:
            title = colour_tag.format(text=title)
        out = [title]
        lead = "> " if quote else ""
        for line in self.lines:
            value = f"[{line.value}]({line.href})" if line.href else line.value
            out.append(f"{lead}**{line.label}**：{value}")
        if self.link:
            out.append(f"[{self.link_label}]({self.link})")
        return out

    def html(self) -> str:
        colour = {"red": "#d4380d", "orange": "#fa8c16", "yellow": "#d4b106", "blue": "#1677ff"}
        rows = []
        for line in self.lines:
            value = html.escape(line.value)
            if line.href:
                value = f'<a href="{html.escape(line.href)}">{value}</a>'
            rows.append(
                f'<tr><th align="left" style="padding-right:1em">{html.escape(line.label)}</th>'
                f"<td>{value}</td></tr>"
            )
        link = (
            f'<p><a href="{html.escape(self.link)}">{html.escape(self.link_label)}</a></p>'
            if self.link
            else ""
        )
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
            f'<h2 style="color:{colour.get(self.colour, "#000")}">{html.escape(self.title)}</h2>'
            f"<table>{''.join(rows)}</table>{link}</body></html>"
        )


def local(dt: datetime) -> str:
    return dt.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


def span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = []
    if days:
        parts.append(f"{days}天")
    if hours:
        parts.append(f"{hours}小时")
    if minutes or not parts:
        parts.append(f"{minutes}分钟")
    return "".join(parts)


def deadline_text(d: Deadline, now: datetime) -> str:
    if d.met_at:
        return f"{local(d.due)}（已于 {local(d.met_at)} 完成）"
    left = (d.due - now).total_seconds()
    if left >= 0:
        return f"{local(d.due)}（剩余 {span(left)}）"
    return f"{local(d.due)}（已超时 {span(left)}）"


def trend(acceleration: float, pph_1h: float, pph_6h: float) -> str:
    if acceleration > 0.5 or pph_1h > 1.5 * max(pph_6h, 0.1):
        return "上升"
    if acceleration < -0.5 or pph_1h < 0.5 * pph_6h:
        return "回落"
    return "平稳"


def _num(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def claim_of(posts: list[Post]) -> Post | None:
    """The circulating claim: the most-spread original post of the incident."""
    roots = [p for p in posts if p.kind != "repost" and (p.text or p.title)]
    if not roots:
        return None
    return max(roots, key=lambda p: (p.reposts + p.comments, -p.created_at.timestamp()))


def places_of(incident: Incident, posts: list[Post]) -> list[str]:
    counts: dict[str, int] = {}
    for post in posts:
        for tag in post.region_tags:
            counts[tag] = counts.get(tag, 0) + 1
    ordered = sorted(counts, key=lambda t: (-counts[t], t))
    return [t for t in ordered if t != incident.district][:5]


def quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return f"「{text[:limit]}…」" if len(text) > limit else f"「{text}」"


def compose(
    alert: Alert,
    event: str,
    now: datetime,
    *,
    incident: Incident | None = None,
    posts: list[Post] | None = None,
    rebuttal: Any | None = None,
    base_url: str | None = None,
    note: str | None = None,
    tier_label: str = "",
    colour: str = "blue",
) -> AlertText:
    """The message for ``event`` on ``alert``."""
    label = EVENT_LABELS.get(event, event)
    numeral = TIER_NUMERALS.get(alert.tier, alert.tier.value)
    tier_name = f"{numeral}级（{tier_label + '·' if tier_label else ''}{COLOUR_NAMES[colour]}）"
    name = alert.title or (incident.title if incident else "") or alert.id
    title = f"【{label}·{numeral}级{COLOUR_NAMES[colour]}】{name}"
    lines: list[Line] = []
    if note:
        lines.append(Line(label="说明", value=note))
    if alert.alert_kind == AlertKind.SOURCE:
        # About the system, not an incident: no incident tier label (较大...), and the
        # recovery does not repeat "异常" from the alert's title.
        name = name.removesuffix(" 异常")
        title = f"【{label}】{name}"
        if event == "source_recovered":
            lines.append(Line(label="情况", value="数据源已恢复正常采集"))
            lines.append(Line(label="此前异常", value=alert.reason or "-"))
        else:
            lines.append(Line(label="类别", value="数据源异常（系统告警，不是舆情事件）"))
            lines.append(Line(label="情况", value=alert.reason or name))
        lines.append(Line(label="通知级别", value=f"{numeral}级（{COLOUR_NAMES[colour]}）"))
        if alert.department:
            lines.append(Line(label="处理", value=alert.department))
        return AlertText(
            event=event, title=title, tier=alert.tier.value, colour=colour, lines=lines, link=None
        )
    if alert.alert_kind != AlertKind.INCIDENT:
        lines.append(Line(label="情况", value=alert.reason or name))
        lines.append(Line(label="级别", value=tier_name))
        if alert.department:
            lines.append(Line(label="处理", value=alert.department))
        return AlertText(
            event=event, title=title, tier=alert.tier.value, colour=colour, lines=lines, link=None
        )
    posts = posts or []
    claim = claim_of(posts)
    lines.append(Line(label="事件", value=name))
    if claim is not None:
        lines.append(
            Line(label="传言", value=quote(claim.text or claim.title or ""), href=claim.url)
        )
    where = alert.district or (incident.district if incident else None) or "未定位"
    places = places_of(incident, posts) if incident else []
    if places:
        where += "（" + "、".join(places) + "）"
    lines.append(Line(label="地点", value=where))
    f = alert.figures
    pph, rph = float(f.get("posts_per_hour", 0)), float(f.get("reposts_per_hour", 0))
    speed = (
        f"近1小时 {_num(pph)} 帖/小时、转发 {_num(rph)} 次/小时，"
        f"趋势{trend(float(f.get('acceleration', 0)), pph, float(f.get('posts_per_hour_6h', 0)))}"
        f"；累计 {f.get('posts', 0)} 帖，热度 {float(f.get('heat', 0)):.1f}"
    )
    lines.append(Line(label="传播", value=speed))
    lines.append(Line(label="原因", value=f"规则「{alert.rule}」：{alert.reason}"))
    lines.append(Line(label="级别", value=tier_name))
    for d in alert.deadlines:
        lines.append(Line(label=d.label, value=deadline_text(d, now)))
    if not alert.deadlines:
        lines.append(Line(label="时限", value="无硬性时限，持续关注"))
    score = f.get("rumor_score")
    if score is not None:
        text = f"{float(score):.2f}"
        reasons = (incident.extra.get("rumor_reasons") if incident else None) or []
        if reasons:
            text += "；主要依据：" + "；".join(str(r) for r in reasons[:3])
        lines.append(Line(label="谣言可能性", value=text))
    if rebuttal is not None:
        when = (
            rebuttal.date.astimezone(SHANGHAI).date().isoformat() if rebuttal.date else "日期不详"
        )
        what = "辟谣/通报" if rebuttal.kind == "bulletin" else "类似谣言"
        lines.append(
            Line(
                label="既往辟谣",
                value=f"{when} 已有{what}（相似度 {rebuttal.similarity:.2f}）",
                href=rebuttal.link,
            )
        )
    dept = alert.department or "未指定"
    extra = "、".join(f"{k}：{v}" for k, v in alert.departments.items())
    lines.append(Line(label="责任单位", value=f"{dept}（{extra}）" if extra else dept))
    if alert.assignee:
        lines.append(Line(label="承办人", value=alert.assignee))
    link = None
    if base_url and alert.incident_id:
        link = f"{base_url.rstrip('/')}/incidents/{alert.incident_id}"
    return AlertText(
        event=event, title=title, tier=alert.tier.value, colour=colour, lines=lines, link=link
    )
