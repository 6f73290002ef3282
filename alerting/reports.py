"""Daily, weekly and monthly reports: what happened, what was answered, and how fast.

:func:`build_report` reads the store for one period ending at a reference time and
returns a :class:`Report`: incidents by category and district, the top incidents, rumors
rebutted (published rebuttals), response-time compliance per tier (on time / late / still
open, from the alerts' deadlines and the linked responses) and the office's line
"本周网民反映问题 N 件，已办结 M 件" (message-board complaints and consultations, and those
with an official reply). :func:`to_markdown` and :func:`to_docx` render it; charts are
matplotlib pictures with a CJK font found at run time.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from alerting.bulletins.context import date_text
from alerting.responses import alert_deadlines
from models import (
    SHANGHAI,
    Alert,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Incident,
    OfficialResponse,
    Tier,
)

log = logging.getLogger(__name__)

Period = Literal["daily", "weekly", "monthly"]
PERIOD_LABELS = {"daily": ("日报", "今日"), "weekly": ("周报", "本周"), "monthly": ("月报", "本月")}
#: Post kinds of a message board that residents write (complaints, consultations).
MESSAGE_KINDS = frozenset({"message"})
#: Rumor score from which an answered incident counts as a rumor rebutted.
RUMOR_SCORE = 0.8
#: Deadline a tier's compliance is measured on (the first public response).
FIRST_DEADLINE = "first_response"
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts"))
FONT_NAMES = ("NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc", "wqy-zenhei.ttc")


class ReportError(Exception):
    pass


def period_bounds(period: Period, at: datetime) -> tuple[datetime, datetime]:
    """The period that ends at ``at``'s local day: the day, the ISO week, the month."""
    local = at.astimezone(SHANGHAI)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        start = day
        end = day + timedelta(days=1)
    elif period == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == "monthly":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ReportError(f"未知的报告周期 {period!r}（daily、weekly、monthly）")
    return start, min(end, max(at, start))


@dataclass
class TierCompliance:
    tier: str
    alerts: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0

    @property
    def rate(self) -> float | None:
        answered = self.on_time + self.late + self.open
        return round(self.on_time / answered, 3) if answered else None


