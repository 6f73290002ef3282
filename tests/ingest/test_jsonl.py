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
        _line(native_id="1"),
        "{not json",
        _line(native_id="2", created_at="32/13/2024"),
        json.dumps({"source": "forum", "text": "无id", "created_at": "2024-05-01"}),
        _line(native_id="3", reposts="lots"),
        _line(native_id="4", text=""),
        "[1, 2]",
        _line(native_id="1", likes=5, fetched_at="2030-01-01T00:00:00+08:00"),
        "",
        _line(native_id="5", surprise=True),
    ]
    file = tmp_path / "in.jsonl"
    file.write_text("\n".join(lines), "utf-8")
    store = SQLiteStore(tmp_path / "s.db")
    report = import_jsonl(store, [file, tmp_path / "missing.jsonl"])
    assert report.inserted == 1
    assert report.skipped == {
        "malformed JSON": 1,
        "invalid date in created_at": 1,
        "missing field native_id": 1,
        "wrong type for reposts": 1,
        "empty text": 1,
        "not a JSON object": 1,
        "unknown field surprise": 1,
        "unreadable file": 1,
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
