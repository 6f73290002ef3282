from __future__ import annotations

import json
from pathlib import Path

from ingest.pipeline import import_jsonl
from store.sqlite import SQLiteStore


def _line(**kw: object) -> str:
    base = {
        "source": "forum",
        "native_id": "1",
        "text": "东城区停水",
        "created_at": "2024-05-01 08:00",
    }
    base.update(kw)
    return json.dumps(base, ensure_ascii=False)


def test_bad_lines_are_counted_with_line_numbers(tmp_path: Path) -> None:
    lines = [
        _line(native_id="1", fetched_at="2024-06-01T00:00:00+08:00"),
        "{not json",
        _line(native_id="2", created_at="32/13/2024"),
        json.dumps({"source": "forum", "text": "无id", "created_at": "2024-05-01"}),
        _line(native_id="3", reposts="lots"),
        _line(native_id="4", text=""),
        "[1, 2]",
        _line(native_id="1", likes=5, fetched_at="2025-01-01T00:00:00+08:00"),
        "",
        _line(native_id="5", surprise=True),
    ]
    file = tmp_path / "in.jsonl"
    file.write_text("\n".join(lines), "utf-8")
    store = SQLiteStore(tmp_path / "s.db")
    report = import_jsonl(store, [file])
    assert report.inserted == 1
    assert report.skipped == {
        "malformed JSON": 1,
        "invalid date in created_at": 1,
        "missing field native_id": 1,
        "wrong type for reposts": 1,
        "empty text": 1,
        "not a JSON object": 1,
        "unknown field surprise": 1,
    }
    assert report.warnings == {"duplicate id in file (merged)": 1}
    assert report.examples["malformed JSON"] == [f"{file}:2"]
    assert report.examples["empty text"] == [f"{file}:6"]
    post = store.get_post("forum:1")
    assert post is not None and post.likes == 5  # the duplicate merged, newer counts won


def test_import_never_damages_stored_posts(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    good = tmp_path / "good.jsonl"
    good.write_text(_line(native_id="1", reposts=7) + "\n", "utf-8")
    import_jsonl(store, [good])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_line(native_id="1", reposts=-1) + "\n{oops\n", "utf-8")
    report = import_jsonl(store, [bad])
    assert report.imported == 0
    post = store.get_post("forum:1")
    assert post is not None and post.reposts == 7


def test_impossible_dates_are_refused_with_a_counted_reason(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from ingest.bounds import DateBounds, IngestConfig

    lines = [
        _line(native_id="ok", created_at="2024-05-01 08:00"),
        _line(native_id="y1", created_at="0001-01-01T00:00:00+08:00"),
        _line(native_id="y1970", created_at="1970-01-01T00:00:00Z"),
        _line(native_id="y2099", created_at="2099-06-01 08:00"),
        _line(native_id="y9999", created_at="9999-12-31T23:59:59Z"),
        _line(native_id="late", fetched_at="9999-12-31T23:59:59+00:00"),
        _line(native_id="early", created_at="2024-05-01 08:00", fetched_at="2024-04-01 08:00"),
    ]
    file = tmp_path / "dates.jsonl"
    file.write_text("\n".join(lines) + "\n", "utf-8")
    now = datetime(2024, 6, 1, tzinfo=UTC)
    store = SQLiteStore(tmp_path / "s.db")
    report = import_jsonl(store, [file], bounds=DateBounds.of(IngestConfig(), now=now))
    assert report.inserted == 2
    assert report.skipped == {
        "date out of range in created_at": 4,
        "date out of range in fetched_at": 1,
    }
    assert report.examples["date out of range in created_at"][0] == f"{file}:2"
    early = store.get_post("forum:early")
    assert early is not None and early.fetched_at == early.created_at
    assert report.warnings == {"fetched_at before created_at (set to created_at)": 1}
    # the bounds are settings: a century ahead lets the 2099 line in, not years 1970 or 9999
    wide = IngestConfig(earliest_date="1990-01-01", max_future_days=36500)
    again = import_jsonl(store, [file], bounds=DateBounds.of(wide, now=now))
    assert again.skipped == {
        "date out of range in created_at": 3,
        "date out of range in fetched_at": 1,
    }
    assert store.get_post("forum:y2099") is not None


def test_bom_is_accepted_and_gbk_is_named(tmp_path: Path) -> None:
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + _line(native_id="b1").encode() + b"\n")
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes((_line(native_id="g1") + "\n" + _line(native_id="g2") + "\n").encode("gbk"))
    store = SQLiteStore(tmp_path / "s.db")
    report = import_jsonl(store, [bom, gbk])
    assert report.inserted == 1 and store.get_post("forum:b1") is not None
    assert report.skipped == {"not UTF-8": 2}
    assert report.examples["not UTF-8"] == [f"{gbk}:1", f"{gbk}:2"]


def test_a_missing_file_stops_the_import_before_anything_is_written(tmp_path: Path) -> None:
    import pytest

    from ingest.errors import MissingInputError

    good = tmp_path / "good.jsonl"
    good.write_text(_line(native_id="1") + "\n", "utf-8")
    store = SQLiteStore(tmp_path / "s.db")
    with pytest.raises(MissingInputError, match=r"missing\.jsonl: 文件不存在"):
        import_jsonl(store, [good, tmp_path / "missing.jsonl"])
    assert store.count_posts() == 0
