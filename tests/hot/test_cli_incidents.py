"""``tingfeng incidents``: the API's list on the command line (one store query, the same
filters, paging, sort and tier), readable at 80 columns, and a bad option is one Chinese
line naming it with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from models import Alert, AlertKind, AlertStatus, Incident, Tier
from store.sqlite import SQLiteStore
from tests.api.factory import T0
from tests.cli import run_main

TINGFENG = Path(sys.executable).parent / "tingfeng"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("incidents")
    (tmp / "tingfeng.yaml").write_text("store:\n  path: t.db\n", "utf-8")
    with SQLiteStore(tmp / "t.db") as store:
        for i in range(30):
            store.save_record(
                Incident(
                    id=f"inc-{i:02d}",
                    title=f"{'江北区' if i % 2 else '南岸区'}事件{i}：一个相当长的标题用来检验截断",
                    keywords=["停水"] if i % 3 == 0 else ["交通"],
                    district="江北区" if i % 2 else "南岸区",
                    category="民生",
                    hot=i % 4 == 0,
                    heat=float(i),
                    rumor_score=None if i % 5 == 0 else (i % 10) / 10,
                    first_seen=T0 + timedelta(minutes=i),
                    last_seen=T0 + timedelta(hours=i),
                )
            )
        for i, tier, status in [
            (29, Tier.I, AlertStatus.NOTIFIED),
            (28, Tier.II, AlertStatus.ACKNOWLEDGED),
            (27, Tier.IV, AlertStatus.CLOSED),
        ]:
            store.save_record(
                Alert(id=f"a{i}", incident_id=f"inc-{i:02d}", alert_kind=AlertKind.INCIDENT,
                      tier=tier, rule="r", status=status, opened_at=T0)
            )  # fmt: skip
    return tmp


def _json(home: Path, *args: str) -> dict:
    proc = run_main("incidents", "--json", *args, cwd=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_pages_filters_and_sort_are_the_stores(home: Path) -> None:
    first = _json(home, "--limit", "10")
    assert first["count"] == 30 and first["per_page"] == 10
    assert [r["id"] for r in first["data"]] == [f"inc-{i:02d}" for i in range(29, 19, -1)]
    third = _json(home, "--limit", "10", "--page", "3")
    assert [r["id"] for r in third["data"]][-1] == "inc-00" and len(third["data"]) == 10
    assert _json(home, "--page", "9")["data"] == []
    hot = _json(home, "--hot", "--district", "南岸区", "--limit", "100")
    assert {r["id"] for r in hot["data"]} == {f"inc-{i:02d}" for i in range(0, 30, 4)}
    assert hot["count"] == len(hot["data"])
    high = _json(home, "--rumor", "高", "--sort", "rumor", "--limit", "100")
    assert [r["rumor_score"] for r in high["data"]] == [0.9, 0.9, 0.9, 0.8, 0.8, 0.8]
    assert _json(home, "--rumor", "unscored")["count"] == 6
    assert _json(home, "-q", "停水")["count"] == 10
    recent = _json(home, "--sort", "last_seen", "--since", "2026-11-30T20:00", "--limit", "100")
    seen = [r["last_seen"] for r in recent["data"]]
    assert seen == sorted(seen, reverse=True) and 0 < len(seen) < 30


def test_tier_filter_and_column(home: Path) -> None:
    tiered = _json(home, "--tier", "I", "--tier", "IV")
    assert [(r["id"], r["tier"]) for r in tiered["data"]] == [("inc-29", "I"), ("inc-27", "IV")]
    none = _json(home, "--tier", "none", "--limit", "100")
    assert none["count"] == 27 and all(r["tier"] is None for r in none["data"])
    proc = run_main("incidents", "--limit", "5", cwd=home)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "事件（第 1–5 个，共 30 个）" in out and "级别" in out
    assert "Ⅰ级" in out and "Ⅱ级" in out and "Ⅳ级" in out and "…" in out  # long titles cut
    assert max(len(line) for line in out.splitlines()) <= 80
    empty = run_main("incidents", "--district", "无此区", cwd=home)
    assert empty.returncode == 0 and "无符合条件的事件" in empty.stdout


BAD = [
    (("--tier", "V"), "--tier"),
    (("--rumor", "很高"), "--rumor"),
    (("--sort", "oldest"), "--sort"),
    (("--page", "0"), "--page"),
    (("--page", "abc"), "--page"),
    (("--limit", "101"), "--limit"),
    (("--limit", "100", "--page", "101"), "--page"),
    (("--since", "昨天"), "--since"),
    (("--since", "2026-12-02", "--until", "2026-12-01"), "--since"),
    (("--text", "长" * 101), "--text"),
]


@pytest.mark.parametrize(("args", "option"), BAD, ids=[" ".join(a)[:30] for a, _ in BAD])
def test_bad_options_name_the_option_in_chinese(home: Path, args: tuple, option: str) -> None:
    proc = run_main("incidents", *args, cwd=home)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = proc.stderr.strip()
    assert line.startswith("错误：" + option + "：") and "\n" not in line, line
    assert any("\u4e00" <= ch <= "\u9fff" for ch in line.split(option, 1)[1])


def test_the_installed_command_exits_2_without_a_traceback(home: Path) -> None:
    proc = subprocess.run(
        [str(TINGFENG), "incidents", "--tier", "V"], capture_output=True, text=True,
        timeout=60, cwd=home, env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--tier：应为I、II、III、IV 或 none" in proc.stderr
