"""Source health: what one crawl saw, and whether the source still works.

A crawler that dies silently when a cookie expires is the complaint this answers: each
crawl stores a :class:`SourceHealth` under ``source_health:<name>``; alerting (a later
issue) turns an unhealthy one into an alert. :func:`evaluate` is pure so it can be re-run
when the record is read: a source goes stale by the clock, not only when it is crawled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from models import Source
from models.common import now_utc
from models.post import AwareTime

STATE_PREFIX = "source_health:"
CURSOR_PREFIX = "cursor:"

_BLOCK_WORDS = {
    "blocked_login": "login wall",
    "blocked_captcha": "captcha",
    "blocked_432": "HTTP 432 anti-crawler answer",
}


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


def endpoint_counts(flat: dict[str, int]) -> dict[str, EndpointHealth]:
    """``{"comments/ok": 3, "comments/failed/http_404": 5}`` → per-endpoint records."""
    out: dict[str, EndpointHealth] = {}
    for key, value in flat.items():
        name, _, rest = key.partition("/")
        record = out.setdefault(name, EndpointHealth())
        if rest == "ok":
            record.ok += value
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


class SourceHealth(BaseModel):
    """The record of one source's last crawl, with the running facts carried over."""

    source: str
    kind: str = ""
    healthy: bool = True
    reason: str | None = None
    started_at: AwareTime | None = None
    finished_at: AwareTime | None = None
    finish_reason: str = ""
    pages: int = 0
    pages_ok: int = 0
    items: int = 0
    new_items: int = 0
    updated_items: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    problems: dict[str, int] = Field(default_factory=dict)
    #: Answers and failures per endpoint (what kind of page was asked for).
    endpoints: dict[str, EndpointHealth] = Field(default_factory=dict)
    blocked: str | None = None
    last_new_item_at: AwareTime | None = None
    first_crawl_at: AwareTime | None = None
    crawls: int = 0
    expect_new_within_minutes: int = 120


def evaluate(health: SourceHealth, now: datetime | None = None) -> SourceHealth:
    """Set ``healthy`` and ``reason`` from the record and the current time."""
    now = now or now_utc()
    reason = None
    blocks = {k: n for k, n in health.errors.items() if k in _BLOCK_WORDS and n}
    error_total = sum(health.errors.values())
    if blocks or health.blocked:
        kind = next(iter(blocks), "blocked_login")
        reason = f"blocked: {_BLOCK_WORDS.get(kind, kind)}"
        if health.blocked:
            reason += f" ({health.blocked})"
    elif health.pages_ok == 0 and error_total:
        detail = ", ".join(f"{n}× {k}" for k, n in sorted(health.errors.items()))
        reason = f"only errors: {detail}"
    elif failing := failing_endpoints(health.endpoints):
        parts = []
        for name in failing:
            e = health.endpoints[name]
            kinds = ", ".join(f"{n}× {k}" for k, n in sorted(e.errors.items()))
            parts.append(f"{name} {e.failed} of {e.failed + e.ok} requests failed ({kinds})")
        reason = "failing endpoint: " + "; ".join(parts)
    else:
        since = health.last_new_item_at or health.first_crawl_at
        limit = timedelta(minutes=health.expect_new_within_minutes)
        if since is not None and now - since > limit:
            idle = now - since
            what = "no new items" if health.last_new_item_at else "never a new item"
            reason = f"stale: {what} for {_human(idle)} (expected within {_human(limit)})"
    health.healthy = reason is None
    health.reason = reason
    return health


def read_health(store: Any, source: Source, now: datetime | None = None) -> SourceHealth:
    """The stored health of ``source``, re-evaluated at ``now`` (a source goes stale by the
    clock); a source never crawled is unhealthy with the reason "never crawled".

    This is what alerting reads to turn a broken source into an alert.
    """
    saved = store.get_state(state_key(source.name))
    if saved is None:
        return SourceHealth(source=source.name, kind=source.kind, healthy=False,
                            reason="never crawled")  # fmt: skip
    return evaluate(SourceHealth.model_validate(saved), now)


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
        return f"{minutes} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"
