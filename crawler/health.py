"""Source health: what one crawl saw, and whether the source still works.

A crawler that dies silently when a cookie expires is the complaint this answers: each
crawl stores a :class:`SourceHealth` under ``source_health:<name>``; alerting (a later
issue) turns an unhealthy one into an alert. :func:`evaluate` is pure so it can be re-run
when the record is read: a source goes stale by the clock, not only when it is crawled.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from crawler.errors import LOGIN_REQUIRED, endpoint_label, error_counts_zh, error_label
from models import Source
from models.common import SHANGHAI, now_utc
from models.post import AwareTime
from store.base import SearchQuery, StoreError

logger = logging.getLogger(__name__)

STATE_PREFIX = "source_health:"
CURSOR_PREFIX = "cursor:"

#: Machine codes of :attr:`SourceHealth.code` (the reason is Chinese text for people).
CODES = (
    "blocked",  # a login wall, captcha or HTTP 432
    "only_errors",  # no page answered
    "failing_endpoint",  # one kind of page keeps failing
    "list_unmatched",  # the list selector (JSON items path) matched nothing
    "content_unmatched",  # the content selector matched nothing in most items
    "stale",  # no new item for longer than expected
    "never_new",  # never a new item, for longer than expected
    "never_crawled",
)


def state_key(source: str) -> str:
    return f"{STATE_PREFIX}{source}"


def cursor_key(source: str) -> str:
    return f"{CURSOR_PREFIX}{source}"


class EndpointHealth(BaseModel):
    """Answers of one endpoint of a source (``comments``, ``parse_detail``...) in a crawl."""

    ok: int = 0
    failed: int = 0
    #: Failures by kind (``http_404``, ``api_error``, ``timeout``...).
    errors: dict[str, int] = Field(default_factory=dict)
    #: Pages behind a login wall, skipped (需要登录): neither answers nor failures.
    login_required: int = 0
    #: Listed pages not asked for because they were collected before and have not changed
    #: (a thread whose reply count is the same): they answered then.
    unchanged: int = 0


def endpoint_counts(flat: dict[str, int]) -> dict[str, EndpointHealth]:
    """``{"comments/ok": 3, "comments/failed/http_404": 5}`` → per-endpoint records."""
    out: dict[str, EndpointHealth] = {}
    for key, value in flat.items():
        name, _, rest = key.partition("/")
        record = out.setdefault(name, EndpointHealth())
        if rest == "ok":
            record.ok += value
        elif rest == LOGIN_REQUIRED:
            record.login_required += value
        elif rest == "unchanged":
            record.unchanged += value
        elif rest.startswith("failed/"):
            kind = rest.removeprefix("failed/")
            record.failed += value
            record.errors[kind] = record.errors.get(kind, 0) + value
    for record in out.values():
        record.ok = max(record.ok, 0)
    return out


def failing_endpoints(endpoints: dict[str, EndpointHealth]) -> list[str]:
    """Endpoints that keep failing: at least 2 failures and more failures than answers.

    One timeout among forty article pages is weather; every comment page answering 404
    is a broken endpoint (a changed path), even while the timelines still work.
    """
    return [
        name for name, e in sorted(endpoints.items()) if e.failed >= FAILING_MIN and e.failed > e.ok
    ]


#: Failures an endpoint needs before it can be called failing.
FAILING_MIN = 2


class SelectorCheck(BaseModel):
    """A setting of a source that must match on its pages (from the spider)."""

    #: ``list``: entries of a list page (``problem`` counts pages where none matched,
    #: out of the ``endpoint``'s answers); ``content``: an item's text (``missing_text``).
    role: Literal["list", "content"]
    #: The setting's name (``list.item``, ``items``, ``thread.content``) and its value.
    setting: str
    value: str = ""
    problem: str = "missing_text"
    endpoint: str | None = None


class SourceHealth(BaseModel):
    """The record of one source's last crawl, with the running facts carried over."""

    source: str
    kind: str = ""
    healthy: bool = True
    #: Why the source is unhealthy, in Chinese, for people (CLI, dashboard, alerts).
    reason: str | None = None
    #: The same as a machine code (one of :data:`CODES`).
    code: str | None = None
    started_at: AwareTime | None = None
    finished_at: AwareTime | None = None
    finish_reason: str = ""
    pages: int = 0
    pages_ok: int = 0
    items: int = 0
    new_items: int = 0
    updated_items: int = 0
    #: New entries stored under another source (a feed's articles under the site source);
    #: they count as new items for staleness.
    discovered_items: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    problems: dict[str, int] = Field(default_factory=dict)
    #: Answers and failures per endpoint (what kind of page was asked for).
    endpoints: dict[str, EndpointHealth] = Field(default_factory=dict)
    blocked: str | None = None
    #: The first pages skipped behind a login wall (counted per endpoint).
    login_required_urls: list[str] = Field(default_factory=list)
    #: What a person should know even of a healthy source, in Chinese (需要登录 pages).
    notes: list[str] = Field(default_factory=list)
    last_new_item_at: AwareTime | None = None
    first_crawl_at: AwareTime | None = None
    crawls: int = 0
    expect_new_within_minutes: int = 120
    #: The source's selectors whose matching nothing makes it unhealthy.
    checks: list[SelectorCheck] = Field(default_factory=list)


