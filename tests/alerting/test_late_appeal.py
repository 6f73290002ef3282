"""A direct appeal (直接诉求) that reaches the office after its incident went quiet still
gets its tier III alert, once: a message-board complaint crawled six and a half hours after
it was written (its incident quiet since), and a resident who comes back after the office
closed the alert on the first complaint without an answer. Real detector, real alerting
engine, SQLite, one pass every 30 minutes on the reference clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from alerting import lifecycle
from alerting.engine import AlertEngine
from alerting.policy import load_policy
from models import Alert, Author, Post, Tier
from models.alerting import OutboxMessage
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from tests.alerting.support import webhook_config
from tests.alerting.test_city_days import COUNTY, TUESDAY, Writer, chatter

CFG = HotConfigSection(score_rumors=False, locality=COUNTY)


def _message(n: int, text: str, written: datetime, arrived: datetime) -> Post:
    return Post(
        source="lw-board",
        native_id=f"m{n}",
        kind="message",
        title="留言",
        text=text,
        author=Author(id="board:resident7", name="居民7"),
        created_at=written,
        fetched_at=arrived,
        region_tags=[COUNTY],
    )


def _passes(store: SQLiteStore, late: list[Post], start: datetime, end: datetime, close=None):
    """Passes every 30 minutes; each of ``late`` is stored when it arrives (fetched_at);
    ``close(engine, at)`` runs after each pass."""
    engine = AlertEngine(store, load_policy(), webhook_config("http://127.0.0.1:9"))
    at = start
    while at <= end:
        arrived = [p for p in late if p.fetched_at <= at and store.get_post(p.id) is None]
        if arrived:
            store.upsert_posts(arrived)
        run_detect(store, CFG, now=at)
        engine.run(at)
        if close is not None:
            close(store, at)
        at += timedelta(minutes=30)


def _alerts(store: SQLiteStore) -> list[Alert]:
    return sorted(store.list_records(Alert, limit=100), key=lambda a: a.opened_at)


def _day(tmp: Path) -> SQLiteStore:
    w = Writer(COUNTY, random.Random(3))
    chatter(w, TUESDAY, threads=20)
    jam = w.post(
        "柳湾大道人民路口出事故了，两车剐蹭，早高峰堵了快半小时", TUESDAY + timedelta(hours=8)
    )
    w.thread(jam, [(6, "刚过去，确实堵"), (11, "交警已经到了"), (19, "绕滨河路吧")])
    store = SQLiteStore(tmp / "c.db")
    store.upsert_posts(w.posts)
    return store


def test_an_appeal_crawled_after_its_incident_went_quiet_is_alerted_once(tmp_path: Path) -> None:
    store = _day(tmp_path)
    # Written at 09:00 about the morning's jam (quiet since 08:19), collected at 15:40.
    msg = _message(
        1,
        "柳湾大道人民路口天天出事故剐蹭堵车，请交警在早高峰安排人疏导",
        TUESDAY + timedelta(hours=9),
        TUESDAY + timedelta(hours=15, minutes=40),
    )
    _passes(store, [msg], TUESDAY + timedelta(hours=7), TUESDAY + timedelta(hours=40))
    inc = store.get_post(msg.id).incident_id
    alerts = _alerts(store)
    assert [(a.incident_id, a.rule, a.tier) for a in alerts] == [(inc, "直接诉求", Tier.III)]
    alert = alerts[0]
    assert alert.opened_at == TUESDAY + timedelta(hours=16)  # the first pass after it came
    created = [m for m in store.list_records(OutboxMessage, limit=100) if m.alert_id == alert.id]
    assert len({m.revision for m in created if m.event == "created"}) == 1
    # Unanswered, it is not 已平息 however quiet its incident: its clock runs out instead.
    assert alert.recovered_at is None and alert.is_open
    assert alert.deadline("first_response").overdue_at is not None
    store.close()


def test_an_appeal_after_the_alert_was_closed_unanswered_opens_one_new_alert(
    tmp_path: Path,
) -> None:
    store = _day(tmp_path)
    text = "柳湾大道人民路口天天出事故剐蹭堵车，请交警在早高峰安排人疏导"
    first = _message(
        1, text, TUESDAY + timedelta(hours=8, minutes=30), TUESDAY + timedelta(hours=8, minutes=40)
    )
    again = _message(
        2,
        "柳湾大道人民路口下午又剐蹭堵车了，早上反映的事情没人答复，请交警疏导",
        TUESDAY + timedelta(hours=15),
        TUESDAY + timedelta(hours=15, minutes=5),
    )

    def close(store: SQLiteStore, at: datetime) -> None:
        if at == TUESDAY + timedelta(hours=11):  # closed without an answer
            alert = _alerts(store)[0]
            store.save_record(lifecycle.close(alert, "已转交", "duty", at))

    _passes(
        store, [first, again], TUESDAY + timedelta(hours=7), TUESDAY + timedelta(hours=30), close
    )
    inc = store.get_post(first.id).incident_id
    assert store.get_post(again.id).incident_id == inc
    alerts = _alerts(store)
    assert [(a.incident_id, a.rule, a.tier) for a in alerts] == [
        (inc, "直接诉求", Tier.III),
        (inc, "直接诉求", Tier.III),
    ]
    assert alerts[0].closed_at == TUESDAY + timedelta(hours=11)
    assert alerts[1].opened_at == TUESDAY + timedelta(hours=15, minutes=30)
