"""A fictional city's evening, stepped through with the reference clock (``--at``).

澄川市江北区 (about 100 posts a day on its forum, Weibo and message board): a week of ordinary
days, then an evening rumor that city-management officers beat an elderly sweet-potato
vendor to death at the night market spreads on the forum and Weibo, is copied, doubted and
finally answered by the district's 情况通报. Detection runs as the live system would, one
pass every few minutes with ``at`` = the pass's time, over posts crawled a few minutes after
they were written.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from models import Author, Incident, Post
from models.records import IncidentHistory
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from tingfeng.cli import app

DAY0 = datetime.fromisoformat("2026-09-01T00:00:00+08:00")
EVENING = DAY0 + timedelta(days=7, hours=19, minutes=20)
CFG = HotConfigSection(score_rumors=False)
DISTRICT = "江北区"

ORDINARY = [
    (
        "forum",
        "江北区滨河路今早又堵了，{n}路公交晚点二十分钟",
        ["天天堵", "绕解放路走", "早高峰别走滨河路"],
    ),
    ("weibo", "澄川今天最高气温{n}度，傍晚可能有雷阵雨，出门带伞", ["收到", "晒衣服的赶紧收"]),
    (
        "forum",
        "求推荐江北区靠谱的装修师傅，预算{n}万左右",
        ["私信你了", "别找游击队", "我家去年装的还行"],
    ),
    (
        "board",
        "江北区幸福里小区{n}号楼电梯又坏了，老人上下楼很困难",
        ["物业电话打不通", "已反映给社区"],
    ),
    ("weibo", "江北夜市新开了一家米线，排队{n}分钟，味道还不错", ["在哪个位置", "周末去试试"]),
    ("forum", "澄川二中今年中考成绩出来了吗？听说一本线{n}分", ["还没出", "等教育局通知"]),
    ("board", "建议在江北区文化公园增设{n}个公共厕所，周末人太多", ["支持", "早该加了"]),
    ("weibo", "江北区图书馆周末有亲子阅读活动，名额{n}个，需要预约", ["怎么预约", "公众号上报名"]),
    ("forum", "转让九成新婴儿车一辆，江北区自提，{n}元", ["还在吗", "什么牌子"]),
    ("weibo", "今晚澄川江边的晚霞太美了，随手拍{n}张", ["好看", "在哪拍的"]),
]
RUMOR_ROOTS = [
    ("forum", "江北夜市城管打死卖红薯的老人！就在刚才，几个城管把老人按在地上打，人已经不行了"),
    ("weibo", "刚刚江北夜市，城管打人，卖红薯的老大爷被打死了，太惨了，大家转起来"),
    ("weibo", "听说江北夜市城管把一个卖红薯的老人打死了？有没有知情人"),
]
RUMOR_REPLIES = [
    "太过分了，必须严惩",
    "真的假的？有视频吗",
    "我就在现场附近，救护车来了",
    "城管打死人？这也太离谱了",
    "求证一下，别乱传",
    "转发微博",
    "老人家太可怜了",
    "有没有官方消息",
]
OFFICIAL = (
    "weibo",
    "【情况通报】9月8日20时许，江北区夜市一名流动摊贩在与城管执法人员沟通时突发疾病倒地，"
    "现场人员立即拨打120，老人经送医救治目前生命体征平稳。网传“城管打死老人”不实。",
)


def _post(n: int, src: str, text: str, at: datetime, author: str, **kw) -> Post:
    return Post(
        source=src,
        native_id=str(n),
        author=Author(id=f"{src}:{author}", name=author),
        text=text,
        created_at=at,
        fetched_at=at + timedelta(minutes=2 + n % 4),
        region_tags=[DISTRICT],
        **kw,
    )


def ordinary_days(rng: random.Random, days: int) -> list[Post]:
    posts, n = [], 0
    for d in range(days):
        for _ in range(22):  # about 22 threads and 80 replies a day
            src, text, replies = rng.choice(ORDINARY)
            hour = rng.choices(range(24), weights=[1] * 7 + [4] * 5 + [3] * 6 + [6] * 4 + [2] * 2)
            at = DAY0 + timedelta(days=d, hours=hour[0], minutes=rng.randrange(60))
            n += 1
            root = _post(n, src, text.format(n=rng.randrange(3, 40)), at, f"u{rng.randrange(300)}")
            posts.append(root)
            for _ in range(rng.randrange(0, 8)):
                n += 1
                at = at + timedelta(minutes=rng.randrange(2, 40))
                kind = "repost" if src == "weibo" else "reply"
                posts.append(
                    _post(
                        n,
                        src,
                        rng.choice(replies),
                        at,
                        f"u{rng.randrange(300)}",
                        kind=kind,
                        parent_id=root.id,
                        root_id=root.id,
                    )
                )
    return posts


def rumor_evening(rng: random.Random) -> tuple[list[Post], Post]:
    posts: list[Post] = []
    roots = []
    n = 10_000
    for i, (src, text) in enumerate(RUMOR_ROOTS):
        n += 1
        roots.append(_post(n, src, text, EVENING + timedelta(minutes=12 * i), f"r{i}"))
    posts += roots
    # Slow for half an hour, then copied and reposted faster and faster.
    minute = 0.0
    for i in range(90):
        minute += 4.0 if i < 8 else max(0.6, 3.0 - i * 0.04)
        n += 1
        root = roots[min(int(minute // 12), 2)] if i % 3 else roots[0]
        kind = "repost" if root.source == "weibo" else "reply"
        posts.append(
            _post(
                n,
                root.source,
                rng.choice(RUMOR_REPLIES),
                EVENING + timedelta(minutes=minute),
                f"v{rng.randrange(40)}",
                kind=kind,
                parent_id=root.id,
                root_id=root.id,
            )
        )
    src, text = OFFICIAL
    official = _post(n + 1, src, text, EVENING + timedelta(hours=2, minutes=20), "江北城管")
    return [*posts, official], roots[0]


def crossing(posts: list[Post]) -> datetime:
    """When the rumor first has 30 posts from 10 distinct authors within one hour."""
    times = sorted(posts, key=lambda p: p.created_at)
    for i, p in enumerate(times):
        window = [q for q in times[: i + 1] if q.created_at > p.created_at - timedelta(hours=1)]
        if len(window) >= 30 and len({q.author.id for q in window}) >= 10:
            return p.created_at
    raise AssertionError("the rumor never crosses 30 posts / 10 authors")


def test_the_evening_rumor_goes_hot_within_15_minutes_and_ordinary_days_do_not(
    tmp_path: Path,
) -> None:
    rng = random.Random(8)
    ordinary = ordinary_days(rng, 8)
    rumor, first_root = rumor_evening(rng)
    cross = crossing([p for p in rumor if p.author.name != "江北城管"])
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert_posts(ordinary + rumor)
        # Ordinary day 7, a pass every 20 minutes: nothing is hot.
        at = DAY0 + timedelta(days=6)
        while at < EVENING - timedelta(minutes=20):
            report = run_detect(store, CFG, now=at)
            assert report.hot == 0, at
            at += timedelta(minutes=20)
        # The evening, a pass every 5 minutes.
        first_hot = None
        while at <= EVENING + timedelta(hours=3):
            report = run_detect(store, CFG, now=at)
            # The pass saw exactly what had been written by then.
            seen = [p for p in store.get_posts([q.id for q in rumor]) if p.incident_id]
            assert all(p.created_at <= at for p in seen)
            if first_hot is None and report.notify:
                first_hot = at
            at += timedelta(minutes=5)
        inc_id = store.get_post(first_root.id).incident_id
        record = store.get_record(Incident, inc_id)
        hot_incidents = {
            r.id for r in store.list_records(Incident, limit=10_000) if r.extra.get("first_hot_at")
        }
    assert first_hot is not None and first_hot <= cross + timedelta(minutes=15)
    assert hot_incidents == {inc_id}
    assert record is not None and record.district == DISTRICT
    # One incident, only the rumor's posts, the official notice linked to it; the 江北夜市
    # 米线 chatter of the same days stays apart (place names alone do not join stories).
    roots = {p.id for p in rumor if p.parent_id is None}
    assert set(record.root_ids) == roots and record.post_count == len(rumor)
    with SQLiteStore(tmp_path / "s.db") as store:
        history = store.get_record(IncidentHistory, inc_id)
    assert history is not None
    onset = history.first("hot")
    assert onset is not None and onset.at <= cross + timedelta(minutes=15)
    assert "突发" in onset.reason and onset.figures["burst_authors"] >= 5


def test_bad_option_values_are_refused_naming_the_option(tmp_path: Path) -> None:
    config = tmp_path / "tingfeng.yaml"
    config.write_text("store:\n  path: t.db\n", encoding="utf-8")
    env = {"TINGFENG_CONFIG": str(config)}
    runner = CliRunner()
    for args, option in (
        (["detect", "--rescan-hours", "-1"], "--rescan-hours"),
        (["detect", "--at", "昨天晚上"], "--at"),
        (["replay", str(tmp_path), "--speed", "0"], "--speed"),
        (["replay", str(tmp_path), "--at", "2026-13-01"], "--at"),
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert option in result.output, (args, result.output)
    assert not (tmp_path / "t.db").exists() or args[0] == "replay"