@dataclass
class Report:
    period: Period
    start: datetime
    end: datetime
    office: str
    incidents: int = 0
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_district: list[tuple[str, int]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    rebutted: list[dict[str, Any]] = field(default_factory=list)
    compliance: list[TierCompliance] = field(default_factory=list)
    complaints: int = 0
    resolved: int = 0

    @property
    def label(self) -> str:
        return PERIOD_LABELS[self.period][0]

    @property
    def accountability_line(self) -> str:
        word = PERIOD_LABELS[self.period][1]
        return f"{word}网民反映问题 {self.complaints} 件，已办结 {self.resolved} 件"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["accountability_line"] = self.accountability_line
        for row in out["compliance"]:
            row["rate"] = TierCompliance(**row).rate
        return out


def _in(when: datetime | None, start: datetime, end: datetime) -> bool:
    return when is not None and start <= when < end


def _responded_at(store: Any, alert: Alert) -> datetime | None:
    """When the alert's incident was first answered: a linked response, or a time the
    alert itself records (``responded_at``, or a ``respond`` step in its history)."""
    times = []
    data = alert.model_dump()
    if data.get("incident_id"):
        times += [
            r.posted_at
            for r in store.list_records(
                OfficialResponse, limit=1000, incident_id=data["incident_id"]
            )
        ]
    if isinstance(data.get("responded_at"), datetime):
        times.append(data["responded_at"])
    for step in data.get("history") or []:
        if isinstance(step, dict) and step.get("action") in ("respond", "responded"):
            try:
                times.append(datetime.fromisoformat(str(step.get("at"))))
            except ValueError:
                continue
    return min(times, default=None)


def _compliance(store: Any, start: datetime, end: datetime, at: datetime) -> list[TierCompliance]:
    rows: dict[str, TierCompliance] = {}
    for alert in store.list_records(Alert, limit=max(store.count_records(Alert), 1)):
        # Read by name from the dump: the Alert model belongs to alerting's lifecycle and
        # may gain or rename fields; a report must not break on that.
        data = alert.model_dump()
        incident_id = data.get("incident_id")
        if not _in(data.get("created_at"), start, end) and not (
            incident_id and _incident_in(store, incident_id, start, end)
        ):
            continue
        raw_tier = data.get("tier")
        tier = str(getattr(raw_tier, "value", raw_tier) or "?")
        row = rows.setdefault(tier, TierCompliance(tier))
        row.alerts += 1
        deadlines = alert_deadlines(store, incident_id) if incident_id else {}
        due = deadlines.get(FIRST_DEADLINE) or (min(deadlines.values()) if deadlines else None)
        if due is None:
            continue  # a tier without a required response (IV) counts as an alert only
        answered = _responded_at(store, alert)
        if answered is not None and answered <= due:
            row.on_time += 1
        elif answered is not None or due < at:
            row.late += 1
        else:
            row.open += 1
    order = {"I": 0, "II": 1, "III": 2, "IV": 3}
    return sorted(rows.values(), key=lambda r: order.get(r.tier, 9))


def _incident_in(store: Any, incident_id: str, start: datetime, end: datetime) -> bool:
    incident = store.get_record(Incident, incident_id)
    return incident is not None and _in(incident.first_seen, start, end)


def _complaints(store: Any, start: datetime, end: datetime) -> tuple[int, int]:
    """Message-board posts written in the period, and how many have an official reply."""
    from store import PostFilter

    messages = list(store.iter_posts(PostFilter(kinds=list(MESSAGE_KINDS), since=start, until=end)))
    if not messages:
        return 0, 0
    ids = {m.id for m in messages}
    replied = set()
    for reply in store.iter_posts(PostFilter(kinds=["reply"], root_ids=sorted(ids))):
        replied.add(reply.parent_id or reply.root_id)
    for reply in store.iter_posts(PostFilter(kinds=["reply"], since=start)):
        if reply.parent_id in ids:
            replied.add(reply.parent_id)
    return len(messages), len(ids & replied)


def build_report(store: Any, period: Period, *, at: datetime, office: Any, top: int = 10) -> Report:
    start, end = period_bounds(period, at)
    report = Report(period=period, start=start, end=end, office=office.name)
    incidents_all = store.list_records(Incident, limit=max(store.count_records(Incident), 1))
    incidents = [i for i in incidents_all if _in(i.first_seen, start, end)]
    report.incidents = len(incidents)
    report.by_category = Counter(i.category or "未分类" for i in incidents).most_common()
    report.by_district = Counter(i.district or "未定位" for i in incidents).most_common()
    report.top = [
        {
            "id": i.id,
            "title": i.title,
            "district": i.district or "未定位",
            "category": i.category or "未分类",
            "heat": round(i.heat, 1),
            "posts": i.post_count,
            "first_seen": i.first_seen.isoformat() if i.first_seen else None,
        }
        for i in sorted(incidents, key=lambda i: (-i.heat, i.id))[:top]
    ]
    for b in store.list_records(Bulletin, limit=max(store.count_records(Bulletin), 1)):
        if (
            b.bulletin_kind == BulletinKind.REBUTTAL
            and b.status == BulletinStatus.PUBLISHED
            and _in(b.published_at, start, end)
        ):
            report.rebutted.append(
                {
                    "id": b.id,
                    "title": b.title,
                    "incident_id": b.incident_id,
                    "published_at": b.published_at.isoformat() if b.published_at else None,
                    "url": b.published_url,
                }
            )
    # A rumor the office answered with a post of its own (no bulletin in the system) is
    # rebutted too: rumor incidents with a linked response in the period.
    answered = {r["incident_id"] for r in report.rebutted}
    for incident in incidents_all:
        if (incident.rumor_score or 0) < RUMOR_SCORE or incident.id in answered:
            continue
        responses = [
            r
            for r in store.list_records(OfficialResponse, limit=1000, incident_id=incident.id)
            if _in(r.posted_at, start, end)
        ]
        if responses:
            first = min(responses, key=lambda r: r.posted_at)
            report.rebutted.append(
                {
                    "id": first.id,
                    "title": incident.title,
                    "incident_id": incident.id,
                    "published_at": first.posted_at.isoformat(),
                    "url": first.url,
                }
            )
    report.rebutted.sort(key=lambda r: r["published_at"] or "")
    report.compliance = _compliance(store, start, end, at)
    report.complaints, report.resolved = _complaints(store, start, end)
    return report


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def to_markdown(report: Report) -> str:
    last_day = report.end - timedelta(seconds=1)
    span = (
        date_text(report.start)
        if report.period == "daily"
        else f"{date_text(report.start)}至{date_text(max(last_day, report.start))}"
    )
    lines = [
        f"# {report.office}舆情{report.label}（{span}）",
        "",
        f"**{report.accountability_line}。**",
        "",
    ]
    lines += ["## 一、总体情况", "", f"共发现舆情事件 {report.incidents} 起。", ""]
    if report.by_category:
        lines += ["| 类别 | 事件数 |", "| --- | --- |"]
        lines += [f"| {c} | {n} |" for c, n in report.by_category] + [""]
    if report.by_district:
        lines += ["| 区域 | 事件数 |", "| --- | --- |"]
        lines += [f"| {d} | {n} |" for d, n in report.by_district] + [""]
    lines += ["## 二、重点事件", ""]
    if report.top:
        lines += ["| 事件 | 区域 | 类别 | 热度 | 帖文 |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {t['title']} | {t['district']} | {t['category']} | {t['heat']} | {t['posts']} |"
            for t in report.top
        ]
    else:
        lines.append("本期无重点事件。")
    lines += ["", "## 三、辟谣情况", ""]
    if report.rebutted:
        lines += [
            f"- {r['title']}（{r['published_at'][:10]}）" + (f" {r['url']}" if r["url"] else "")
            for r in report.rebutted
        ]
    else:
        lines.append("本期未发布辟谣声明。")
    lines += ["", "## 四、响应时效", ""]
    if report.compliance:
        lines += ["| 响应级别 | 预警数 | 按时回应 | 超时 | 未回应（未到期） | 按时率 |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        lines += [
            f"| {Tier(c.tier).label} | {c.alerts} | {c.on_time} | {c.late} | {c.open} "
            f"| {_pct(c.rate)} |"
            for c in report.compliance
        ]
    else:
        lines.append("本期无预警。")
    lines += ["", "## 五、网民诉求办理", "", f"{report.accountability_line}。", ""]
    return "\n".join(lines)


def cjk_font() -> Path | None:
    """A CJK font file on this machine, or ``None`` (charts then fall back to ids)."""
    for folder in FONT_DIRS:
        for name in FONT_NAMES:
            found = next(iter(sorted(folder.rglob(name))), None) if folder.is_dir() else None
            if found:
                return found
    return None


def charts(report: Report) -> list[tuple[str, str, bytes]]:
    """PNG bar charts ``(section, caption, png)``: by category and district (section 一),
    compliance per tier (section 四). Without a CJK font, Chinese labels are replaced by
    their position numbers (missing glyphs would draw empty boxes) and a warning logged."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    props = None
    if font is not None:
        font_manager.fontManager.addfont(str(font))
        props = font_manager.FontProperties(fname=str(font))
    else:
        log.warning("no CJK font found in %s: chart labels are numbered", FONT_DIRS)

    def label(texts: list[str]) -> list[str]:
        return texts if props else [f"#{n + 1}" for n in range(len(texts))]

    out = []
    series = [("按类别", report.by_category), ("按区域", report.by_district)]
    for title, rows in series:
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(6, 3), dpi=120)
        names = label([r[0] for r in rows])
        ax.barh(names[::-1], [r[1] for r in rows][::-1], color="#c0392b")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for tick in ax.get_yticklabels():
            tick.set_fontproperties(props) if props else None
        ax.set_xlabel("")
        fig.tight_layout()
        buffer = BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        out.append(("一", f"图：事件数（{title}）", buffer.getvalue()))
    if report.compliance:
        fig, ax = plt.subplots(figsize=(6, 3), dpi=120)
        tiers = (
            [Tier(c.tier).label for c in report.compliance]
            if props
            else [c.tier for c in report.compliance]
        )
        bottoms = [0] * len(tiers)
        for name, attr, color in (
            ("按时", "on_time", "#27ae60"),
            ("超时", "late", "#c0392b"),
            ("未到期", "open", "#f39c12"),
        ):
            values = [getattr(c, attr) for c in report.compliance]
            ax.bar(tiers, values, bottom=bottoms, color=color, label=name if props else attr)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        ax.legend(prop=props)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for tick in ax.get_xticklabels():
            tick.set_fontproperties(props) if props else None
        fig.tight_layout()
        buffer = BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        out.append(("四", "图：响应时效（按级别）", buffer.getvalue()))
    return out


def to_docx(report: Report, config: Any = None, path: Path | None = None) -> bytes:
    """The report as a .docx: GB/T 9704 page, fonts and spacing as bulletins, the Markdown's
    tables as Word tables, and each chart as a picture under the section it illustrates."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt

    from alerting.bulletins.config import BulletinsConfig
    from alerting.bulletins.docx import BODY_PT, add_line, bulletin_docx, set_font, write_docx

    cfg = config or BulletinsConfig()
    title, *lines = to_markdown(report).splitlines()
    pictures: dict[str, list[tuple[str, bytes]]] = {}
    for key, caption, png in charts(report):
        pictures.setdefault(key, []).append((caption, png))

    def add_table(doc: Any, rows: list[list[str]]) -> None:
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = doc.styles["Table Grid"]
        table.alignment = 1  # centred
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                cell = table.cell(r, c)
                paragraph = cell.paragraphs[0]
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                run = paragraph.add_run(text)
                set_font(run, cfg.heading_font if r == 0 else cfg.body_font, 14)

    def add_pictures(doc: Any, key: str | None) -> None:
        for caption, png in pictures.pop(key, []) if key else []:
            doc.add_picture(BytesIO(png), width=Mm(150))
            holder = doc.paragraphs[-1]
            holder.alignment = WD_ALIGN_PARAGRAPH.CENTER
            # an exact line height would clip the picture to one line
            holder.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            add_line(doc, caption, cfg.body_font, 14, indent=False, centre=True)

    def content(doc: Any) -> None:
        section: str | None = None
        table: list[list[str]] = []
        for line in [*lines, ""]:
            if line.startswith("|"):
                if not line.startswith("| ---"):
                    table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
                continue
            if table:
                add_table(doc, table)
                table = []
            if line.startswith("## "):
                add_pictures(doc, section)
                section = line[3:4]
                add_line(doc, line[3:], cfg.heading_font, BODY_PT)
            elif line.strip():
                add_line(doc, line.lstrip("- ").replace("**", ""), cfg.body_font, BODY_PT)
        add_pictures(doc, section)
        for rest in list(pictures):
            add_pictures(doc, rest)
        doc.add_paragraph().paragraph_format.space_after = Pt(0)

    doc = bulletin_docx(
        title.lstrip("# "),
        "",
        issuer=report.office,
        issued_on=(report.end - timedelta(seconds=1)).date(),
        config=cfg,
        before_signature=content,
    )
    return write_docx(doc, path)
