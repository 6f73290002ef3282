from __future__ import annotations

from pathlib import Path

import pytest

from ingest.ced import iter_events
from ingest.pipeline import import_ced
from models import SHANGHAI
from store import PostFilter
from store.sqlite import SQLiteStore
from tests.ingest.cedfactory import default_reposts, write_event
from text.report import ImportReport


def test_events_posts_links_and_labels(tmp_path: Path) -> None:
    write_event(tmp_path, 1, label="rumor")
    write_event(tmp_path, 2, label="non-rumor", time="Sat Jun 29 12:40:09 +0800 2013")
    report = ImportReport()
    events = list(iter_events(tmp_path, report))
    assert [e.label for e in events] == ["rumor", "non-rumor"]
    first = events[0]
    assert first.source.id == "ced:Mid0001" and first.source.author.id == "1001"
    assert first.source.author.followers == 100
    assert len(first.reposts) == 5
    assert all(r.root_id == first.source.id for r in first.reposts)
    assert first.reposts[0].parent_id == first.source.id  # empty parent: direct repost
    assert first.reposts[1].parent_id == "ced:R1x0"
    assert events[1].source.created_at.astimezone(SHANGHAI).hour == 12
    assert report.skipped == {}


def test_mess_is_counted_not_fatal(tmp_path: Path) -> None:
    bad = default_reposts(3)
    bad.append({"mid": "", "date": "2014-05-14 01:00:00"})  # missing id
    bad.append(dict(bad[0]))  # duplicate
    bad.append({"mid": "Rbad", "date": "not a date"})
    bad.append({"mid": "Ryearless", "date": "05月14日 08:30", "text": "无年份"})
    bad.append("not an object")
    write_event(tmp_path, 3, reposts=bad)
    write_event(tmp_path, 4, user="empty")  # some CED files say "user": "empty"
    write_event(tmp_path, 5, label=None)  # no repost file: no label
    write_event(tmp_path, 6, time="garbage")
    (tmp_path / "original-microblog" / "7_Broken_1.json").write_text("{not json", "utf-8")
    (tmp_path / "rumor-repost" / "8_Orphan_1.json").write_text("[]", "utf-8")
    report = ImportReport()
    events = {e.event_id: e for e in iter_events(tmp_path, report)}
    assert set(report.skipped) >= {
        "missing id",
        "duplicate id",
        "invalid date",
        "not an object",
        "malformed JSON",
        "repost file without source post",
    }
    assert report.warnings["event without repost file (no label)"] == 1
    event3 = events["3_Mid0003_1003"]
    yearless = next(r for r in event3.reposts if r.native_id == "Ryearless")
    assert (yearless.created_at.year, yearless.created_at.month) == (2014, 5)
    assert events["4_Mid0004_1004"].source.author.followers is None
    assert "6_Mid0006_1006" not in events
    assert report.examples["malformed JSON"][0].startswith(str(tmp_path))


@pytest.mark.parametrize("workers", [1, 2])
def test_import_and_reimport(tmp_path: Path, workers: int) -> None:
    for n in range(1, 12):
        write_event(tmp_path / "ced", n, label="rumor" if n % 2 else "non-rumor")
    store = SQLiteStore(tmp_path / "s.db")
    roots: list[str] = []
    report = import_ced(
        store, tmp_path / "ced", workers=workers, batch_size=7, on_root=roots.append
    )
    assert report.inserted == 11 * 6 and len(roots) == 11
    assert report.snapshots > 0
    again = import_ced(store, tmp_path / "ced", workers=workers, batch_size=7)
    assert again.inserted == 0 and again.unchanged == 66
    assert store.count_posts() == 66
    assert store.count_posts(PostFilter(root_ids=["ced:Mid0001"])) == 5
    snaps = store.get_snapshots(["ced:Mid0001"])
    assert snaps[-1].reposts == 10  # the last snapshot carries the source's own counts


