"""A first detection pass over a large unassigned backlog (after a bulk import) assigns it
in chunks, each its own transaction: other writers get the SQLite write lock between
chunks, a pass killed mid-way resumes, and the incidents come out as one transaction over
the whole backlog would make them."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

import nlp.detect as detect
from models import Incident, Post
from nlp.detect import STATE_KEY, load_detector, run_detect, thread_of
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from tests.hot.conftest import fixture_posts, repost

CHUNK, RESCORE = 60, 4


def backlog(rows: list[dict]) -> list[Post]:
    """42 source posts of one evening (eight stories and noise), each reposted 0-17
    times over the next two hours: 400-odd posts."""
    posts: list[Post] = []
    for i, root in enumerate(fixture_posts(rows)):
        posts.append(root)
        for n in range((i * 7) % 18):
            posts.append(repost(root, n, root.created_at + timedelta(minutes=3 + n * 7)))
    return posts


def at_of(posts: list[Post]):
    return max(p.created_at for p in posts) + timedelta(minutes=5)


def outcome(store: SQLiteStore) -> tuple:
    """Everything a pass decides, comparable between two stores."""
    incidents = sorted(
        (
            i.id,
            i.post_count,
            tuple(i.root_ids),
            i.hot,
            i.burst,
            i.district,
            i.category,
            None if i.rumor_score is None else round(i.rumor_score, 9),
            tuple(i.keywords),
        )
        for i in store.list_records(Incident)
    )
    posts = sorted(
        (p.id, p.incident_id, None if p.rumor_score is None else round(p.rumor_score, 9))
        for p in store.iter_posts()
    )
    return incidents, posts


def consistent(store: SQLiteStore) -> None:
    """Nothing assigned that the stored detector does not count, nothing counted that is
    not assigned: each incident the state holds counts exactly the posts carrying its id,
    in their threads."""
    det = load_detector(store)
    per: dict[str, int] = {}
    for post in store.iter_posts():
        if post.incident_id is not None:
            assert det.engine.post_incident.get(thread_of(post)) == post.incident_id, post.id
            per[post.incident_id] = per.get(post.incident_id, 0) + 1
    counted = {i: len(c.stats.times) for i, c in det.engine.incidents.items() if c.stats.times}
    assert counted == per


@pytest.fixture
def stores(tmp_path: Path, fixture_rows: list[dict]):
    posts = backlog(fixture_rows)
    assert len(posts) > 5 * CHUNK
    made = []
    for name in ("whole", "chunked"):
        store = SQLiteStore(tmp_path / f"{name}.db")
        store.upsert_posts(posts)
        made.append(store)
    yield posts, made
    for store in made:
        store.close()


@pytest.mark.parametrize("hours_later", [0, 30])  # 30: the backlog is past the active window
def test_chunked_backlog_gives_the_same_incidents_and_lets_writers_in(
    stores, monkeypatch: pytest.MonkeyPatch, hours_later: int
) -> None:
    posts, (whole, chunked) = stores
    at = at_of(posts) + timedelta(hours=hours_later)
    cfg = HotConfigSection()  # rumor scoring on: the chunks' threads are rescored too
    one = run_detect(whole, cfg, now=at)  # 400-odd posts: under the default chunk
    assert "backlog" not in one.seconds and one.assigned == len(posts)

    monkeypatch.setattr(detect, "BACKLOG_CHUNK", CHUNK)
    monkeypatch.setattr(detect, "RESCORE_CHUNK", RESCORE)
    path = chunked.path
    outside: list[bool] = []  # before each transaction: could another process write?
    transaction = chunked.transaction

    @contextmanager
    def watched():
        probe = sqlite3.connect(path, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            outside.append(True)
        except sqlite3.OperationalError:
            outside.append(False)
        finally:
            probe.close()
        with transaction():
            yield

    sizes: list[int] = []
    set_fields = chunked.set_post_fields

    def counted(updates):
        if any("incident_id" in u for u in updates.values()):
            sizes.append(len(updates))
        return set_fields(updates)

    monkeypatch.setattr(chunked, "transaction", watched)
    monkeypatch.setattr(chunked, "set_post_fields", counted)
    report = run_detect(chunked, cfg, now=at)
    assert all(outside) and len(outside) >= len(posts) // CHUNK + 2
    assert max(sizes) <= CHUNK and sum(sizes) == len(posts)
    assert report.assigned == one.assigned == len(posts)
    assert report.new_incidents == one.new_incidents
    assert report.rumor_scored == one.rumor_scored > RESCORE
    assert report.saved == one.saved and report.hot == one.hot
    assert report.read == one.read and report.late == one.late == 0
    assert report.seconds["total"] >= report.seconds["backlog"] > 0
    assert outcome(chunked) == outcome(whole)
    assert len(outcome(whole)[0]) >= 8  # every story's incident stored, both ways
    assert load_detector(chunked).rumor_pending == {}
    # The next pass, steady, in one transaction again.
    outside.clear()
    later = run_detect(chunked, cfg, now=at + timedelta(minutes=1))
    assert later.assigned == 0 and len(outside) == 1


@pytest.mark.parametrize("phase", ["assigning", "rescoring"])
def test_a_pass_killed_between_chunks_resumes_without_loss(
    stores, monkeypatch: pytest.MonkeyPatch, phase: str
) -> None:
    posts, (whole, chunked) = stores
    at = at_of(posts)
    cfg = HotConfigSection()
    run_detect(whole, cfg, now=at)
    monkeypatch.setattr(detect, "BACKLOG_CHUNK", CHUNK)
    monkeypatch.setattr(detect, "RESCORE_CHUNK", RESCORE)
    chunks = -(-len(posts) // CHUNK)
    kill = 4 if phase == "assigning" else chunks + 2
    set_state = chunked.set_state
    calls = {"n": 0}

    def dies(key, value):
        if key == STATE_KEY:
            calls["n"] += 1
            if calls["n"] == kill:  # inside that chunk's transaction: rolled back whole
                raise KeyboardInterrupt
        return set_state(key, value)

    monkeypatch.setattr(chunked, "set_state", dies)
    with pytest.raises(KeyboardInterrupt):
        run_detect(chunked, cfg, now=at)
    monkeypatch.setattr(chunked, "set_state", set_state)
    assigned = [p for p in chunked.iter_posts() if p.incident_id]
    assert len(assigned) == (3 * CHUNK if phase == "assigning" else len(posts))
    assert chunked.list_records(Incident) == []  # nothing evaluated yet
    consistent(chunked)
    if phase == "rescoring":  # the threads still to rescore are remembered
        assert load_detector(chunked).rumor_pending
    run_detect(chunked, cfg, now=at)
    consistent(chunked)
    assert outcome(chunked) == outcome(whole)
    assert load_detector(chunked).rumor_pending == {}
