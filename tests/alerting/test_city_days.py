"""The shipped tier policy over whole days of fictional places, through the real detector
(``nlp.detect.run_detect``) and the real alerting engine on SQLite, one pass every few
minutes with the reference clock.

柳湾县, a quiet county (about 80 posts a day on Weibo, its forum and its message board):

* **an ordinary Tuesday**: a six-post traffic jam after a fender-bender (category 安全事故),
  the county account's notice that a clinic opens (reposted by the county's media account:
  heat over 60 with six posts), chatter, and two complaints on the board that the departments
  answer a few hours later. The jam, the notice and the chatter raise nothing, though the
  policy shipped before (absolute heat bands, bare categories; ``previous_policy`` rebuilds
  it) places the jam in tier I and the notice in tier II. Each complaint is a tier III alert
  (直接诉求) while it waits for its answer — PRODUCT.md's table puts a direct
  consultation/complaint in tier III (the 4-hour rule) — and the board's reply, linked by the
  response tracker, meets its clock in time.
* **a busy Wednesday**: the same kind of ordinary incidents, plus a house collapse with two
  dead told in four posts (tier I at once, not hot, by its words of casualties), a question
  on the board nobody answers (tier III: a direct consultation, PRODUCT.md's table) and in
  the evening a rumor that the water works is contaminated, told by three source posts and
  spread by dozens of residents: it goes hot by its burst and alerts in the same pass, and
  reaches tier II as its heat grows.

星港市滨海区, a busy city (a prior of 6 million residents): an ordinary day whose incidents
each have 20-30 posts, verified media and heat over 60 — nothing unusual for the place, no
alert, where the previous policy paged tier II for each.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerting.engine import AlertEngine
from alerting.policy import RANK, TierPolicy, load_policy
from alerting.responses import link_responses
from models import Alert, Author, Incident, Post, Tier
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from tests.alerting.support import webhook_config
from tingfeng.config import OfficeConfig

TUESDAY = datetime.fromisoformat("2026-10-20T00:00:00+08:00")
WEDNESDAY = TUESDAY + timedelta(days=1)
COUNTY = "柳湾县"
FABU = Author(id="wb:lwfb", name="柳湾发布", verified=True, verified_type=1, followers=260_000)
MEDIA = Author(id="wb:lwrm", name="柳湾融媒", verified=True, verified_type=3, followers=150_000)


def previous_policy(shipped: TierPolicy) -> TierPolicy:
    """The policy shipped before (2026-12-01): the same rules without ``hot``,
    ``min_authors`` or ``any_of`` on heat bands and categories, and no casualty words."""
    rules = []
    for rule in shipped.rules:
        w = rule.when
        if w.keywords:
            continue
        hot = None if (w.heat_min is not None or w.categories) else w.hot
        bare = w.model_copy(update={"hot": hot, "any_of": [], "min_authors": None})
        rules.append(rule.model_copy(update={"when": bare}))
    da = shipped.direct_appeal.model_copy(update={"answered_kinds": []})
    return shipped.model_copy(update={"rules": rules, "direct_appeal": da})


@dataclass
class Writer:
    """Posts of one place; ids and authors are deterministic."""

    region: str
    rng: random.Random
    posts: list[Post] = field(default_factory=list)
    n: int = 0

    def post(self, text: str, at: datetime, author: Author | None = None, **kw) -> Post:
        self.n += 1
        src = kw.pop("source", "weibo")
        if author is None:
            i = self.rng.randrange(600)
            author = Author(id=f"{src}:u{i}", name=f"网友{i}", followers=200 + 13 * i)
        p = Post(
            source=src,
            native_id=str(self.n),
            author=author,
            text=text,
            created_at=at,
            fetched_at=at + timedelta(minutes=2),
            region_tags=[self.region],
            **kw,
        )
        self.posts.append(p)
        return p

    def thread(self, root: Post, replies: list[tuple[float, str]], **kw) -> None:
        kind = "repost" if root.source == "weibo" else "reply"
        for minutes, text in replies:
            author = kw.get("author")
            self.post(
                text,
                root.created_at + timedelta(minutes=minutes),
                author,
                source=root.source,
                kind=kw.get("kind", kind),
                parent_id=root.id,
                root_id=root.id,
            )

    def board(self, title: str, text: str, at: datetime, answer: tuple[float, str, str] | None):
        msg = self.post(text, at, source="lw-board", kind="message", title=title)
        if answer is not None:
            hours, who, reply = answer
            self.post(
                reply,
                at + timedelta(hours=hours),
                Author(id=f"board:{who}", name=who),
                source="lw-board",
                kind="reply",
                parent_id=msg.id,
                root_id=msg.id,
            )
        return msg


CHATTER = [
    ("柳湾今天最高气温{n}度，傍晚可能有小雨，出门带伞", ["收到", "晒的被子赶紧收"]),
    ("柳湾老街新开的米粉店，一碗{n}块，汤很鲜", ["在哪个位置", "周末去试试"]),
    ("求推荐柳湾县城靠谱的装修师傅，预算{n}万", ["私信你了", "我家去年装的还行"]),
    ("滨河公园的桂花开了，晚上散步{n}圈都是香的", ["好看", "今晚去走走"]),
    ("柳湾一中今年秋季运动会定在{n}号，家长可以去看吗", ["可以的", "等学校通知"]),
    ("转让九成新电动车一辆，柳湾县城自提，{n}元", ["还在吗", "什么牌子"]),
]


def chatter(w: Writer, day: datetime, threads: int = 14) -> None:
    rng = w.rng
    for _ in range(threads):
        text, answers = rng.choice(CHATTER)
        hour = rng.choices(range(24), weights=[1] * 7 + [4] * 5 + [3] * 6 + [5] * 4 + [2] * 2)
        at = day + timedelta(hours=hour[0], minutes=rng.randrange(60))
        root = w.post(text.format(n=rng.randrange(3, 40)), at)
        w.thread(root, [(5 + 7 * i, rng.choice(answers)) for i in range(rng.randrange(0, 4))])


def ordinary_day(w: Writer, day: datetime) -> dict[str, Post]:
    """What an ordinary day of 柳湾县 holds; returns the roots of the named incidents."""
    out: dict[str, Post] = {}
    jam = w.post(
        "柳湾大道人民路口出事故了，两车剐蹭，早高峰堵了快半小时",
        day + timedelta(hours=8, minutes=5),
        reposts=8,
        comments=4,
    )
    w.thread(jam, [(6, "刚过去，确实堵"), (11, "交警已经到了"), (19, "绕滨河路吧")])
    w.post(
        "//转发：柳湾大道人民路口两车剐蹭，请过往车辆绕行",
        jam.created_at + timedelta(minutes=14),
        MEDIA,
        kind="repost",
        parent_id=jam.id,
        root_id=jam.id,
    )
    w.thread(jam, [(27, "天天这个路口")])
    out["jam"] = jam
    clinic = w.post(
        "【便民】县人民医院城东门诊部今日起试运行，开设全科、儿科、口腔科，工作日8:00-17:30",
        day + timedelta(hours=9, minutes=30),
        FABU,
        reposts=30,
        comments=12,
    )
    w.thread(clinic, [(8, "终于不用跑老城区了"), (15, "周末开不开"), (31, "好消息")])
    w.post(
        "//转发：县人民医院城东门诊部试运行",
        clinic.created_at + timedelta(minutes=20),
        MEDIA,
        kind="repost",
        parent_id=clinic.id,
        root_id=clinic.id,
    )
    w.thread(clinic, [(44, "转发微博")])
    out["clinic"] = clinic
    out["lamp"] = w.board(
        "城东新村路灯不亮",
        "柳湾县城东新村三巷的路灯坏了一个星期，晚上很黑，老人出门不方便",
        day + timedelta(hours=10, minutes=10),
        (4, "柳湾县城市管理局", "您好，已安排维修人员今日更换灯具。"),
    )
    out["fumes"] = w.board(
        "饭店油烟扰民",
        "滨河小区旁边的饭店油烟直排，家里窗户都不敢开，请环保部门管一管",
        day + timedelta(hours=13, minutes=40),
        (2.5, "柳湾县生态环境局", "您好，经现场检查，已责令该店三日内安装油烟净化设施。"),
    )
    chatter(w, day)
    return out


def busy_day(w: Writer, day: datetime) -> dict[str, Post]:
    out = ordinary_day(w, day)
    at = day + timedelta(hours=15, minutes=10)
    out["collapse"] = w.post("石桥镇一处民房倒塌，造成2人死亡、1人受伤，消防还在现场", at)
    w.post("石桥镇民房倒塌，听说有人遇难，救护车来了好几辆", at + timedelta(minutes=9))
    w.post(
        "【突发】石桥镇一民房倒塌，救援正在进行，伤亡情况待官方通报",
        at + timedelta(minutes=16),
        MEDIA,
    )
    w.post("石桥镇民房倒塌的事有人知道吗，我亲戚就住那边", at + timedelta(minutes=23))
    out["bus"] = w.board(
        "石桥镇班车停运咨询",
        "石桥镇到县城的班车这周是不是停运了？没有看到任何通知，上班怎么去？",
        day + timedelta(hours=16, minutes=30),
        None,
    )
    evening = day + timedelta(hours=19, minutes=20)
    roots = [
        w.post("柳湾水厂的自来水被化工厂污染了，喝了会得癌，大家千万别喝自来水", evening),
        w.post(
            "听说柳湾水厂的自来水被化工厂污染了？家里老人已经不敢喝自来水了",
            evening + timedelta(minutes=9),
            source="lwbbs",
            kind="thread",
            title="柳湾水厂自来水被化工厂污染了？",
        ),
        w.post(
            "柳湾自来水发黄有怪味，水厂被化工厂污染了，千万别喝自来水",
            evening + timedelta(minutes=17),
        ),
    ]
    replies = ["真的假的", "已经去超市买桶装水了", "求官方回应", "转发微博", "我家水也发黄"]
    replies += ["别乱传，等通知", "化工厂早该查了", "超市的水都卖空了"]
    minute = 0.0
    for i in range(75):
        minute += 3.0 if i < 6 else max(0.7, 2.2 - i * 0.02)
        at = evening + timedelta(minutes=minute)
        told = [r for r in roots if r.created_at < at]
        root = told[i % len(told)]
        k = w.rng.randrange(40)
        w.thread(
            root,
            [((at - root.created_at).total_seconds() / 60, w.rng.choice(replies))],
            author=Author(id=f"{root.source}:v{k}", name=f"居民{k}", followers=400),
        )
    out["water"] = roots[0]
    return out


@dataclass
class Run:
    """What the passes saw: alerts at the end, and per incident root the first time it was
    hot, the first time it had an alert, and the tiers it went through."""

    store: SQLiteStore
    roots: dict[str, Post]
    first_hot: dict[str, datetime] = field(default_factory=dict)
    opened: dict[str, datetime] = field(default_factory=dict)
    tiers: dict[str, list[Tier]] = field(default_factory=dict)
    #: The most urgent tier the previous policy gave each incident at any pass.
    before: dict[str, Tier] = field(default_factory=dict)

    def incident_of(self, name: str) -> str:
        inc = self.store.get_post(self.roots[name].id).incident_id
        assert inc is not None, name
        return inc

    def alerts(self) -> list[Alert]:
        return [a for a in self.store.list_records(Alert, limit=1000) if a.incident_id]


def step(
    store: SQLiteStore,
    policy: TierPolicy,
    config: HotConfigSection,
    start: datetime,
    end: datetime,
    minutes: float,
    run: Run,
) -> None:
    """Passes as the worker's detect job runs them: detection, the response tracker (the
    board's replies speak for the office), the alerting pass."""
    eng = AlertEngine(store, policy, webhook_config("http://127.0.0.1:9"))
    old = AlertEngine(store, previous_policy(policy), eng.config)
    office = OfficeConfig(sources=["lw-board"])
    at = start
    while at <= end:
        run_detect(store, config, now=at)
        alerted = [store.get_record(Incident, a.incident_id or "") for a in run.alerts()]
        link_responses(store, office, now=at, incidents=[i for i in alerted if i is not None])
        eng.run(at)
        appeals = old.direct_appeals(at)
        for inc in store.list_records(Incident, limit=1000):
            if inc.hot:
                run.first_hot.setdefault(inc.id, at)
            was = old.policy.decide(inc, appeals.get(inc.id, 0))
            if was and RANK[was.tier] > RANK[run.before.get(inc.id, Tier.IV)]:
                run.before[inc.id] = was.tier
        for alert in run.alerts():
            run.opened.setdefault(alert.incident_id or "", at)
            seen = run.tiers.setdefault(alert.incident_id or "", [])
            if not seen or seen[-1] != alert.tier:
                seen.append(alert.tier)
        at += timedelta(minutes=minutes)


