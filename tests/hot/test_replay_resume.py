"""A replay killed mid-way and run again ends as one uninterrupted run: the same incident
records, post → incident ids, incident history and hot flags, nothing twice.

The kill is real (SIGKILL of a ``tingfeng replay`` subprocess while it works); the
uninterrupted run and the rerun go through the same command in this process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models import Author, Incident, Post
from models.records import IncidentHistory
from nlp.detect import STATE_KEY, load_detector, run_detect
from nlp.hot_config import HotConfigSection
from nlp.replay import CHECKPOINT, load_stream, replay
from store import PostFilter, StoreError
from store.sqlite import SQLiteStore
from tests.cli import run_main

T0 = datetime.fromisoformat("2026-05-10T17:00:00+08:00")
TOPICS = [
    ("河西区", "河西区滨江路夜跑步道路灯坏了一整段，晚上黑漆漆的很不安全"),
    ("江北区", "江北区菜市场周末早市的蔬菜价格又涨了，白菜都要三块一斤"),
    ("青川区", "青川区图书馆新开的自习室座位预约太难抢了，每天早上八点就满"),
    ("河西区", "河西区第二小学门口接送孩子的车辆乱停，早高峰堵得走不动"),
]


def _stream(path: Path) -> Path:
    """Seven evening hours of four slow local topics (a root post every few minutes, a few
    reposts each) and one incident that takes off at 19:30 (40 reposts from 20 authors
    within half an hour), with a late root for it hours later."""
    posts: list[Post] = []
    for n, minute in enumerate(range(0, 420, 3)):
        district, text = TOPICS[(minute // 3) % len(TOPICS)]
        at = T0 + timedelta(minutes=minute)
        root = Post(
            source="t",
            native_id=f"p{n}",
            author=Author(id=f"a{n % 37}", followers=300 + n),
            text=f"{text}（第{minute // 12}次反映）",
            created_at=at,
            region_tags=[district],
        )
        posts.append(root)
        for k in range(minute % 2 + 1):
            posts.append(_repost(root, k, at + timedelta(minutes=1 + k), f"r{n}-{k}"))
    fire = Post(
        source="t",
        native_id="fire",
        author=Author(id="witness", followers=2000),
        text="江北区人民路一家火锅店突然起火，浓烟滚滚，消防车已经赶到现场",
        created_at=T0 + timedelta(minutes=150),
        region_tags=["江北区"],
    )
    posts.append(fire)
    for k in range(40):
        at = fire.created_at + timedelta(minutes=1 + k * 0.7)
        posts.append(_repost(fire, k, at, f"w{k % 20}"))
    for k in range(12):  # witnesses' own posts
        posts.append(
            Post(
                source="t",
                native_id=f"fire{k}",
                author=Author(id=f"e{k}", followers=150),
                text=f"人民路火锅店着火了，浓烟滚滚，消防车赶到现场灭火，江北区（{k}）",
                created_at=fire.created_at + timedelta(minutes=2 + 2 * k),
                region_tags=["江北区"],
            )
        )
    posts.append(
        Post(
            source="t",
            native_id="fire-late",
            author=Author(id="late", followers=90),
            text="人民路火锅店起火现场，消防车赶到浓烟滚滚，江北区",
            created_at=T0 + timedelta(minutes=400),
            region_tags=["江北区"],
        )
    )
    path.write_text("".join(p.model_dump_json() + "\n" for p in posts), "utf-8")
    return path


def _repost(root: Post, k: int, at: datetime, author: str) -> Post:
    return Post(
        source=root.source,
        native_id=f"{root.native_id}-r{k}",
        kind="repost",
        author=Author(id=author),
        text="转发微博",
        created_at=at,
        parent_id=root.id,
        root_id=root.id,
    )


def _outcome(db: Path) -> tuple[dict, dict, dict]:
    with SQLiteStore(db) as store:
        posts = {p.id: p.incident_id for p in store.iter_posts(PostFilter())}
        records = {
            r.id: r.model_dump(mode="json", exclude={"version", "updated_at", "created_at"})
            for r in store.list_records(Incident, limit=10_000)
        }
        histories = {
            h.id: [c.model_dump(mode="json") for c in h.changes]
            for h in store.list_records(IncidentHistory, limit=10_000)
        }
    return posts, records, histories


def _config(folder: Path) -> dict[str, str]:
    folder.mkdir()
    config = folder / "tingfeng.yaml"
    config.write_text(
        f"store:\n  path: {folder / 't.db'}\nhot:\n  burst:\n    current_minutes: 30\n",
        encoding="utf-8",
    )
    return {"TINGFENG_CONFIG": str(config)}


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stream(tmp_path_factory.mktemp("resume") / "evening.jsonl")


@pytest.fixture(scope="module")
def uninterrupted(stream: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    env = _config(tmp_path_factory.mktemp("whole") / "cfg")
    done = run_main("replay", str(stream), "--save-every", "5", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return _outcome(Path(env["TINGFENG_CONFIG"]).parent / "t.db")


def test_a_replay_killed_mid_way_resumes_to_the_same_end(
    stream: Path, uninterrupted: tuple, tmp_path: Path
) -> None:
    posts, records, histories = uninterrupted
    assert any(r["hot"] or r["extra"].get("first_hot_at") for r in records.values())
    assert sum(len(h) for h in histories.values()) > len(records)

    env = _config(tmp_path / "cfg")
    db = tmp_path / "cfg" / "t.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tingfeng", "replay", str(stream), "--save-every", "5"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        checkpoint = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with SQLiteStore(db, readonly=True) as store:
                    state = store.get_state(STATE_KEY) or {}
            except StoreError:  # not created (or its schema not committed) yet
                state = {}
            checkpoint = state.get(CHECKPOINT)
            if checkpoint and checkpoint["report"]["ticks"] >= 20:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the replay ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert checkpoint is not None and not checkpoint["done"]
    killed_posts, _, _ = _outcome(db)
    assert 0 < len(killed_posts) < len(posts)

    rerun = run_main("replay", str(stream), "--save-every", "5", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert _outcome(db) == (posts, records, histories)

    # A third run of the finished replay changes nothing and reports the same counts.
    again = run_main("replay", str(stream), "--save-every", "5", "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert _summary(again.stdout) == _summary(rerun.stdout)
    assert _outcome(db) == (posts, records, histories)


def _summary(stdout: str) -> dict:
    data = json.loads(stdout[stdout.index("{") :])
    return {k: v for k, v in data.items() if k not in ("seconds", "posts_per_second")}


def test_an_interrupted_replay_rolls_back_to_its_checkpoint(stream: Path, tmp_path: Path) -> None:
    """Ctrl-C (KeyboardInterrupt) inside an interval: what it wrote since the checkpoint is
    rolled back; the rerun gives what one run gives, in memory or through the store."""
    cfg = HotConfigSection(score_rumors=False)
    items = load_stream(stream)

    def whole() -> tuple:
        with SQLiteStore(tmp_path / "whole.db") as store:
            replay(load_stream(stream), load_detector(store, cfg), store, save_every=7)
        return _outcome(tmp_path / "whole.db")

    expected = whole()
    ticks = [0]

    def stop(at: float, evaluations: list) -> None:
        ticks[0] += 1
        if ticks[0] == 60:  # mid-interval: 60 is not a multiple of 7
            raise KeyboardInterrupt

    with SQLiteStore(tmp_path / "cut.db") as store:
        with pytest.raises(KeyboardInterrupt):
            replay(items, load_detector(store, cfg), store, save_every=7, on_tick=stop)
        checkpoint = store.get_state(STATE_KEY)[CHECKPOINT]
        assert checkpoint["report"]["ticks"] == 56 and not checkpoint["done"]
        stored = store.count_posts(
            PostFilter(until=datetime.fromtimestamp(checkpoint["position"], UTC))
        )
        assert stored == store.count_posts()  # nothing past the checkpoint was kept
        replay(load_stream(stream), load_detector(store, cfg), store, save_every=7)
    assert _outcome(tmp_path / "cut.db") == expected


def test_a_detection_pass_killed_mid_way_leaves_nothing_half_done(
    stream: Path, tmp_path: Path
) -> None:
    """A pass that fails after assigning posts (here: while saving incidents) leaves them
    unassigned with the old state, so the next pass counts them; nothing half-written."""
    cfg = HotConfigSection(score_rumors=False)
    posts = [obj for _, _, obj in load_stream(stream) if isinstance(obj, Post)]
    at = T0 + timedelta(hours=3)
    with FailingStore(tmp_path / "d.db") as store:
        store.upsert_posts(posts)
        store.fail = True
        with pytest.raises(KeyboardInterrupt):
            run_detect(store, cfg, now=at)
        store.fail = False
        assert store.get_state(STATE_KEY) is None
        assert all(p.incident_id is None for p in store.iter_posts(PostFilter()))
        assert store.count_records(Incident) == 0
        report = run_detect(store, cfg, now=at)
        assert report.assigned == sum(p.created_at <= at for p in posts)
        assert store.count_records(Incident) > 0


class FailingStore(SQLiteStore):
    """The real store, interrupted (as Ctrl-C would) when it saves a record."""

    fail = False

    def save_record(self, record):
        if self.fail:
            raise KeyboardInterrupt
        return super().save_record(record)
