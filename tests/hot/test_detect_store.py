"""Detection passes against a real SQLite store: people's edits survive, late imports join."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from models import Author, Incident, Post
from nlp.detect import assign_stored, run_detect
from nlp.hot_config import HotConfigSection as HotConfig
from store.sqlite import SQLiteStore
from tests.hot.conftest import repost

T0 = datetime.fromisoformat("2026-05-10T08:00:00+08:00")


def source_post(native_id: str, text: str, at: datetime = T0, **kw: object) -> Post:
    return Post.model_validate(
        {"source": "t", "native_id": native_id, "text": text, "created_at": at}
        | {"author": Author(id=f"a{native_id}")}
        | kw
    )


def test_passes_keep_edits_and_assign_late_imports(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        root = source_post(
            "1",
            "滨江花园小区停水三天物业不回应",
            region_tags=["临江区"],
            author=Author(id="a", followers=1200),
            rumor_score=0.2,
        )
        store.upsert_posts([root, *(repost(root, i, T0 + timedelta(minutes=i)) for i in range(5))])
        # Keep the preset score: this test is about edits and late imports.
        cfg = HotConfig(score_rumors=False)
        first = run_detect(store, cfg, now=T0 + timedelta(minutes=10))
        assert first.assigned == 6 and first.new_incidents == 1 and first.saved == 1
        (incident,) = store.list_records(Incident)
        assert incident.district == "临江区" and incident.category == "民生诉求"
        assert incident.rumor_score == 0.2 and incident.post_count == 6
        # A person acknowledges it; the next pass must not undo that.
        store.save_record(incident.model_copy(update={"status": "acknowledged"}))
        store.upsert_posts([repost(root, 10, T0 + timedelta(minutes=12))])
        second = run_detect(store, cfg, now=T0 + timedelta(minutes=15))
        assert second.assigned == 1
        stored = store.get_record(Incident, incident.id)
        assert stored is not None
        assert stored.status == "acknowledged" and stored.post_count == 7
        # Written two days earlier, imported now: beyond the late margin, assigned by the hook.
        old = repost(root, 11, T0 - timedelta(days=2))
        store.upsert_posts([old])
        assert assign_stored(store, [old]) == 1
        assert store.get_post(old.id).incident_id == incident.id
        run_detect(store, cfg, now=T0 + timedelta(minutes=16))
        stored = store.get_record(Incident, incident.id)
        assert stored is not None and stored.post_count == 8
        assert stored.first_seen == T0 - timedelta(days=2)


def test_a_post_crawled_hours_late_is_found_by_when_it_arrived(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        root = source_post(
            "1", "西江大桥出现裂缝，网传即将封闭", fetched_at=T0 + timedelta(minutes=1)
        )
        later = source_post("2", "南山古镇今晚灯会，游客很多", T0 + timedelta(hours=5))
        store.upsert_posts([root, later])
        cfg = HotConfig(score_rumors=False)
        run_detect(store, cfg, now=T0 + timedelta(hours=5))
        # The detector's cursor is now T0 + 5 h. Between passes a crawler catches up on a
        # reply written at T0 + 10 min, long before the pass's window, fetched just now.
        late = repost(root, 1, T0 + timedelta(minutes=10))
        store.upsert_posts([late.model_copy(update={"fetched_at": datetime.now(T0.tzinfo)})])
        report = run_detect(store, cfg, now=T0 + timedelta(hours=5, minutes=1))
        assert report.late == 1 and report.assigned == 1
        assert store.get_post(late.id).incident_id == store.get_post(root.id).incident_id
        incident = store.get_record(Incident, store.get_post(root.id).incident_id)
        assert incident is not None and incident.post_count == 2
        assert incident.first_seen == T0


def test_growing_threads_are_rescored_and_the_incident_carries_the_score(
    tmp_path: Path,
) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        root = source_post("1", "网传东城区化工厂爆炸，已有多人死亡，大家赶紧转发")
        store.upsert_posts([root])
        first = run_detect(store, now=T0 + timedelta(minutes=5))
        assert first.rumor_scored == 1
        before = store.get_post(root.id).rumor_score
        assert before is not None and 0.0 <= before <= 1.0
        doubt = [
            repost(root, i, T0 + timedelta(minutes=6 + i)).model_copy(
                update={"text": "假的，官方已辟谣，这是谣言"}
            )
            for i in range(30)
        ]
        store.upsert_posts(doubt)
        second = run_detect(store, now=T0 + timedelta(minutes=40))
        assert second.assigned == 30 and second.rumor_scored == 1
        after = store.get_post(root.id).rumor_score
        assert after is not None and after != before
        (incident,) = store.list_records(Incident)
        assert incident.rumor_score == after


def test_large_threads_are_rescored_only_after_growing_a_tenth() -> None:
    from nlp.detect import HotTopics

    det = HotTopics(HotConfig())
    root = "t:1"
    assert det.rumor_due(Counter({root: 1})) == [root]  # never scored: now
    assert det.rumor_due(Counter({root: 1})) == [root]  # 2 ≥ 1 × 1.1
    assert det.rumor_due(Counter({root: 98})) == [root]  # 100 posts
    assert det.rumor_due(Counter({root: 9})) == []  # 109 < 110
    assert det.rumor_due(Counter({root: 1})) == [root]  # 110
    restored = HotTopics.from_state(det.to_state(), HotConfig())
    assert restored.rumor_sizes == {root: [110, 110]}
