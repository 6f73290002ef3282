"""``tingfeng import ced`` scores the imported source posts (ingest-time rumor scoring)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nlp.rumor_factory import make_ced


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nlp.rumor.training import load_dataset, train

    root = tmp_path_factory.mktemp("m")
    return train(load_dataset(make_ced(root / "ced"))).save(root / "m.skops")


def tingfeng(cwd: Path, db: Path, model: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess on store ``db`` with rumor model ``model``."""
    env = {
        **os.environ,
        "TINGFENG_STORE__PATH": str(db),
        "TINGFENG_NLP__RUMOR_MODEL": str(model),
        "TINGFENG_CONFIG": "",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tingfeng", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc


def test_import_ced_writes_rumor_scores(tmp_path: Path, model_file: Path) -> None:
    from store.sqlite import SQLiteStore

    ced = make_ced(tmp_path / "ced", n_events=6, start=50)
    db = tmp_path / "t.db"
    proc = tingfeng(tmp_path, db, model_file, "import", "ced", str(ced))
    assert "谣言评分：6 条原帖" in proc.stderr
    with SQLiteStore(db) as store:
        sources = [p for p in store.iter_posts() if p.kind == "post"]
        reposts = [p for p in store.iter_posts() if p.kind == "repost"]
    assert len(sources) == 6
    assert all(p.rumor_score is not None for p in sources)
    assert all(p.rumor_score is None for p in reposts)
    by_label = {p.extra["ced_label"]: [] for p in sources}
    for p in sources:
        by_label[p.extra["ced_label"]].append(p.rumor_score)
    assert min(by_label["rumor"]) > max(by_label["non-rumor"])


def test_import_survives_a_broken_model(tmp_path: Path) -> None:
    ced = make_ced(tmp_path / "ced", n_events=2)
    bad = tmp_path / "bad.skops"
    bad.write_text("not a model", "utf-8")
    proc = tingfeng(tmp_path, tmp_path / "t.db", bad, "import", "ced", str(ced))
    assert "未做谣言评分" in proc.stderr


def test_import_jsonl_scores_each_thread_once(tmp_path: Path, model_file: Path) -> None:
    from store.sqlite import SQLiteStore

    ced = make_ced(tmp_path / "ced", n_events=3, start=80)
    export = tmp_path / "all.jsonl"
    tingfeng(tmp_path, tmp_path / "a.db", model_file, "import", "ced", str(ced))
    tingfeng(tmp_path, tmp_path / "a.db", model_file, "export", "--out", str(export))
    # Posts from another tool: no scores yet.
    lines = export.read_text("utf-8").splitlines()
    unscored = [
        json.dumps({k: v for k, v in json.loads(x).items() if k != "rumor_score"}) for x in lines
    ]
    export.write_text("\n".join(unscored) + "\n", "utf-8")
    db = tmp_path / "b.db"
    proc = tingfeng(tmp_path, db, model_file, "import", "jsonl", str(export))
    assert "谣言评分：3 条原帖" in proc.stderr
    with SQLiteStore(db) as store:
        sources = [p for p in store.iter_posts() if p.kind == "post"]
    assert len(sources) == 3 and all(p.rumor_score is not None for p in sources)
