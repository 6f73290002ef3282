"""Detection passes against a real SQLite store: people's edits survive, late imports join."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from models import Author, Incident, Post
from nlp.detect import assign_stored, run_detect
from store.sqlite import SQLiteStore
from tests.hot.conftest import repost

T0 = datetime.fromisoformat("2026-05-10T08:00:00+08:00")


def test_passes_keep_edits_and_assign_late_imports(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        root = Post(
            source="t",
            native_id="1",
            text="滨江花园小区停水三天物业不回应",
            created_at=T0,
            region_tags=["临江区"],
            author=Author(id="a", followers=1200),
            rumor_score=0.2,
        )
        store.upsert_posts([root, *(repost(root, i, T0 + timedelta(minutes=i)) for i in range(5))])
        first = run_detect(store, now=T0 + timedelta(minutes=10))
        assert first.assigned == 6 and first.new_incidents == 1 and first.saved == 1
        (incident,) = store.list_records(Incident)
        assert incident.district == "临江区" and incident.category == "民生诉求"
        assert incident.rumor_score == 0.2 and incident.post_count == 6
        # A person acknowledges it; the next pass must not undo that.
        store.save_record(incident.model_copy(update={"status": "acknowledged"}))
        store.upsert_posts([repost(root, 10, T0 + timedelta(minutes=12))])
        second = run_detect(store, now=T0 + timedelta(minutes=15))
        assert second.assigned == 1
        stored = store.get_record(Incident, incident.id)
        assert stored is not None
        assert stored.status == "acknowledged" and stored.post_count == 7
        # Written two days earlier, imported now: beyond the late margin, assigned by the hook.
        old = repost(root, 11, T0 - timedelta(days=2))
        store.upsert_posts([old])
        assert assign_stored(store, [old]) == 1
        assert store.get_post(old.id).incident_id == incident.id
        run_detect(store, now=T0 + timedelta(minutes=16))
        stored = store.get_record(Incident, incident.id)
        assert stored is not None and stored.post_count == 8
        assert stored.first_seen == T0 - timedelta(days=2)