def county_run(tmp: Path, policy: TierPolicy, busy: bool) -> Run:
    w = Writer(COUNTY, random.Random(11))
    if busy:  # Tuesday's chatter is the county's history behind the burst rule
        chatter(w, TUESDAY, threads=40)
        roots = busy_day(w, WEDNESDAY)
    else:
        roots = ordinary_day(w, TUESDAY)
    store = SQLiteStore(tmp / "county.db")
    store.upsert_posts(w.posts)
    run = Run(store, roots)
    cfg = HotConfigSection(score_rumors=False, locality=COUNTY)
    if not busy:
        step(
            store, policy, cfg, TUESDAY + timedelta(hours=7), TUESDAY + timedelta(hours=23), 30, run
        )
        return run
    # Tuesday's posts are within the detector's first look-back: the county's history.
    day = WEDNESDAY
    step(store, policy, cfg, day + timedelta(hours=7), day + timedelta(hours=19), 30, run)
    step(
        store, policy, cfg, day + timedelta(hours=19, minutes=5), day + timedelta(hours=21), 5, run
    )
    return run


@pytest.fixture(scope="module")
def shipped() -> TierPolicy:
    return load_policy()


@pytest.fixture(scope="module")
def ordinary(tmp_path_factory: pytest.TempPathFactory, shipped: TierPolicy) -> Iterator[Run]:
    run = county_run(tmp_path_factory.mktemp("ordinary"), shipped, busy=False)
    yield run
    run.store.close()


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory, shipped: TierPolicy) -> Iterator[Run]:
    run = county_run(tmp_path_factory.mktemp("busy"), shipped, busy=True)
    yield run
    run.store.close()


