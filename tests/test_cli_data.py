"""The data commands through the real ``tingfeng`` entry point, in subprocesses."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ingest.cedfactory import default_reposts, write_event


def run(tmp: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TINGFENG_STORE__PATH": str(tmp / "t.db"), "TINGFENG_CONFIG": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "tingfeng", *args],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=120,
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def ced(tmp_path: Path) -> Path:
    root = tmp_path / "ced"
    write_event(root, 1, text="网传东城区化工厂爆炸，已有多人死亡")
    write_event(root, 2, label="non-rumor", text="西江区地铁三号线今日恢复运营")
    write_event(root, 3, text="南山县自来水有毒，不要喝", reposts=[*default_reposts(3), "junk"])
    return root


def test_import_search_stats_export(tmp_path: Path, ced: Path) -> None:
    out = run(tmp_path, "import", "ced", str(ced), "--json")
    summary = json.loads(out.stdout)
    assert summary["inserted"] == 18 and summary["skipped"] == {"not an object": 1}

    found = json.loads(run(tmp_path, "search", "爆炸", "--json").stdout)
    assert found["total"] == 1 and "<mark>爆炸</mark>" in found["hits"][0]["snippet"]
    assert found["facets"]["source"] == [["ced", 1]]
    none = json.loads(run(tmp_path, "search", "爆炸", "--until", "2000-01-01", "--json").stdout)
    assert none["total"] == 0
    human = run(tmp_path, "search", '"地铁 *(:')
    assert "第 1–1 条，共 1 条" in human.stdout and "来源：ced 1" in human.stdout

    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    assert stats["posts"] == 18 and stats["per_source"] == {"ced": 18}

    jsonl = tmp_path / "all.jsonl"
    run(tmp_path, "export", "--format", "jsonl", "--out", str(jsonl))
    rows = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert len(rows) == 18
    assert {"id", "author", "created_at", "fetched_at", "root_id", "extra"} <= set(rows[0])

    csv_file = tmp_path / "all.csv"
    run(tmp_path, "export", "--format", "csv", "--out", str(csv_file), "--source", "ced")
    raw = csv_file.read_bytes()
    assert raw.startswith("\ufeff".encode())  # BOM, so Excel reads the Chinese
    table = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(table) == 18 and any("爆炸" in r["text"] for r in table)

    # exported JSON lines import back as the same posts
    run(tmp_path, "import", "jsonl", str(jsonl))
    assert json.loads(run(tmp_path, "stats", "--json").stdout)["posts"] == 18


def test_user_errors_are_one_line_not_tracebacks(tmp_path: Path) -> None:
    missing = run(tmp_path, "import", "ced", str(tmp_path / "nope"), check=False)
    assert missing.returncode == 2 and "不是 CED 数据目录" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_date = run(tmp_path, "search", "x", "--since", "someday", check=False)
    assert bad_date.returncode == 2 and "--since" in bad_date.stderr
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text("store:\n  backend: oracle\n", "utf-8")
    proc = run(tmp_path, "--config", str(bad_cfg), "stats", check=False)
    assert proc.returncode == 2 and "store.backend" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_of_nothing_valid_exits_non_zero(tmp_path: Path) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text("{oops\n[]\n", "utf-8")
    proc = run(tmp_path, "import", "jsonl", str(file), "--json", check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["skipped"] == {"malformed JSON": 1, "not a JSON object": 1}


def test_kill_during_import_then_rerun_leaves_no_duplicates(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for n in range(1, 61):
        write_event(root, n, reposts=default_reposts(n, count=400))
    expected = 60 * 401
    env = {
        **os.environ,
        "TINGFENG_STORE__PATH": str(tmp_path / "t.db"),
        "TINGFENG_STORE__BATCH_SIZE": "300",
        "TINGFENG_CONFIG": "",
    }
    cmd = [sys.executable, "-m", "tingfeng", "import", "ced", str(root)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    db_path = tmp_path / "t.db"
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db_path.exists():
            try:
                with sqlite3.connect(db_path, timeout=1) as db:
                    stored = db.execute("SELECT count(*) FROM posts").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
            if stored > 0:
                break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < stored < expected, "the kill should land mid-import"
    run(tmp_path, "import", "ced", str(root))
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM posts").fetchone()[0] == expected
        assert db.execute("SELECT count(DISTINCT id) FROM posts").fetchone()[0] == expected
        assert db.execute("SELECT count(*) FROM posts_fts").fetchone()[0] == expected
        assert db.execute("SELECT count(*) FROM post_docs").fetchone()[0] == expected
        orphans = db.execute(
            "SELECT count(*) FROM posts p LEFT JOIN posts_fts f ON f.rowid = p.rowid"
            " WHERE f.rowid IS NULL"
        ).fetchone()[0]
        assert orphans == 0


def test_configured_user_dictionary_reaches_every_tokeniser(tmp_path: Path) -> None:
    """nlp.user_dict: a local place name jieba would split is kept whole by `tokenize`
    and in the index an import writes (through its worker processes)."""
    words = tmp_path / "places.txt"
    words.write_text("# local places\n龙湫镇 10 ns\n", "utf-8")
    cfg = tmp_path / "local.yaml"  # not ./tingfeng.yaml, which every run would read
    cfg.write_text(f"nlp:\n  user_dict: [{words}]\n", "utf-8")
    text = "龙湫镇发生火灾"

    plain = run(tmp_path, "tokenize", text, "--json")
    assert "龙湫镇" not in json.loads(plain.stdout)
    local = run(tmp_path, "--config", str(cfg), "tokenize", text, "--json")
    assert json.loads(local.stdout)[0] == "龙湫镇"

    ced = tmp_path / "ced"
    write_event(ced, 1, text=text)
    run(tmp_path, "--config", str(cfg), "import", "ced", str(ced), "--json")
    with sqlite3.connect(tmp_path / "t.db") as db:
        rows = [tokens.split() for (tokens,) in db.execute("SELECT tokens FROM posts_fts")]
    assert ["龙湫镇" in tokens for tokens in rows].count(True) == 1  # the source post

    missing = tmp_path / "missing.yaml"
    missing.write_text("nlp:\n  user_dict: [nowhere.txt]\n", "utf-8")
    proc = run(tmp_path, "--config", str(missing), "tokenize", text, check=False)
    # Relative to the config file's folder, as every path option.
    assert proc.returncode == 2
    assert f"nlp.user_dict: {tmp_path.resolve() / 'nowhere.txt'}: 文件不存在" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing.write_text("nlp:\n  stopwords: [gone.txt]\n", "utf-8")
    proc = run(tmp_path, "--config", str(missing), "tokenize", text, check=False)
    assert proc.returncode == 2 and "nlp.stopwords: " in proc.stderr
    assert "gone.txt: 文件不存在" in proc.stderr


def test_a_part_of_a_configured_place_name_finds_the_posts_that_name_it(tmp_path: Path) -> None:
    """A gazetteer (or user dictionary) name stays whole for clustering, and search still
    finds its parts: 望湖 finds 望湖街道, 化工园 finds 北塘化工园 (jieba's search mode emits
    only the parts that are dictionary words; a 岑江 office found 4 of 10 posts)."""
    words = tmp_path / "places.txt"
    words.write_text("北塘化工园 10 ns\n", "utf-8")
    cfg = tmp_path / "local.yaml"
    cfg.write_text(
        f"nlp:\n  user_dict: [{words}]\ngazetteer:\n  北塘区: [望湖街道, 北塘实验小学]\n", "utf-8"
    )
    ced = tmp_path / "ced"
    write_event(ced, 1, text="望湖街道一股刺鼻味道，听说北塘化工园泄漏了")
    write_event(ced, 2, label="non-rumor", text="北塘实验小学门口接送车辆乱停")
    run(tmp_path, "--config", str(cfg), "import", "ced", str(ced), "--json")
    tokens = json.loads(
        run(tmp_path, "--config", str(cfg), "tokenize", "望湖街道的味道", "--json").stdout
    )
    assert tokens[0] == "望湖街道"  # whole for clustering and claims

    def total(query: str) -> int:
        out = run(tmp_path, "--config", str(cfg), "search", query, "--json").stdout
        return json.loads(out)["total"]

    assert total("望湖") == 1 and total("望湖街道") == 1
    assert total("化工园") == 1 and total("北塘化工园") == 1
    assert total("实验小学") == 1


def test_search_and_export_refuse_a_window_that_ends_before_it_starts(
    tmp_path: Path, ced: Path
) -> None:
    """--since at or after --until (search, export, the incident list): exit 2, one Chinese
    line naming both options and the values as typed."""
    from tests.cli import run_main

    env = {"TINGFENG_STORE__PATH": str(tmp_path / "t.db"), "TINGFENG_CONFIG": ""}
    assert run_main("import", "ced", str(ced), env=env).returncode == 0
    for args in (
        ("search", "地震", "--since", "2026-12-01", "--until", "2026-11-01"),
        ("export", "--since", "2026-11-01 08:00", "--until", "2026-11-01 08:00"),
        ("incidents", "--since", "2026-12-01T08:00", "--until", "2026-11-01"),
    ):
        r = run_main(*args, env=env)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "--since：起始时间必须早于截止时间 --until" in r.stderr, r.stderr
        assert f"--since={args[-3]}，--until={args[-1]}" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
