"""A second fictional city: an evening of ordinary complaints raises no hot flag.

岚溪县 (about 60 posts a day on its forum, message board and Weibo): six ordinary days,
then an ordinary evening, stepped through with the reference clock as the live system
would, one pass every five minutes. The evening is busier than the days and holds what
real evenings hold: complaints about a power cut, noise and parking, each told once and
answered by a few neighbours, and a lost-dog notice that one resident posts and twenty
others repost within the hour. That notice is a burst against the county's own rate (one
post's reposts, ten times the usual hour); the hot decision holds a single-source cascade
to a far smaller tail probability and asks the virality model whether it will be large,
and it will not: zero hot flags. The
same evening with the decision of before (every burst counts) would flag it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from models import Author, Incident, Post
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore

DAY0 = datetime.fromisoformat("2026-10-12T00:00:00+08:00")
EVENING = DAY0 + timedelta(days=6, hours=19)
CFG = HotConfigSection(score_rumors=False, locality="岚溪县")

DAYTIME = [
    ("forum", "岚溪县城东菜市场今天的青菜{n}块一斤，比上周贵了", ["涨价了", "超市便宜点"]),
    ("board", "建议县里在岚溪中学门口加装红绿灯，放学时段车太多（{n}）", ["支持", "早该装了"]),
    ("weibo", "岚溪今天空气不错，AQI {n}，适合去河边走走", ["确实", "周末去"]),
    ("forum", "求问岚溪县办居住证要带哪些材料？第{n}次问了", ["身份证和租房合同", "去政务大厅"]),
    ("board", "岚溪县人民医院挂号太难了，早上{n}点就排队", ["可以网上预约", "同感"]),
    ("weibo", "岚溪老街新开的面馆，牛肉面{n}元一碗，分量足", ["在哪", "去吃过，还行"]),
]
EVENING_THREADS = [
    ("board", "岚溪县城西片区又停电了，停了{n}分钟，什么时候来电？", ["我家也停了", "打了95598"]),
    ("forum", "岚溪广场舞音响太吵了，晚上{n}点还在放，孩子没法写作业", ["同感", "找社区说说"]),
    ("board", "岚溪县人民路晚上乱停车，消防通道被堵了{n}辆", ["拍照举报", "天天这样"]),
    ("forum", "岚溪县城东有没有晚上营业的药店？孩子发烧{n}度", ["东门大药房24小时", "早日康复"]),
]
LOST_DOG = "寻狗启事：今天傍晚在岚溪县滨河公园走失一只黄色柯基，脖子上有红色项圈，有线索请联系"


def _post(n: int, src: str, text: str, at: datetime, author: str, **kw) -> Post:
    return Post(
        source=src,
        native_id=str(n),
        author=Author(id=f"{src}:{author}", name=author),
        text=text,
        created_at=at,
        fetched_at=at + timedelta(minutes=1 + n % 5),
        region_tags=["岚溪县"],
        **kw,
    )


def _thread(n: int, rng: random.Random, template, at: datetime, replies: int) -> list[Post]:
    src, text, answers = template
    root = _post(n, src, text.format(n=rng.randrange(5, 60)), at, f"u{rng.randrange(400)}")
    out = [root]
    for i in range(replies):
        at = at + timedelta(minutes=rng.randrange(3, 25))
        out.append(
            _post(
                n * 100 + i,
                src,
                rng.choice(answers),
                at,
                f"u{rng.randrange(400)}",
                kind="repost" if src == "weibo" else "reply",
                parent_id=root.id,
                root_id=root.id,
            )
        )
    return out


def county(rng: random.Random) -> tuple[list[Post], Post]:
    posts: list[Post] = []
    n = 1
    for d in range(6):
        for _ in range(16):
            hour = rng.choices(range(24), weights=[1] * 7 + [4] * 5 + [3] * 6 + [5] * 4 + [2] * 2)
            at = DAY0 + timedelta(days=d, hours=hour[0], minutes=rng.randrange(60))
            posts += _thread(n, rng, rng.choice(DAYTIME), at, rng.randrange(0, 5))
            n += 1
    for i, template in enumerate(EVENING_THREADS):
        at = EVENING + timedelta(minutes=10 + 25 * i)
        posts += _thread(n, rng, template, at, rng.randrange(3, 7))
        n += 1
    dog = _post(n, "weibo", LOST_DOG, EVENING + timedelta(minutes=30), "dogowner")
    posts.append(dog)
    for i in range(22):
        at = dog.created_at + timedelta(minutes=2 + i * 2.2)
        posts.append(
            _post(
                n * 100 + i,
                "weibo",
                rng.choice(["帮转", "转发微博", "希望早日找到", "扩散"]),
                at,
                f"n{i}",
                kind="repost",
                parent_id=dog.id,
                root_id=dog.id,
            )
        )
    return posts, dog


def _evening(store: SQLiteStore, config: HotConfigSection, dog: Post) -> tuple[int, int]:
    """Passes every five minutes through the evening: hot flags raised, and how many
    passes saw the lost-dog notice's burst flag up."""
    hot = dog_bursts = 0
    at = EVENING - timedelta(hours=2)
    while at <= EVENING + timedelta(hours=4):
        report = run_detect(store, config, now=at)
        hot += report.hot
        inc = store.get_post(dog.id).incident_id
        record = store.get_record(Incident, inc) if inc else None
        dog_bursts += bool(record is not None and record.burst)
        at += timedelta(minutes=5)
    hot += sum(
        bool(r.extra.get("first_hot_at")) for r in store.list_records(Incident, limit=10_000)
    )
    return hot, dog_bursts


def test_an_ordinary_evening_raises_no_hot_flag(tmp_path: Path) -> None:
    posts, dog = county(random.Random(3))
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert_posts(posts)
        hot, dog_bursts = _evening(store, CFG, dog)
        dog_incident = store.get_record(Incident, store.get_post(dog.id).incident_id)
    assert hot == 0
    # The notice did burst against the county's rate: the decision, not the burst rule,
    # kept it from being hot.
    assert dog_incident is not None and dog_incident.post_count == 23
    assert dog_bursts >= 3


def test_the_same_evening_with_every_burst_counting_flags_the_notice(tmp_path: Path) -> None:
    posts, dog = county(random.Random(3))
    ungated = CFG.model_copy(
        update={"burst_virality_threshold": None, "burst_single_p_value": None}
    )
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert_posts(posts)
        _evening(store, ungated, dog)
        hot = [r for r in store.list_records(Incident, limit=10_000) if r.extra.get("first_hot_at")]
        dog_incident = store.get_post(dog.id).incident_id
    assert [r.id for r in hot] == [dog_incident]
    assert "突发" in hot[0].extra["first_hot_reasons"][0]
