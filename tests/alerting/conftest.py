"""Fixtures over the fictional city of :mod:`tests.alerting.city` (岚州市) for bulletins,
responses and reports, and over 青川市 (:mod:`tests.alerting.support`) for the alerting
engine, channels and outbox, with platform receivers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from alerting.policy import load_policy
from models import (
    SHANGHAI,
    Alert,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Deadline,
    Incident,
    Tier,
)
from store.sqlite import SQLiteStore
from tests.alerting import support
from tests.alerting.city import GOV, T0, at, complaint_posts, rumor_posts
from tests.alerting.receivers import (
    DingTalkReceiver,
    FeishuReceiver,
    WebhookReceiver,
    WeComReceiver,
)
from tingfeng.config import Config


@pytest.fixture
def city_config(tmp_path: Path) -> Config:
    return Config.model_validate(
        {
            "store": {"path": str(tmp_path / "lz.db")},
            "office": {
                "name": "岚州市委网信办",
                "accounts": [GOV],
                "sources": ["lz-portal", "lz-board"],
            },
            "gazetteer": {"北塘区": ["东门菜市场", "北塘大道"], "云溪区": ["滨河路"]},
            "sources": [
                {"name": "weibo", "kind": "weibo", "title": "微博", "settings": {}},
                {
                    "name": "lzbbs",
                    "kind": "site",
                    "title": "岚州论坛",
                    "settings": {"start_urls": ["http://127.0.0.1/"]},
                },
            ],
        }
    )


@pytest.fixture
def city_store(tmp_path: Path):
    store = SQLiteStore(tmp_path / "lz.db")
    store.upsert_posts(rumor_posts() + complaint_posts())
    store.save_record(
        Incident(
            id="inc-lz-1",
            title="北塘区东门菜市场城管打死卖菜老人",
            keywords=["城管", "菜市场", "老人", "打死"],
            district="北塘区",
            category="执法冲突",
            first_seen=T0,
            last_seen=at(330),
            root_ids=["weibo:1001"],
            post_count=60,
            heat=88.0,
            rumor_score=0.91,
        )
    )
    store.save_record(
        Incident(
            id="inc-lz-2",
            title="滨河路工地夜间施工扰民",
            keywords=["施工", "噪音"],
            district="云溪区",
            category="城市管理",
            first_seen=at(-600),
            last_seen=at(-60),
            post_count=5,
            heat=20.0,
        )
    )
    # an older rumor answered in 2025, found by claim matching
    store.save_record(
        Bulletin(
            id="b-2025",
            incident_id="inc-old",
            bulletin_kind=BulletinKind.REBUTTAL,
            title="关于网传“北塘区城管打死菜市场老人”的情况说明",
            body="近日，有网民发帖称北塘区城管在菜市场打死卖菜老人。经核实，该信息系谣言。",
            status=BulletinStatus.PUBLISHED,
            drafted_by="张三",
            approved_by="李四",
            published_at=datetime(2025, 4, 2, 10, 0, tzinfo=SHANGHAI),
            published_url="https://weibo.example/lz_gov/2025",
        )
    )
    store.save_record(
        Alert(
            id="alert-lz-1",
            incident_id="inc-lz-1",
            tier=Tier.I,
            rule="social_stability",
            deadlines=[
                Deadline(
                    name="first_response", label="首次回应", hours=1, due=T0 + timedelta(hours=1)
                ),
                Deadline(
                    name="follow_up", label="权威信息发布", hours=5, due=T0 + timedelta(hours=5)
                ),
            ],
        )
    )
    store.save_record(
        Alert(
            id="alert-lz-2",
            incident_id="inc-lz-2",
            tier=Tier.III,
            rule="direct_complaint",
            deadlines=[
                Deadline(
                    name="first_response",
                    label="首次回应",
                    hours=4,
                    due=at(-600) + timedelta(hours=4),
                ),
            ],
        )
    )
    yield store
    store.close()


# -- the alerting engine, channels and outbox (tests/alerting/support.py) ------------------
@pytest.fixture
def clock() -> support.Clock:
    return support.Clock()


@pytest.fixture
def store(tmp_path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "alerts.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture
def webhook(clock) -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(clock)
    yield r
    r.close()


@pytest.fixture
def wecom(clock) -> Iterator[WeComReceiver]:
    r = WeComReceiver(clock)
    yield r
    r.close()


@pytest.fixture
def dingtalk(clock) -> Iterator[DingTalkReceiver]:
    r = DingTalkReceiver(clock)
    yield r
    r.close()


@pytest.fixture
def feishu(clock) -> Iterator[FeishuReceiver]:
    r = FeishuReceiver(clock)
    yield r
    r.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c