def test_a_quiet_countys_ordinary_day_alerts_only_its_complaints(ordinary: Run) -> None:
    alerts = {a.incident_id: a for a in ordinary.alerts()}
    jam, clinic, lamp, fumes = (ordinary.incident_of(n) for n in ("jam", "clinic", "lamp", "fumes"))
    assert set(alerts) == {lamp, fumes}
    assert ordinary.first_hot == {}
    for alert in alerts.values():
        # tier III while it waited for the department; the board's reply met the clock
        assert ordinary.tiers[alert.incident_id] == [Tier.III] and alert.rule == "直接诉求"
        first = alert.deadline("first_response")
        assert first.met_at is not None and first.met_at <= first.due
        assert alert.recovered_at is not None
    # The jam and the notice are what paged before: tier I by the 安全事故 category, tier II
    # by absolute heat.
    record = ordinary.store.get_record(Incident, jam)
    assert record.category == "安全事故" and record.post_count == 6 and not record.hot
    assert ordinary.before[jam] == Tier.I and ordinary.before[clinic] == Tier.II
    assert {i for i, t in ordinary.before.items() if t != Tier.III} == {jam, clinic}


def test_a_busy_day_alerts_the_right_incidents_at_the_right_tiers(busy: Run) -> None:
    by_incident = {a.incident_id: a for a in busy.alerts()}
    names = ("collapse", "bus", "water", "lamp", "fumes", "jam", "clinic")
    collapse, bus, water, lamp, fumes, jam, clinic = (busy.incident_of(n) for n in names)
    assert set(by_incident) == {collapse, bus, water, lamp, fumes}
    # Two dead in four posts, not hot: tier I as soon as it has three posts, the words that
    # placed it recorded.
    c = by_incident[collapse]
    assert c.tier == Tier.I and c.rule == "伤亡或群体性事件" and busy.tiers[collapse] == [Tier.I]
    assert "死亡" in c.figures["matched_words"] and not c.figures["hot"]
    assert busy.opened[collapse] <= WEDNESDAY + timedelta(hours=15, minutes=40)
    # Nobody answers the question on the board: a direct consultation, tier III, overdue.
    b = by_incident[bus]
    assert b.tier == Tier.III and b.rule == "直接诉求"
    assert b.deadline("first_response").met_at is None
    assert all(by_incident[i].deadline("first_response").met_at for i in (lamp, fumes))
    # The rumor: alerted in the pass that found it hot, half an hour after its first post,
    # and tier II (高热度) once its heat is high.
    w = by_incident[water]
    assert busy.opened[water] == busy.first_hot[water]
    assert busy.first_hot[water] <= WEDNESDAY + timedelta(hours=19, minutes=50)
    assert busy.tiers[water] == [Tier.III, Tier.II] and w.rule == "高热度"
    assert set(busy.first_hot) == {water}
    # The day's ordinary incidents raise nothing, as on Tuesday.
    assert jam not in by_incident and clinic not in by_incident


