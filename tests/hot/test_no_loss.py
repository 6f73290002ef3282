"""Incident records never lose what they had: late posts after pruning, store vs memory."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from models import Author, Incident, Post
from models.records import IncidentHistory
from nlp.detect import HotTopics, load_detector, run_detect
from nlp.hot_config import HotConfigSection
from nlp.replay import load_stream, replay
from store import PostFilter
from store.sqlite import SQLiteStore
from tests.ced_subset import CED, ced_subset
from tests.hot.conftest import repost

T0 = datetime.fromisoformat("2026-05-10T08:00:00+08:00")
CFG = HotConfigSection(score_rumors=False)


def root_post(native_id: str, text: str, at: datetime) -> Post:
    return Post(
        source="t",
        native_id=native_id,
        author=Author(id=f"a{native_id}", followers=800),
        text=text,
        created_at=at,
        fetched_at=at + timedelta(minutes=2),
        region_tags=["河西区"],
    )


def test_reposts_days_after_pruning_join_the_stored_incident_whole(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        root = root_post("1", "河西区自来水发黄有异味，水务公司至今没有说法", T0)
        first = [repost(root, i, T0 + timedelta(minutes=i)) for i in range(1, 13)]
        store.upsert_posts([root, *first])
        run_detect(store, CFG, now=T0 + timedelta(minutes=30))
        (before,) = store.list_records(Incident)
        assert before.post_count == 13
        # Four days later the incident has left the live detector.
        run_detect(store, CFG, now=T0 + timedelta(days=4))
        assert before.id not in load_detector(store, CFG).engine.incidents
        # Reposts written on day five (of the root and of a repost) arrive.
        late_at = T0 + timedelta(days=5)
        late = [repost(root, 100 + i, late_at + timedelta(minutes=i)) for i in range(3)]
        reply = late[0].model_copy(
            update={"native_id": "reply-1", "id": "t:reply-1", "parent_id": first[3].id}
        )
        store.upsert_posts([*late, reply])
        report = run_detect(store, CFG, now=late_at + timedelta(minutes=10))
        assert report.new_incidents == 0
        (after,) = store.list_records(Incident)
        assert after.id == before.id
        assert after.post_count == 17 and after.root_ids == [root.id]
        assert after.title == before.title and after.keywords and after.district == "河西区"
        assert after.first_seen == T0 and after.last_seen == late_at + timedelta(minutes=2)
        stored = Counter(p.incident_id for p in store.iter_posts(PostFilter()))
        assert stored == {after.id: 17}
        history = store.get_record(IncidentHistory, after.id)
        assert history is not None
        members = [c for c in history.changes if c.change == "membership"]
        assert [(c.old, c.new) for c in members] == [(0, 13), (13, 17)]
        assert history.changes[0].change == "opened"


@pytest.mark.skipif(not CED.is_dir(), reason="CED copy not available")
def test_ced_replay_through_the_store_and_in_memory_give_the_same_incidents(
    tmp_path: Path,
) -> None:
    ced = ced_subset(tmp_path / "ced", 150)
    in_memory = load_stream(ced)
    live = HotTopics(CFG)
    replay(in_memory, live, None)
    # The reposts span days: incidents left the live detector and were brought back.
    assert live.engine.archive.revived > 10
    memory = {obj.id: obj.incident_id for _, _, obj in in_memory if isinstance(obj, Post)}
    with SQLiteStore(tmp_path / "s.db") as store:
        stream = load_stream(ced)
        detector = load_detector(store, CFG)
        replay(stream, detector, store)
        assert detector.engine.archive.revived == live.engine.archive.revived
        stored = {p.id: p.incident_id for p in store.iter_posts(PostFilter())}
        records = {r.id: r for r in store.list_records(Incident, limit=10_000)}
    assert stored == memory
    sources = [obj for _, _, obj in in_memory if isinstance(obj, Post) and obj.kind == "post"]
    assert len(sources) >= 145
    # Late reposts rejoin their incident: about one incident per event, never 4.5.
    assert len(set(memory.values())) <= 1.05 * len(sources)
    # Every record holds exactly the posts that point to it: none left empty.
    per_incident = Counter(stored.values())
    assert set(records) == set(per_incident)
    for inc_id, n in per_incident.items():
        assert records[inc_id].post_count == n, inc_id
        assert records[inc_id].root_ids
