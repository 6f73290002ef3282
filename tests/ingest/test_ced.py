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
