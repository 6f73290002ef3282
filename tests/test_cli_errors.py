"""The installed ``tingfeng`` command never shows a traceback: a usage error prints the
usage and exits 2, a bad value names the option or key, a path problem names the path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TINGFENG = Path(sys.executable).parent / "tingfeng"


def run(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "COLUMNS": "120"}
    return subprocess.run(
        [str(TINGFENG), *args], capture_output=True, text=True, timeout=60, cwd=tmp,
        env={**base, **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a small store, its config in ./tingfeng.yaml."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "tingfeng.yaml").write_text("store:\n  path: t.db\n", "utf-8")
    posts = tmp / "p.jsonl"
    lines = [
        {"id": f"bbs:{i}", "source": "bbs", "native_id": str(i), "text": text,
         "created_at": f"2026-11-{10 + i}T09:00:00+08:00"}
        for i, text in enumerate(
            ["鹿鸣路今天停水了", "鹿鸣路停电，停水也没恢复", "停电通知：鹿鸣路 明天检修",
             "学校门口交通拥堵"]
        )
    ]  # fmt: skip
    posts.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in lines), "utf-8")
    proc = run(tmp, "import", "jsonl", str(posts))
    assert proc.returncode == 0, proc.stderr
    return tmp


USAGE = [
    ((), "Usage: tingfeng"),
    (("nope",), "No such command 'nope'"),
    (("search",), "Missing argument"),
    (("search", "停水", "--limit", "abc"), "Invalid value for '--limit'"),
    (("search", "停水", "--limit", "0"), "Invalid value for '--limit'"),
    (("tokenize", "-停水"), "以 - 开头的参数请写在 -- 之后"),
    (("detect", "--rescan-hours", "-1"), "--rescan-hours"),
    (("import",), "Usage: tingfeng import"),
    (("export", "--bogus"), "No such option"),
]


@pytest.mark.parametrize(
    ("args", "expected"), USAGE, ids=[" ".join(a) or "(none)" for a, _ in USAGE]
)
def test_usage_errors_exit_2_with_usage(home: Path, args: tuple[str, ...], expected: str) -> None:
    proc = run(home, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert expected in out
    assert "Traceback" not in out and "Usage:" in out


ONE_LINE = [
    (("export", "--out", "."), "--out .: is a folder"),
    (("export", "--out", "no/such/dir/x.jsonl"), "the folder no/such/dir does not exist"),
    (("export", "--out", "p.jsonl/x.jsonl"), "the folder p.jsonl does not exist"),
    (("export", "--format", "xml"), "--format: must be jsonl or csv"),
    (("search", "停水 OR 停电"), "查询不支持 OR"),
    (("search", "-停水"), "查询只有排除词"),
    (("search", "停水", "--limt", "3"), "--limt: no such option"),
    (("search", "停水", "--sort", "newest"), "--sort: must be relevance, time or time_asc"),
    (("search", "停水", "--since", "yesterday"), "--since: cannot read 'yesterday'"),
]


@pytest.mark.parametrize(("args", "expected"), ONE_LINE, ids=[" ".join(a) for a, _ in ONE_LINE])
def test_bad_values_are_one_line_exit_2(home: Path, args: tuple[str, ...], expected: str) -> None:
    proc = run(home, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("错误 / error: ") and expected in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_export_to_an_unwritable_file(home: Path) -> None:
    proc = run(home, "export", "--out", "/proc/version")
    assert proc.returncode == 2 and "--out /proc/version" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_errors_name_key_or_variable(home: Path) -> None:
    bad = home / "bad.yaml"
    bad.write_text("stor:\n  path: t.db\n", "utf-8")
    proc = run(home, "--config", str(bad), "stats")
    assert proc.returncode == 2 and f"{bad}: stor: unknown key (known: store" in proc.stderr
    proc = run(home, "stats", env={"TINGFENG_STORE__BATCH_SIZE": "lots"})
    assert proc.returncode == 2
    assert "TINGFENG_STORE__BATCH_SIZE (environment): store.batch_size" in proc.stderr
    proc = run(home, "stats", env={"TINGFENG_STOER__BACKEND": "sqlite"})
    assert proc.returncode == 2 and "TINGFENG_STOER__BACKEND (environment): stoer" in proc.stderr


def test_search_output_pages_phrases_and_exclusions(home: Path) -> None:
    proc = run(home, "search", "鹿鸣路", "--limit", "2")
    assert proc.returncode == 0, proc.stderr
    assert "第 1–2 条，共 3 条" in proc.stdout
    assert "来源：bbs 3" in proc.stdout and "日期：" in proc.stdout
    assert "第 3–3 条，共 3 条" in run(home, "search", "鹿鸣路", "--offset", "2").stdout

    def ids(*args: str) -> list[str]:
        out = run(home, "search", *args, "--json", "--sort", "time_asc")
        assert out.returncode == 0, out.stderr
        return [h["post"]["id"] for h in json.loads(out.stdout)["hits"]]

    assert ids("鹿鸣路 停电") == ["bbs:1", "bbs:2"]
    assert ids('"停电 通知"') == ["bbs:2"]  # the words together, in that order
    assert ids("“今天停水”") == ["bbs:0"]  # Chinese quotes too
    assert ids("“鹿鸣路停水”") == []  # both words occur, but not together
    assert ids("鹿鸣路", "-停电") == ["bbs:0"]
    assert ids("停水", '-"停电，停水"') == ["bbs:0"]
    total = json.loads(run(home, "search", "鹿鸣路", "-停电", "--json").stdout)
    assert total["total"] == 1 and total["facets"]["source"] == [["bbs", 1]]