def busy_city(tmp: Path, policy: TierPolicy) -> Run:
    """星港市滨海区's ordinary day: four incidents of 20-30 posts each with verified media,
    spread over a few hours, in a place that writes thousands of posts a day."""
    w = Writer("滨海区", random.Random(5))
    day = TUESDAY
    station = Author(id="wb:xgtv", name="星港电视台", verified=True, followers=2_400_000)
    daily = Author(id="wb:xgrb", name="星港日报", verified=True, followers=1_800_000)
    stories = [
        ("滨海区地铁3号线早高峰延误二十分钟，站台挤满了人", 8, station),
        ("滨海区海滨浴场周末恢复开放，门票免费，需提前预约", 10, daily),
        ("滨海区新开的社区食堂，老人一餐十二块，三菜一汤", 12, station),
        ("滨海区今年秋季招聘会下周在会展中心举行，岗位三千多个", 15, daily),
    ]
    roots: dict[str, Post] = {}
    for i, (text, hour, media) in enumerate(stories):
        root = w.post(text, day + timedelta(hours=hour), media, reposts=600, comments=240)
        w.thread(root, [(4 + 6.5 * k, "转发微博") for k in range(24)])
        roots[f"story{i}"] = root
    store = SQLiteStore(tmp / "city.db")
    store.upsert_posts(w.posts)
    run = Run(store, roots)
    cfg = HotConfigSection.model_validate(
        {"score_rumors": False, "locality": "滨海区", "burst": {"residents": 6_000_000}}
    )
    step(store, policy, cfg, day + timedelta(hours=7), day + timedelta(hours=20), 15, run)
    return run