#: Days of a source's own posts that say how many new items each hour of the day brings.
HISTORY_DAYS = 7
#: With fewer days watched, or fewer posts in them, the configured limit alone decides.
MIN_HISTORY_DAYS = 2.0
MIN_HISTORY_POSTS = 5
#: A silence is stale when it would happen less often than this at the source's own rate.
STALE_P = 0.01
#: Hours of weight the source's flat rate has in each hour-of-day rate, so an hour never
#: seen busy is not taken for one that cannot have a post (as nlp/heat.py shrinks), but
#: light enough that two or three days of history do not make quiet hours look busy.
HOUR_PRIOR_HOURS = 0.5
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


class SourceHistory(BaseModel):
    """A source's posts by local (Asia/Shanghai) hour of day over ``[start, end)``: what
    says whether a silence is ordinary (a small forum at night) or a broken source."""

    start: AwareTime
    end: AwareTime
    #: Posts written in each hour of the day (0–23) within the span.
    by_hour: dict[int, int] = Field(default_factory=dict)

    @property
    def days(self) -> float:
        return (self.end - self.start) / _DAY

    @property
    def posts(self) -> int:
        return sum(self.by_hour.values())

    @property
    def enough(self) -> bool:
        return self.days >= MIN_HISTORY_DAYS and self.posts >= MIN_HISTORY_POSTS

    def rates(self) -> list[float]:
        """Posts per hour in each hour of the day, shrunk towards the flat rate."""
        exposure = [0.0] * 24
        for start, hours in _hour_segments(self.start, self.end):
            exposure[start.astimezone(SHANGHAI).hour] += hours
        total = sum(exposure)
        flat = self.posts / total if total > 0 else 0.0
        prior = flat * HOUR_PRIOR_HOURS
        return [
            (self.by_hour.get(h, 0) + prior) / (exposure[h] + HOUR_PRIOR_HOURS) for h in range(24)
        ]

    def expected(self, start: datetime, end: datetime) -> float:
        """New items expected in ``[start, end)`` at the source's rate for each hour."""
        rates = self.rates()
        days = max(int((end - start) / _DAY), 0)
        total = days * sum(rates)
        for seg, hours in _hour_segments(start + days * _DAY, end):
            total += rates[seg.astimezone(SHANGHAI).hour] * hours
        return total


