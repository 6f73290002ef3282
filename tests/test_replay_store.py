"""``tingfeng replay`` of real CED events through SQLite, as the service runs it (rumor
scoring on, the shipped model), against the same stream in memory: no saved incident ever
loses its posts, and the store holds the incidents, hot flags and history the live
detector produced. Bench-sized figures: ``bench/replay_check.py``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from models import Incident, Post
from models.records import IncidentHistory
from nlp.detect import HotTopics
from nlp.replay import load_stream
from nlp.replay import replay as run_replay
from store import PostFilter
from store.sqlite import SQLiteStore
from tests.ced_subset import CED, ced_subset
from tingfeng.config import Config
from tingfeng.services.detect import replay


@pytest.mark.skipif(not CED.is_dir(), reason="CED copy not available (../shared/datasets/ced)")
def test_replay_through_the_store_keeps_every_incident_whole(tmp_path: Path) -> None:
    ced = ced_subset(tmp_path / "ced", 16, every=7, min_bytes=2_000, max_bytes=12_000)
    config = Config.model_validate({"store": {"path": str(tmp_path / "s.db")}})
    assert config.hot.score_rumors

    items = load_stream(ced)
    live = HotTopics(config.hot)
    hot_state: dict[str, bool] = {}
    hot_changes = Counter[str]()

    def on_tick(at: float, evaluations: list) -> None:
        for ev in evaluations:
            hot_changes[ev.cluster.id] += ev.hot != hot_state.get(ev.cluster.id, False)
            hot_state[ev.cluster.id] = ev.hot

    run_replay(items, live, None, on_tick=on_tick)
    memory = {obj.id: obj.incident_id for _, _, obj in items if isinstance(obj, Post)}
    # The case that emptied records before: reposts after their incident was pruned.
    assert live.engine.archive.revived >= 3

    with SQLiteStore(tmp_path / "s.db") as store:
        result = replay(config, store, ced)
        posts = {p.id: p for p in store.iter_posts(PostFilter())}
        records = {r.id: r for r in store.list_records(Incident, limit=10_000)}
        histories = {h.id: h for h in store.list_records(IncidentHistory, limit=10_000)}
    assert result.posts == len(posts) == len(memory)
    stored = {pid: p.incident_id for pid, p in posts.items()}
    assert stored == memory
    per_incident = Counter(stored.values())
    assert set(records) == set(per_incident) and len(records) <= 20
    for inc_id, record in records.items():
        # Every saved incident holds its source posts and counts the posts pointing to it.
        assert record.root_ids, inc_id
        assert all(posts[r].incident_id == inc_id for r in record.root_ids), inc_id
        assert record.post_count == per_incident[inc_id], inc_id
        assert record.rumor_score is not None, inc_id
        # Hot flags and their history are those of the live detector.
        assert (record.hot or "first_hot_at" in record.extra) == (hot_changes[inc_id] > 0)
        changes = [c for c in histories[inc_id].changes if c.change == "hot"]
        assert len(changes) == hot_changes[inc_id], inc_id
