"""replay → detect → incidents end to end on a small CED-layout directory, real SQLite."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tingfeng.cli import app

T0 = datetime.fromisoformat("2026-05-10T08:00:00+08:00")


def _event(
    root: Path, n: int, mid: str, at: datetime, text: str, reposts: list[float], label: str
) -> None:
    uid = f"9{n}"
    name = f"{n}_{mid}_{uid}"
    (root / "original-microblog" / f"{name}.json").write_text(
        json.dumps(
            {
                "text": text,
                "time": int(at.timestamp()),
                "reposts": len(reposts),
                "comments": 3,
                "likes": 5,
                "user": {"verified": n == 1, "followers": 50000 if n == 1 else 300},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    items = [
        {
            "mid": f"{mid}{i:04d}",
            "uid": f"u{n}{i}",
            "parent": "",
            "text": "转发微博",
            "date": (at + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for i, m in enumerate(reposts)
    ]
    folder = "rumor-repost" if label == "rumor" else "non-rumor-repost"
    (root / folder / f"{name}.json").write_text(json.dumps(items, ensure_ascii=False), "utf-8")


@pytest.fixture()
def ced_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ced"
    for sub in ("original-microblog", "rumor-repost", "non-rumor-repost"):
        (root / sub).mkdir(parents=True)
    # A quiet locality for three hours, then one incident takes off.
    _event(root, 0, "100", T0, "青川博物馆青铜器特展开幕", [m * 3 for m in range(100)], "non")
    _event(
        root,
        1,
        "200",
        T0 + timedelta(hours=3, minutes=30),
        "紧急：青川市人民路火锅店发生爆炸起火，多人被困",
        [0.2 * m for m in range(400)],
        "rumor",
    )
    _event(
        root,
        2,
        "300",
        T0 + timedelta(hours=3, minutes=40),
        "晨跑打卡第一百天，青川江边空气真好",
        [5, 30],
        "non",
    )
    return root


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "tingfeng.yaml"
    config.write_text(
        "store:\n  path: data/t.db\nhot:\n  burst:\n    current_minutes: 30\n",
        encoding="utf-8",
    )
    return {"TINGFENG_CONFIG": str(config)}


def test_replay_detect_incidents(ced_dir: Path, env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["replay", str(ced_dir), "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["posts"] == 3 + 100 + 400 + 2
    assert summary["new_incidents"] == 3
    assert summary["hot_onsets"] >= 1

    listed = runner.invoke(app, ["incidents", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)["data"]
    assert len(data) == 3
    top = data[0]
    assert "火锅店" in top["title"]
    assert top["hot"] is True and top["burst"] is True
    assert top["post_count"] == 401
    assert top["category"] == "安全事故"
    assert {"posts_per_h_15m", "posts_per_h_1h", "posts_per_h_6h", "acceleration"} <= set(
        top["velocity"]
    )
    assert top["virality"] is not None
    quiet = next(d for d in data if "晨跑" in d["title"])
    assert quiet["hot"] is False and quiet["burst"] is False

    # A repost crawled late (written 40 min after the source) reaches the store by import;
    # the next detection pass assigns it and the incident's figures change.
    late = tmp_path / "late.jsonl"
    source_time = T0 + timedelta(hours=3, minutes=30)
    late.write_text(
        json.dumps(
            {
                "source": "ced",
                "native_id": "late-1",
                "kind": "repost",
                "text": "转发",
                "created_at": (source_time + timedelta(minutes=40)).isoformat(),
                "parent_id": "ced:200",
                "root_id": "ced:200",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    imported = runner.invoke(app, ["import", "jsonl", str(late)], env=env)
    assert imported.exit_code == 0, imported.output
    # While its reposts still pour in (they run 80 minutes): the incident is hot then.
    at = (source_time + timedelta(hours=1)).isoformat()
    ran = runner.invoke(app, ["detect", "--at", at, "--json"], env=env)
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert report["assigned"] == 1 and report["new_incidents"] == 0
    data = json.loads(runner.invoke(app, ["incidents", "--json"], env=env).stdout)["data"]
    fire = next(d for d in data if "火锅店" in d["title"])
    assert fire["post_count"] == 402

    again = runner.invoke(app, ["detect", "--at", at], env=env)
    assert again.exit_code == 0, again.output
    assert "检测结果" in again.stdout and "当前热点" in again.stdout and "{" not in again.stdout
    assert max(len(line) for line in again.stdout.splitlines()) <= 80
    # Run again (or resumed after a crash): nothing is counted twice.
    summary = runner.invoke(app, ["replay", str(ced_dir)], env=env)
    assert summary.exit_code == 0 and "回放结果" in summary.stdout and "{" not in summary.stdout
    data = json.loads(runner.invoke(app, ["incidents", "--json"], env=env).stdout)["data"]
    assert next(d for d in data if "火锅店" in d["title"])["post_count"] == 402
    fire_id = fire["id"]
    history = runner.invoke(app, ["incidents", "--history", fire_id, "--json"], env=env)
    changes = json.loads(history.stdout)["changes"]
    onset = next(c for c in changes if c["change"] == "hot" and c["new"] is True)
    assert onset["reason"] and onset["figures"]["posts"] > 0
    table = runner.invoke(app, ["incidents", "--hot"], env=env)
    assert table.exit_code == 0 and "🔥" in table.stdout
    assert "事件（第 1–1 个，共 1 个）" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    assert "{" not in table.stdout


def test_replay_rejects_bad_input(tmp_path: Path, env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["replay", str(tmp_path / "missing")], env=env)
    assert result.exit_code != 0
    result = runner.invoke(app, ["replay", str(tmp_path), "--speed", "0"], env=env)
    assert result.exit_code != 0