def test_real_ced_sample(ced_dir: Path) -> None:
    report = ImportReport()
    events = []
    for event in iter_events(ced_dir, report):
        events.append(event)
        if len(events) == 40:
            break
    assert all(e.label in ("rumor", "non-rumor") for e in events)
    assert sum(len(e.reposts) for e in events) > 1000


def test_fast_repost_rows_equal_the_model_path(tmp_path: Path) -> None:
    """Reposts prepared without a Post each are byte for byte what the model writes."""
    from ingest.ced import (
        _compact,
        _load_raw,
        _repost_post,
        _repost_prepared,
        event_files,
        prepare_event,
    )
    from store.base import PreparedPost

    reposts = default_reposts(9, count=30)
    reposts += [
        {"mid": "Rq", "date": "2014-05-14 09:00:00", "text": 'quote " \\ \t\n end', "uid": 7},
        {"mid": "Rweek", "date": "2014-W20-3 09:00:01", "text": "ISO week date"},
        {"mid": "Remoji", "date": "05月14日 08:30", "text": "😀🚒 东城区", "parent": "R9x1"},
        {"mid": "Rnouid", "date": "1400003600", "text": None},
        {"mid": "Rnum", "date": "2014-05-14T02:00:00Z", "text": 42, "uid": ""},
    ]
    write_event(tmp_path, 9, reposts=reposts)
    report = ImportReport()
    (files,) = event_files(tmp_path, report)
    loaded = _load_raw(files, report, None)
    assert loaded is not None
    source, raw = loaded
    assert len(raw) == 35
    ts = int(source.fetched_at.timestamp())
    models = [PreparedPost.of(_repost_post(r, source.id, source.fetched_at)) for r in raw]
    for r, model in zip(raw, models, strict=True):
        assert _repost_prepared(_compact(r), source.id, source.fetched_at, ts) == model
    # As the import's workers and writer make them (times written without asking the
    # time zone).
    event = prepare_event(files)
    assert len(event.rows()) == 36
    assert event.rows()[1:] == models


def test_fetched_at_is_never_before_created_at(tmp_path: Path) -> None:
    reposts = default_reposts(1, count=20)
    reposts.append({"mid": "Rearly", "date": "2014-05-13 20:00:00", "text": "早于原帖"})
    write_event(tmp_path / "ced", 1, reposts=reposts)
    write_event(tmp_path / "ced", 2, reposts=[])
    store = SQLiteStore(tmp_path / "s.db")
    import_ced(store, tmp_path / "ced", workers=1)
    posts = list(store.iter_posts())
    assert posts and all(p.fetched_at >= p.created_at for p in posts)
    thread = [p for p in posts if p.root_id == "ced:Mid0001" or p.id == "ced:Mid0001"]
    latest = max(p.created_at for p in thread)
    assert {p.fetched_at for p in thread} == {latest}  # collected after its last post


def test_scoring_in_memory_equals_scoring_the_stored_threads(tmp_path: Path) -> None:
    from nlp.rumor.scoring import score_roots
    from nlp.rumor.thread import ImportScoring

    for n in range(1, 9):
        write_event(tmp_path / "ced", n, reposts=default_reposts(n, count=5 + 7 * n))
    scorer = ImportScoring()  # scored in the worker process
    fast = SQLiteStore(tmp_path / "fast.db")
    report = import_ced(fast, tmp_path / "ced", workers=1, batch_size=20, scorer=scorer)
    assert report.scored == 8
    slow = SQLiteStore(tmp_path / "slow.db")
    roots: list[str] = []
    import_ced(slow, tmp_path / "ced", workers=1, on_root=roots.append)
    score_roots(slow, roots)
    scores = {p.id: p.rumor_score for p in fast.iter_posts() if p.kind == "post"}
    assert scores == {p.id: p.rumor_score for p in slow.iter_posts() if p.kind == "post"}
    assert all(s is not None for s in scores.values())
    # a re-import (nothing new) scores from the store and gives the same figures again
    again = import_ced(fast, tmp_path / "ced", workers=1, batch_size=20, scorer=scorer)
    assert again.unchanged == report.inserted
    assert {p.id: p.rumor_score for p in fast.iter_posts() if p.kind == "post"} == scores


