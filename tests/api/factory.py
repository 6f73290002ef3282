"""A fictional city (临江市) with incidents, posts, sources and one user per role.

Shared by the in-process API tests, the browser tests and bench/bench_api.py. The mess is
deliberate: phone and ID numbers in posts, a repost with no text, an incident without a
district, a source that is blocked by a login wall, one imported source never configured.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crawler.health import SourceHealth, cursor_key, state_key
from models import SHANGHAI, Author, Incident, Post, Role, Source
from store import Store

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
PASSWORDS = {role: f"pass-{role.value}-2026" for role in Role}
USERS = {
    Role.MONITOR: "xiaozhang",
    Role.OFFICER: "liwei",
    Role.ANALYST: "chenfx",
    Role.ADMIN: "admin1",
}
DISPLAY = {Role.MONITOR: "张敏", Role.OFFICER: "李伟", Role.ANALYST: "陈方信", Role.ADMIN: "王管"}
#: A second officer, who approves what the first drafts (opt-in: ``seed_city(...,
#: second_officer=True)`` or :func:`seed_second_officer`, so user counts elsewhere hold).
OFFICER2, OFFICER2_PASSWORD, OFFICER2_DISPLAY = "zhaoqing", "pass-officer2-2026", "赵青"

SOURCES = [
    Source(
        name="lj-weibo",
        kind="weibo",
        title="临江微博搜索",
        region="临江市",
        settings={"queries": ["临江"]},
    ),
    Source(
        name="lj-portal",
        kind="feed",
        title="临江市政府网",
        region="临江市",
        settings={"url": "http://127.0.0.1:9/rss.xml"},
    ),
    Source(
        name="lj-bbs",
        kind="site",
        title="临江论坛",
        region="临江市",
        enabled=True,
        settings={"start_urls": ["http://127.0.0.1:9/bbs/"]},
    ),
]


def _post(native: str, text: str, minutes: int, **kw: object) -> Post:
    data: dict[str, object] = {
        "source": "lj-weibo",
        "native_id": native,
        "text": text,
        "created_at": T0 + timedelta(minutes=minutes),
        "fetched_at": T0 + timedelta(minutes=minutes + 3),
        "author": Author(id=f"u{native}", name=f"临江网友{native}", followers=100 + int(native)),
    }
    data.update(kw)
    return Post.model_validate(data)


def city_posts() -> list[Post]:
    """Three incidents' worth of posts, plus noise."""
    posts = [
        # Incident A: a chemical-plant explosion rumor in 江北区 (hot, likely rumor).
        _post(
            "1001",
            "网传临江市江北区化工厂爆炸，已有多人死亡，联系电话13812345678，大家快转！",
            0,
            reposts=820,
            comments=140,
            likes=300,
            region_tags=["江北区"],
            incident_id="inc-a",
            rumor_score=0.91,
        ),
        _post(
            "1002",
            "江北区化工厂爆炸死了好多人？求证，有没有在现场的",
            12,
            reposts=230,
            comments=60,
            region_tags=["江北区"],
            incident_id="inc-a",
            rumor_score=0.74,
        ),
        _post(
            "1003",
            "听说临江江北化工厂爆炸了，死亡人数被瞒报",
            25,
            reposts=95,
            region_tags=["江北区"],
            incident_id="inc-a",
            rumor_score=0.83,
        ),
        _post(
            "1004",
            "",
            30,
            kind="repost",
            parent_id="lj-weibo:1001",
            root_id="lj-weibo:1001",
            incident_id="inc-a",
        ),
        _post(
            "1005",
            "转发扩散 //@临江网友1001: 网传临江市江北区化工厂爆炸",
            31,
            kind="repost",
            parent_id="lj-weibo:1001",
            root_id="lj-weibo:1001",
            incident_id="inc-a",
        ),
        _post(
            "1006",
            "我家就在化工厂旁边，只是冒烟，没听到爆炸",
            40,
            kind="comment",
            parent_id="lj-weibo:1001",
            root_id="lj-weibo:1001",
            incident_id="inc-a",
        ),
        # The first claim again, copied by another account with a link and a tag.
        _post(
            "1007",
            "【扩散】网传临江市江北区化工厂爆炸，已有多人死亡！ http://t.cn/A6xYz 大家快转",
            45,
            reposts=60,
            region_tags=["江北区"],
            incident_id="inc-a",
            rumor_score=0.88,
        ),
        # Incident B: rain closes a metro line in 南岸区 (hot, not a rumor).
        _post(
            "2001",
            "南岸区暴雨，地铁二号线南坪站暂停运营，市民注意出行安全",
            60 * 5,
            reposts=410,
            comments=80,
            region_tags=["南岸区"],
            incident_id="inc-b",
            rumor_score=0.08,
        ),
        _post(
            "2002",
            "暴雨太大了，南岸区地铁二号线停运，身份证110101199003074512掉在站台了谁捡到了",
            60 * 5 + 20,
            reposts=30,
            region_tags=["南岸区"],
            incident_id="inc-b",
            rumor_score=0.12,
        ),
        # Incident C: a complaint thread with no district (not hot, unscored).
        _post(
            "3001",
            "临江市某小区物业乱收停车费，投诉无门",
            60 * 20,
            source="lj-bbs",
            kind="thread",
            title="物业乱收费",
            incident_id="inc-c",
        ),
        # Noise: an imported post nobody grouped.
        _post("9001", "今天临江天气不错，去滨江公园散步", 60 * 24, source="ced-import"),
    ]
    return posts


