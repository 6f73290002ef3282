"""Helpers of the alerting-engine tests: an injected clock, incidents of a fictional city
(青川市, districts 临江区 / 白塔县), a webhook-only alerting configuration. Fixtures that use
them (store, clock, receivers on 127.0.0.1) are in ``conftest.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.config import AlertingConfig
from models import Incident, Post
from store.sqlite import SQLiteStore

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)  # 09:00 in 青川市 (Asia/Shanghai)


class Clock:
    """The injected clock: tests move it, nothing sleeps."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def incident(
    incident_id: str = "inc-1",
    *,
    at: datetime = T0,
    heat: float = 45.0,
    posts: int = 40,
    pph: float = 12.0,
    **kw: Any,
) -> Incident:
    """An incident of 青川市 seen at ``at``. Hot for its place unless ``hot=False``: the
    engine tests are about what happens to an alert, and the shipped policy's heat bands
    count only for incidents that are hot (test_policy.py and test_quiet_city.py test
    which incidents alert at all)."""
    fields: dict[str, Any] = {
        "title": "临江区滨江路城管与摊贩冲突",
        "keywords": ["城管", "摊贩", "滨江路"],
        "district": "临江区",
        "category": "民生诉求",
        "first_seen": at - timedelta(hours=2),
        "last_seen": at,
        "root_ids": [f"wb:{incident_id}-1", f"wb:{incident_id}-2"],
        "post_count": posts,
        "heat": heat,
        "velocity": {
            "posts_per_h_1h": pph,
            "reposts_per_h_1h": pph * 3,
            "posts_per_h_6h": pph / 2,
            "acceleration": 1.0,
        },
        "hot": True,
        "burst": False,
    }
    fields.update(kw)
    return Incident(id=incident_id, **fields)


def root_posts(inc: Incident, at: datetime = T0) -> list[Post]:
    texts = [
        "网传临江区滨江路四名城管围殴摊贩致其死亡，现场有视频，求真相！",
        "滨江路那边好多人围着，城管和卖水果的起冲突了",
    ]
    return [
        Post(
            source="wb",
            native_id=rid.split(":", 1)[1],
            url=f"https://weibo.example/{rid}",
            text=texts[i % 2],
            created_at=at - timedelta(hours=1, minutes=i),
            reposts=500 - i * 400,
            comments=20,
            region_tags=["临江区", "滨江路"],
            incident_id=inc.id,
        )
        for i, rid in enumerate(inc.root_ids)
    ]


def put(store: SQLiteStore, inc: Incident, with_posts: bool = True) -> Incident:
    stored = store.get_record(Incident, inc.id)
    if stored is not None:
        inc = inc.model_copy(update={"version": stored.version})
    if with_posts:
        store.upsert_posts(root_posts(inc, inc.last_seen or T0))
    return store.save_record(inc)


def webhook_config(url: str, **kw: Any) -> AlertingConfig:
    """Every route to one webhook channel (and a second one for the supervisor)."""
    data: dict[str, Any] = {
        "channels": {
            "duty": {"type": "webhook", "url": url + "/duty", "secret": "s3cret"},
            "lead": {"type": "webhook", "url": url + "/lead", "secret": "s3cret"},
        },
        "routes": {"duty": ["duty"], "supervisor": ["lead"], "admin": ["lead"]},
        "tier_routes": {
            "I": ["duty", "supervisor"],
            "II": ["duty"],
            "III": ["duty"],
            "IV": ["duty"],
        },
    }
    data.update(kw)
    return AlertingConfig.model_validate(data)