def _hour_segments(start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """``[start, end)`` cut at whole hours: each piece's start and its length in hours."""
    out = []
    at = start
    while at < end:
        edge = min(at.replace(minute=0, second=0, microsecond=0) + _HOUR, end)
        out.append((at, (edge - at) / _HOUR))
        at = edge
    return out


def history_for(store: Any, health: SourceHealth, now: datetime) -> SourceHistory | None:
    """The source's history before its silence began, when the silence is longer than its
    configured limit (else none is needed); ``None`` as well without a stored new item or
    when the store cannot answer (the limit then decides)."""
    since = health.last_new_item_at
    if since is None or now - since <= timedelta(minutes=health.expect_new_within_minutes):
        return None
    watched = health.first_crawl_at or since
    start = min(max(since - HISTORY_DAYS * _DAY, watched), since)
    query = SearchQuery(
        sources=[health.source], since=start, until=since, limit=0, facets=["hour"],
        snippets=False,
    )  # fmt: skip
    try:
        buckets = store.search(query).facets.get("hour", [])
    except StoreError as exc:
        logger.warning("%s: no history for staleness (%s)", health.source, exc)
        return None
    by_hour: dict[int, int] = {}
    for label, n in buckets:  # local hours, "2026-03-20T19:00"
        hour = int(label[11:13])
        by_hour[hour] = by_hour.get(hour, 0) + n
    return SourceHistory(start=start, end=since, by_hour=by_hour)


def evaluate(
    health: SourceHealth, now: datetime | None = None, history: SourceHistory | None = None
) -> SourceHealth:
    """Set ``healthy``, ``code`` and ``reason`` (Chinese) from the record and the time;
    ``history`` (:func:`history_for`) lets a silence in the source's quiet hours pass."""
    now = now or now_utc()
    code, reason = _diagnose(health, now, history)
    health.notes = _notes(health)
    health.healthy = code is None
    health.code = code
    health.reason = reason
    return health


_LIST_NAMES = {"list": "列表选择器", "items": "条目路径"}


def _diagnose(
    health: SourceHealth, now: datetime, history: SourceHistory | None = None
) -> tuple[str | None, str | None]:
    blocks = {k: n for k, n in health.errors.items() if k.startswith("blocked_") and n}
    error_total = sum(health.errors.values())
    if blocks or health.blocked:
        kind = next(iter(blocks), "blocked_login")
        reason = f"被拦截：{error_label(kind)}"
        if health.blocked:
            reason += f"（{health.blocked}）"
        return "blocked", reason
    if walled := _walled(health):
        return "blocked", "被拦截：登录墙（" + "；".join(walled) + _walled_urls(health) + "）"
    if health.pages_ok == 0 and error_total:
        return "only_errors", f"只有错误：{error_counts_zh(health.errors)}"
    if failing := failing_endpoints(health.endpoints):
        parts = []
        for name in failing:
            e = health.endpoints[name]
            parts.append(
                f"{endpoint_label(name)}{e.failed + e.ok} 次请求中 {e.failed} 次失败"
                f"（{error_counts_zh(e.errors)}）"
            )
        return "failing_endpoint", "部分页面类型采集失败：" + "；".join(parts)
    for check in health.checks:
        if check.role != "list":
            continue
        missed = health.problems.get(check.problem, 0)
        answers = health.endpoints.get(check.endpoint or "", EndpointHealth()).ok
        if missed and missed >= answers:
            what = _LIST_NAMES.get(check.setting.split(".", 1)[0], "选择器")
            if check.setting.startswith("thread."):
                what = "楼层选择器"
            value = f"（{check.value}）" if check.value else " "
            pages = f"（{missed} 个页面）" if missed > 1 else ""
            return "list_unmatched", f"{what} {check.setting}{value}没有匹配到任何条目{pages}"
    missing = health.problems.get("missing_text", 0)
    seen = health.items + sum(health.dropped.values())
    content = [c for c in health.checks if c.role == "content"]
    if content and missing >= 2 and missing * 2 > seen:
        check = content[0]
        value = f"（{check.value}）" if check.value else " "
        return "content_unmatched", (
            f"正文选择器 {check.setting}{value}在 {seen} 条中有 {missing} 条没有匹配到正文"
        )
    since = health.last_new_item_at or health.first_crawl_at
    limit = timedelta(minutes=health.expect_new_within_minutes)
    if since is not None and now - since > limit:
        idle = _human(now - since)
        if health.last_new_item_at and history is not None and history.enough:
            # Longer than the limit (the crawl cadence); stale only if the source's own
            # hours make such a silence unlikely: P(no item) = exp(-expected).
            expected = history.expected(since, now)
            if math.exp(-expected) >= STALE_P:
                return None, None
            days = max(round(history.days), 1)
            return "stale", (
                f"停滞：{_span(now - since)}没有新帖（按近 {days} 天同时段，"
                f"此时段应有约 {expected:.0f} 帖）"
            )
        if health.last_new_item_at:
            return "stale", f"停滞：{idle}没有新帖（应在 {_human(limit)}内有新帖）"
        return "never_new", f"停滞：{idle}从未有新帖（应在 {_human(limit)}内有新帖）"
    return None, None


def _walled_counts(health: SourceHealth, most: bool) -> list[str]:
    parts = []
    for name, e in sorted(health.endpoints.items()):
        if e.login_required and (not most or e.login_required > e.ok + e.unchanged):
            total = e.ok + e.failed + e.login_required
            parts.append(f"{endpoint_label(name)}{total} 个页面中 {e.login_required} 个需要登录")
    return parts


def _walled(health: SourceHealth) -> list[str]:
    """Endpoints where most pages (more than answered now or unchanged since they last
    answered) were behind a login wall."""
    return _walled_counts(health, most=True)


def _walled_urls(health: SourceHealth) -> str:
    urls = health.login_required_urls
    return f"：{'、'.join(urls)}" if urls else ""


def _notes(health: SourceHealth) -> list[str]:
    """Skipped pages behind a login wall, said even when the source is healthy."""
    parts = _walled_counts(health, most=False)
    if not parts:
        return []
    return ["需要登录（已跳过）：" + "；".join(parts) + _walled_urls(health)]


def read_health(store: Any, source: Source, now: datetime | None = None) -> SourceHealth:
    """The stored health of ``source``, re-evaluated at ``now`` (a source goes stale by the
    clock); a source never crawled is unhealthy (code ``never_crawled``, "从未采集").

    This is what alerting reads to turn a broken source into an alert.
    """
    saved = store.get_state(state_key(source.name))
    if saved is None:
        return SourceHealth(source=source.name, kind=source.kind, healthy=False,
                            code="never_crawled", reason="从未采集")  # fmt: skip
    now = now or now_utc()
    health = SourceHealth.model_validate(saved)
    return evaluate(health, now, history_for(store, health, now))


def merge_previous(current: SourceHealth, previous: dict[str, Any] | None) -> SourceHealth:
    """Carry the long-running facts (first crawl, last new item, crawl count) forward."""
    if previous:
        try:
            old = SourceHealth.model_validate(previous)
        except ValueError:
            old = None
        if old is not None:
            current.first_crawl_at = old.first_crawl_at or current.first_crawl_at
            if current.last_new_item_at is None:
                current.last_new_item_at = old.last_new_item_at
            current.crawls = old.crawls + current.crawls
    return current


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} 分钟"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} 小时"
    return f"{hours / 24:.1f} 天"


def _span(delta: timedelta) -> str:
    """``3 小时 20 分``, ``45 分钟``, ``2 天 5 小时``."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} 小时 {rest} 分" if rest else f"{hours} 小时"
    days, hours = divmod(hours, 24)
    return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