def test_a_busy_citys_ordinary_day_raises_no_alert(tmp_path: Path, shipped) -> None:
    run = busy_city(tmp_path, shipped)
    try:
        assert run.alerts() == [] and run.first_hot == {}
        old = previous_policy(shipped)
        for name in run.roots:
            inc = run.store.get_record(Incident, run.incident_of(name))
            assert inc.post_count == 25 and inc.heat >= 60, (name, inc.heat)
            assert old.decide(inc, texts=[]).tier == Tier.II
    finally:
        run.store.close()


def test_chengchuans_evening_rumor_is_tier_one_at_once_and_its_ordinary_days_raise_nothing(
    tmp_path: Path, shipped
) -> None:
    """澄川市江北区 (tests/hot/test_city_evening.py, built for the detector, not for this
    policy): an ordinary day, then the evening rumor that 城管 beat an old vendor to death.
    The claim of a death by officials is tier I from its third post, long before it is hot;
    its ordinary day raises nothing."""
    from tests.hot.test_city_evening import CFG, DAY0, EVENING, ordinary_days, rumor_evening

    rng = random.Random(8)
    ordinary = ordinary_days(rng, 8)
    rumor, first_root = rumor_evening(rng)
    with SQLiteStore(tmp_path / "cc.db") as store:
        store.upsert_posts(ordinary + rumor)
        run = Run(store, {"rumor": first_root})
        day7 = DAY0 + timedelta(days=7)
        step(store, shipped, CFG, day7, EVENING - timedelta(minutes=10), 60, run)
        assert run.alerts() == []
        step(store, shipped, CFG, EVENING, EVENING + timedelta(hours=2), 5, run)
        inc = run.incident_of("rumor")
        (alert,) = run.alerts()
        assert alert.incident_id == inc and alert.rule == "伤亡或群体性事件"
        assert run.tiers[inc] == [Tier.I] and "打死" in alert.figures["matched_words"]
        assert run.opened[inc] <= EVENING + timedelta(minutes=15)
        assert inc in run.first_hot and run.opened[inc] < run.first_hot[inc]
