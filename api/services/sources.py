"""Sources and their health, as the crawler records them (crawler/health.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from crawler.health import cursor_key, read_health
from store import Store
from tingfeng.config import Config


class SourcePublic(BaseModel):
    name: str
    kind: str
    title: str | None
    region: str | None
    enabled: bool
    configured: bool
    interval_minutes: int | None
    posts: int
    healthy: bool | None
    #: Why the source is unhealthy (Chinese); ``code`` is the same as a machine code.
    reason: str | None
    reason_zh: str | None = None
    code: str | None = None
    last_crawl_started: datetime | None
    last_crawl_finished: datetime | None
    finish_reason: str
    pages: int
    pages_ok: int
    items: int
    new_items: int
    errors: dict[str, int]
    blocked: str | None
    #: What a person should know even of a healthy source, in Chinese: pages skipped
    #: behind a login wall (需要登录（已跳过）：帖子页（parse_thread）5 个页面中 2 个需要登录：…).
    notes: list[str] = []
    #: The first pages skipped because they asked for a login.
    login_required_urls: list[str] = []
    last_new_item_at: datetime | None
    crawls: int
    cursor: Any = None


class SourcesPublic(BaseModel):
    data: list[SourcePublic]
    count: int
    unhealthy: int


def list_sources(
    store: Store, config: Config, now: datetime, *, counts: bool = True
) -> SourcesPublic:
    """Configured sources with their last crawl, then sources only seen in the store
    (imports); one stats read plus two state reads per configured source. Without
    ``counts`` the stats read (a scan of every post) is skipped: post counts are 0 and
    imported sources are not listed, which is all the 监测台 needs."""
    per_source: dict[str, int] = store.stats().get("per_source", {}) if counts else {}
    rows: list[SourcePublic] = []
    for src in config.sources:
        h = read_health(store, src, now)
        rows.append(
            SourcePublic(
                name=src.name,
                kind=src.kind,
                title=src.title,
                region=src.region,
                enabled=src.enabled,
                configured=True,
                interval_minutes=src.interval_minutes,
                posts=per_source.get(src.name, 0),
                healthy=h.healthy,
                reason=h.reason,
                reason_zh=h.reason,  # kept: the API once had English in reason
                code=h.code,
                last_crawl_started=h.started_at,
                last_crawl_finished=h.finished_at,
                finish_reason=h.finish_reason,
                pages=h.pages,
                pages_ok=h.pages_ok,
                items=h.items,
                new_items=h.new_items,
                errors=h.errors,
                blocked=h.blocked,
                notes=h.notes,
                login_required_urls=h.login_required_urls,
                last_new_item_at=h.last_new_item_at,
                crawls=h.crawls,
                cursor=store.get_state(cursor_key(src.name)),
            )
        )
    known = {s.name for s in config.sources}
    for name, n in sorted(per_source.items()):
        if name in known:
            continue
        rows.append(
            SourcePublic(
                name=name,
                kind="import",
                title=None,
                region=None,
                enabled=False,
                configured=False,
                interval_minutes=None,
                posts=n,
                healthy=None,
                reason=None,
                last_crawl_started=None,
                last_crawl_finished=None,
                finish_reason="",
                pages=0,
                pages_ok=0,
                items=0,
                new_items=0,
                errors={},
                blocked=None,
                last_new_item_at=None,
                crawls=0,
            )
        )
    unhealthy = sum(1 for r in rows if r.configured and r.enabled and r.healthy is False)
    # Sources needing attention first.
    rows.sort(key=lambda r: (not (r.configured and r.enabled and r.healthy is False), r.name))
    return SourcesPublic(data=rows, count=len(rows), unhealthy=unhealthy)
