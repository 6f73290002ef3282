"""Import paths through the real ``tingfeng`` entry point (in-process, see tests/cli.py) on
tmp dirs: bad input (dates, encodings, missing files) and export → import round trips."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import Post
from store.sqlite import SQLiteStore
from tests.cli import run_main
from tests.ingest.cedfactory import default_reposts, write_event


def run(cwd: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"TINGFENG_STORE__PATH": str(db), "TINGFENG_CONFIG": ""}
    return run_main(*args, env=env, cwd=cwd)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def line(native_id: str, created_at: str, **extra: object) -> str:
    return json.dumps(
        {"source": "bbs", "native_id": native_id, "text": "青石县自来水停水通知",
         "created_at": created_at, **extra},
        ensure_ascii=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ced") / "ced"
    write_event(root, 1, text="网传青石县化工厂爆炸，已有多人死亡")
    write_event(root, 2, label="non-rumor", text="白河市地铁二号线今日恢复运营")
    write_event(root, 3, text="柳镇自来水有毒，不要喝", reposts=default_reposts(3, count=40))
    return root


def test_export_import_round_trip_keeps_posts_and_snapshots(tmp_path: Path, ced: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    summary = json.loads(ok(run(tmp_path, first, "import", "ced", str(ced), "--json")).stdout)
    assert summary["snapshots"] > 0 and summary["scored"] == 3
    dump = tmp_path / "all.jsonl"
    ok(run(tmp_path, first, "export", "--snapshots", "--out", str(dump)))
    again = json.loads(ok(run(tmp_path, second, "import", "jsonl", str(dump), "--json")).stdout)
    assert again["skipped"] == {} and again["snapshots"] == summary["snapshots"]
    redump = tmp_path / "again.jsonl"
    ok(run(tmp_path, second, "export", "--snapshots", "--out", str(redump)))
    assert redump.read_bytes() == dump.read_bytes()  # every field, every snapshot
    with SQLiteStore(first, readonly=True) as a, SQLiteStore(second, readonly=True) as b:
        posts_a, posts_b = list(a.iter_posts()), list(b.iter_posts())
        assert posts_a == posts_b and len(posts_a) == summary["inserted"]
        ids = [p.id for p in posts_a]
        assert a.get_snapshots(ids) == b.get_snapshots(ids)
        assert len(b.get_snapshots(ids)) == summary["snapshots"]
        assert all(p.fetched_at >= p.created_at for p in posts_a)
        assert any(p.rumor_score is not None for p in posts_b)


def test_impossible_dates_are_refused_and_later_commands_work(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    file = tmp_path / "dates.jsonl"
    file.write_text(
        "\n".join(
            [
                line("ok", "2024-05-01 08:00"),
                line("y1", "0001-01-01T00:00:00+08:00"),
                line("y1970", "1970-01-01T00:00:00Z"),
                line("y2099", "2099-01-01 08:00"),
                line("y9999", "9999-12-31T23:59:59Z"),
            ]
        )
        + "\n",
        "utf-8",
    )
    report = json.loads(ok(run(tmp_path, db, "import", "jsonl", str(file), "--json")).stdout)
    assert report["inserted"] == 1
    assert report["skipped"] == {"date out of range in created_at": 4}
    assert report["examples"]["date out of range in created_at"][0] == f"{file}:2"
    found = json.loads(ok(run(tmp_path, db, "search", "停水", "--sort", "time", "--json")).stdout)
    assert found["total"] == 1


def test_posts_stored_before_the_bounds_existed_break_no_command(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with SQLiteStore(db) as store:  # what imports wrote before dates were checked
        store.upsert_posts(
            Post(source="bbs", native_id=n, text="青石县停水", created_at=t, fetched_at=t)
            for n, t in (
                ("y1", datetime(1, 1, 1, tzinfo=UTC)),
                ("y9999", datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
                ("y1970", datetime(1970, 1, 1, tzinfo=UTC)),
                ("ok", datetime(2024, 5, 1, tzinfo=UTC)),
            )
        )
    for sort in ("time", "time_asc", "relevance"):
        ok(run(tmp_path, db, "search", "停水", "--sort", sort))
        ok(run(tmp_path, db, "search", "停水", "--sort", sort, "--json"))
    ok(run(tmp_path, db, "export", "--out", str(tmp_path / "x.jsonl")))
    ok(run(tmp_path, db, "export", "--format", "csv", "--out", str(tmp_path / "x.csv")))
    assert json.loads(ok(run(tmp_path, db, "stats", "--json")).stdout)["posts"] == 4


def test_bom_accepted_and_gbk_named_as_not_utf8(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    bom = tmp_path / "excel.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + line("b1", "2024-05-01 08:00").encode() + b"\n")
    assert (
        json.loads(ok(run(tmp_path, db, "import", "jsonl", str(bom), "--json")).stdout)["inserted"]
        == 1
    )
    gbk = tmp_path / "forum-gbk.jsonl"
    gbk.write_bytes((line("g1", "2024-05-01 08:00") + "\n").encode("gbk"))
    proc = run(tmp_path, db, "import", "jsonl", str(gbk), "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # nothing imported
    report = json.loads(proc.stdout)
    assert report["skipped"] == {"not UTF-8": 1}
    assert report["examples"]["not UTF-8"] == [f"{gbk}:1"]


def test_missing_input_file_is_one_line_and_nothing_is_imported(tmp_path: Path) -> None:
    db = tmp_path / "data" / "t.db"
    good = tmp_path / "good.jsonl"
    good.write_text(line("1", "2024-05-01 08:00") + "\n", "utf-8")
    missing = tmp_path / "missing.jsonl"
    for args in ([str(missing)], [str(missing), str(good)], [str(good), str(missing)]):
        proc = run(tmp_path, db, "import", "jsonl", *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().count("\n") == 0 and str(missing) in proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not db.exists()  # refused before the store was even opened