def test_progress_names_phases_with_totals(tmp_path: Path) -> None:
    for n in range(1, 6):
        write_event(tmp_path / "ced", n)
    seen: list[tuple[str, int, int | None]] = []
    store = SQLiteStore(tmp_path / "s.db")
    import_ced(store, tmp_path / "ced", workers=1, on_progress=lambda *a: seen.append(a))
    imported = [s for s in seen if s[0] == "import"]
    assert imported[-1] == ("import", 5, 5)
    assert all(total == 5 for _, _, total in imported)
    # a fresh store builds its deferred indexes at the end, as a phase of its own
    indexed = [s for s in seen if s[0] == "index"]
    assert seen[len(imported) :] == indexed
    assert indexed[0][1] == 0 and indexed[-1][1] == indexed[-1][2] == 6


def test_whole_second_shortcuts_decide_as_the_datetimes_do(tmp_path: Path) -> None:
    """Reposts in whole seconds are checked against the bounds, the source time and each
    other as ints (ingest.ced._floor_ts): the same reposts kept and warned about, the
    same collection time, snapshots and model row as comparing the datetimes."""
    from datetime import timedelta

    from ingest.bounds import DateBounds
    from ingest.ced import _CREATED_TS, _load_raw, _snapshots, event_files, prepare_event
    from nlp.rumor.thread import thread_row
    from tests.ingest.cedfactory import BASE

    reposts = default_reposts(1, count=40)
    reposts.append({"mid": "Riso", "date": "2014-05-13T17:00:00.250000Z", "text": "非整秒"})
    reposts.append({"mid": "Rearly", "date": "2014-05-14 00:52:20", "text": "早一分钟"})
    reposts.append({"mid": "Rearly2", "date": "2014-05-14 00:52:19", "text": "早一分零一秒"})
    reposts.append({"mid": "Rat", "date": "2014-05-14 00:53:20", "text": "与原帖同秒"})
    write_event(tmp_path, 1, reposts=reposts, time=1400000000)  # 00:53:20 in Beijing
    (files,) = event_files(tmp_path, ImportReport())
    first = BASE.replace(tzinfo=SHANGHAI)  # the source's second, and Rat's
    last = (BASE + timedelta(minutes=7 * 30 + 1)).replace(tzinfo=SHANGHAI)
    # From a repost's exact second to half a second after another's.
    bounds = DateBounds(first, last + timedelta(microseconds=500_000))
    report = ImportReport()
    loaded = _load_raw(files, report, bounds)
    assert loaded is not None
    source, raw = loaded
    kept = {r.native_id for r in raw}
    expected = {item["mid"] for item in reposts if first <= _when(item["date"]) <= bounds.latest}
    assert kept == expected and {"Riso", "Rat", "R1x30"} <= kept
    assert not {"Rearly", "R1x31"} & kept
    assert source.fetched_at == max(r.created_at for r in raw)
    # The early reposts are outside these bounds: with the default ones, the warning.
    wide = ImportReport()
    _, raw_all = _load_raw(files, wide, None)  # type: ignore[misc]
    assert wide.warnings["repost dated before its source (kept)"] == 1  # Rearly2 only
    for chosen in (None, bounds):
        event = prepare_event(files, chosen, thread_row)
        src, rows = _load_raw(files, ImportReport(), chosen)  # type: ignore[misc]
        assert event.snapshots == _snapshots(src, [r.created_at for r in rows])
        assert event.scoring_row == thread_row(src, sorted(rows, key=_CREATED_TS))
    assert len(raw_all) == len(reposts)


def _when(value: str):  # type: ignore[no-untyped-def]
    from text.timeparse import parse_time

    return parse_time(value)
