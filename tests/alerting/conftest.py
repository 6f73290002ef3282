"""A fictional city, 岚州市, with a rumor incident and a complaint incident in a real store.

北塘区, evening of 2026-06-10: a vendor dispute at 东门菜市场 becomes the claim that four
城管 beat an old vendor to death. Residents repost and doubt it; the city account answers
at 22:10 with a 情况通报; afterwards the posts turn to rebuttal. A 2025 rebuttal of a similar
rumor is on record. 云溪区: residents complain on the message board about night-time
construction noise; two of three complaints get an official reply.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from models import (
    SHANGHAI,
    Alert,
    Author,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Incident,
    Post,
    Tier,
)
from store.sqlite import SQLiteStore
from tingfeng.config import Config

T0 = datetime(2026, 6, 10, 20, 5, tzinfo=SHANGHAI)
ANSWER_AT = datetime(2026, 6, 10, 22, 10, tzinfo=SHANGHAI)
NOW = datetime(2026, 6, 11, 2, 0, tzinfo=SHANGHAI)
GOV = "lz_gov"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def post(
    nid: str,
    text: str,
    minutes: float,
    *,
    kind: str = "post",
    source: str = "weibo",
    author: str | None = None,
    incident: str = "inc-lz-1",
    **kw,
) -> Post:
    return Post(
        source=source,
        native_id=nid,
        kind=kind,
        text=text,
        created_at=at(minutes),
        fetched_at=at(minutes + 3),
        author=Author(id=author or f"u{nid}", name=author or f"网友{nid}"),
        incident_id=incident,
        url=f"https://weibo.example/{nid}"
        if source == "weibo"
        else f"https://{source}.example/{nid}",
        region_tags=kw.pop("region_tags", ["北塘区"]),
        **kw,
    )


def rumor_posts() -> list[Post]:
    p1 = post(
        "1001",
        "刚刚北塘区东门菜市场，四个城管把一个卖菜的老人活活打死了！太惨了，扩散！"
        "#岚州# http://t.cn/AbC123",
        0,
        reposts=40,
    )
    posts = [
        p1,
        post(
            "1002", "北塘区东门菜市场城管打死卖菜老人，现场视频都传开了，太过分了", 12, reposts=15
        ),
        post(
            "1003",
            "听说北塘区东门菜市场城管把卖菜老人打死了，四个人围着打",
            26,
            source="lzbbs",
            kind="thread",
            title="东门菜市场城管打人致死？",
            reposts=0,
        ),
        post("1004", "东门菜市场那边城管还打伤了两个围观群众，有人被送去医院了", 35, reposts=6),
        post("1005", "城管打伤围观群众的事谁知道，北塘区东门菜市场还打伤了围观的人", 50),
        post("1006", "今晚北塘区东门菜市场人很多，警车也来了，路口堵住了。", 40),
    ]
    for n in range(30):  # reposts before the answer
        posts.append(
            post(f"r{n}", "转发微博", 5 + n * 4, kind="repost", parent_id=p1.id, root_id=p1.id)
        )
    doubts = [
        "真的吗？求证",
        "这是真的假的？？",
        "有没有人知道具体情况，靠谱吗",
        "太吓人了，求证！",
        "不会吧，真打死了？",
        "城管太过分了",
        "官方怎么还不出来说明",
    ]
    for n, text in enumerate(doubts):
        posts.append(
            post(f"c{n}", text, 20 + n * 10, kind="comment", parent_id=p1.id, root_id=p1.id)
        )
    posts.append(
        post(
            "9001",
            "【情况通报】6月10日20时许，北塘区东门菜市场一名摊贩与城管执法人员发生肢体冲突。"
            "网传“四个城管打死卖菜老人”与事实不符，当事人经医院检查无生命危险。具体原因正在调查中。",
            125,
            author=GOV,
            reposts=300,
            incident="inc-lz-1",
        )
    )
    after = [
        "官方通报了，是假的，别信",
        "辟谣了，当事人没事",
        "原来是谣言，造谣的该查",
        "官方通报说不实",
        "还是要等官方消息",
    ]
    for n, text in enumerate(after):
        posts.append(
            post(f"a{n}", text, 135 + n * 20, kind="comment", parent_id=p1.id, root_id=p1.id)
        )
    for n in range(6):
        posts.append(
            post(f"ra{n}", "转发微博", 130 + n * 40, kind="repost", parent_id=p1.id, root_id=p1.id)
        )
    return posts


def complaint_posts() -> list[Post]:
    base = dict(source="lz-board", kind="message", incident="inc-lz-2", region_tags=["云溪区"])
    msgs = [
        post(
            "M1",
            "云溪区滨河路工地每天夜里十二点还在打桩，吵得孩子睡不着，请管一管！",
            -600,
            title="滨河路工地夜间施工扰民",
            **base,
        ),
        post(
            "M2",
            "滨河路工地夜间施工噪音太大，投诉多次没有人管，云溪区住建局能否处理？",
            -300,
            title="夜间施工噪音投诉",
            **base,
        ),
        post(
            "M3",
            "云溪区滨河路施工晚上不停，咨询一下夜间施工许可是谁批的？",
            -120,
            title="夜间施工许可咨询",
            **base,
        ),
    ]
    replies = [
        post(
            "M1-r",
            "您好！经查，该工地未办理夜间施工许可，已责令停止夜间施工。",
            -400,
            source="lz-board",
            kind="reply",
            author="云溪区住房和城乡建设局",
            parent_id=msgs[0].id,
            root_id=msgs[0].id,
            incident="inc-lz-2",
            region_tags=["云溪区"],
        ),
        post(
            "M2-r",
            "您好！已联合城管部门夜间巡查，对违规施工依法处罚。",
            -60,
            source="lz-board",
            kind="reply",
            author="云溪区住房和城乡建设局",
            parent_id=msgs[1].id,
            root_id=msgs[1].id,
            incident="inc-lz-2",
            region_tags=["云溪区"],
        ),
    ]
    return msgs + replies


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
