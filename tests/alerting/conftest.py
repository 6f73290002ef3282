"""Fixtures over the fictional city of :mod:`tests.alerting.city` (岚州市)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from models import SHANGHAI, Alert, Bulletin, BulletinKind, BulletinStatus, Incident, Tier
from store.sqlite import SQLiteStore
from tests.alerting.city import GOV, T0, at, complaint_posts, rumor_posts
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
            first_response_due=T0 + timedelta(hours=1),
            follow_up_due=T0 + timedelta(hours=5),
        )
    )
    store.save_record(
        Alert(
            id="alert-lz-2",
            incident_id="inc-lz-2",
            tier=Tier.III,
            rule="direct_complaint",
            first_response_due=at(-600) + timedelta(hours=4),
        )
    )
    yield store
    store.close()