def city_incidents() -> list[Incident]:
    return [
        Incident(
            id="inc-a",
            title="网传江北区化工厂爆炸致多人死亡",
            keywords=["化工厂", "爆炸", "江北区"],
            district="江北区",
            category="安全生产",
            first_seen=T0,
            last_seen=T0 + timedelta(minutes=45),
            root_ids=["lj-weibo:1001", "lj-weibo:1002", "lj-weibo:1003", "lj-weibo:1007"],
            post_count=7,
            heat=88.5,
            velocity={
                "posts_per_h_15m": 12.0,
                "posts_per_h_1h": 6.0,
                "posts_per_h_6h": 1.0,
                "acceleration": 40.0,
            },
            burst=True,
            hot=True,
            hot_since=T0 + timedelta(minutes=20),
            rumor_score=0.91,
            extra={"hot_reasons": ["爆发：1 小时内帖数为基线的 5.2 倍"]},
        ),
        Incident(
            id="inc-b",
            title="南岸区暴雨地铁二号线停运",
            keywords=["暴雨", "地铁", "南岸区"],
            district="南岸区",
            category="交通",
            first_seen=T0 + timedelta(hours=5),
            last_seen=T0 + timedelta(hours=5, minutes=20),
            root_ids=["lj-weibo:2001", "lj-weibo:2002"],
            post_count=2,
            heat=61.0,
            velocity={"posts_per_h_15m": 4.0, "posts_per_h_1h": 2.0, "posts_per_h_6h": 0.3},
            hot=True,
            hot_since=T0 + timedelta(hours=5, minutes=10),
            rumor_score=0.12,
        ),
        Incident(
            id="inc-c",
            title="小区物业乱收停车费",
            keywords=["物业", "停车费"],
            district=None,
            category="民生",
            first_seen=T0 + timedelta(hours=20),
            last_seen=T0 + timedelta(hours=20),
            root_ids=["lj-bbs:3001"],
            post_count=1,
            heat=8.0,
            velocity={"posts_per_h_1h": 0.0},
        ),
    ]


def seed_health(store: Store, now: datetime) -> None:
    ok = SourceHealth(
        source="lj-weibo",
        kind="weibo",
        started_at=now - timedelta(minutes=12),
        finished_at=now - timedelta(minutes=10),
        finish_reason="finished",
        pages=14,
        pages_ok=14,
        items=120,
        new_items=9,
        last_new_item_at=now - timedelta(minutes=10),
        first_crawl_at=now - timedelta(days=3),
        crawls=40,
    )
    blocked = SourceHealth(
        source="lj-portal",
        kind="feed",
        started_at=now - timedelta(hours=1),
        finished_at=now - timedelta(minutes=58),
        finish_reason="finished",
        pages=3,
        pages_ok=0,
        errors={"blocked_login": 3, "http_403": 1},
        blocked="跳转到 passport 登录页",
        first_crawl_at=now - timedelta(days=3),
        crawls=12,
    )
    store.set_state(state_key("lj-weibo"), ok.model_dump(mode="json"))
    store.set_state(state_key("lj-portal"), blocked.model_dump(mode="json"))
    store.set_state(cursor_key("lj-weibo"), {"since_id": "5023000000001006"})


def seed_users(store: Store) -> None:
    from api.services.auth import create_user

    for role, name in USERS.items():
        create_user(store, name, role, PASSWORDS[role], actor="seed", display_name=DISPLAY[role])


def seed_second_officer(store: Store) -> None:
    from api.services.auth import create_user

    create_user(
        store,
        OFFICER2,
        Role.OFFICER,
        OFFICER2_PASSWORD,
        actor="seed",
        display_name=OFFICER2_DISPLAY,
    )


def seed_city(
    store: Store, now: datetime, users: bool = True, second_officer: bool = False
) -> None:
    store.upsert_posts(city_posts())
    for inc in city_incidents():
        store.save_record(inc)
    seed_health(store, now)
    if users:
        seed_users(store)
    if second_officer:
        seed_second_officer(store)
