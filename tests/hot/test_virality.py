"""The shipped virality model: plain JSON, loads without pickle, behaves sensibly."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources

import pytest

from models import Author, Post
from nlp.spread import SpreadStats
from nlp.virality import FEATURES, ViralityModel, evaluate, features, load_model
from tests.hot.conftest import minutes, repost


def test_shipped_model_is_json_data_with_figures() -> None:
    raw = json.loads(resources.files("nlp.models").joinpath("virality.json").read_text("utf-8"))
    assert raw["format"] == "tingfeng-virality-logreg/1"
    assert raw["features"] == list(FEATURES)
    meta = raw["meta"]
    assert meta["cv"].startswith("5-fold GroupKFold")
    assert 0 < meta["cv_at_threshold"]["precision"] <= 1
    model = load_model()
    assert 0.3 <= model.threshold <= 0.95


def test_rejects_foreign_files(tmp_path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"format": "pickle"}), "utf-8")
    with pytest.raises(ValueError):
        load_model(path)
    data = load_model().to_json()
    data["features"] = ["x"]
    with pytest.raises(ValueError):
        ViralityModel.from_json(data)


def test_more_early_reposts_means_higher_probability() -> None:
    model = load_model()
    slow = features([60.0 * i for i in range(10)], 1000, False, 15)
    fast = features([2.0 * i for i in range(300)], 1000, False, 15)
    assert model.predict_one(fast) > model.predict_one(slow)


def test_scores_a_live_incident_only_once_old_enough() -> None:
    model = load_model()
    base = datetime.fromisoformat("2026-05-10T08:00:00+08:00")
    root = Post(
        source="t",
        native_id="1",
        text="青川爆炸",
        created_at=base,
        author=Author(id="a", followers=200000),
    )
    stats = SpreadStats()
    stats.add(root)
    for i in range(200):
        stats.add(repost(root, i, minutes(base, i * 0.05)))
    assert model.score_stats(stats, minutes(base, 2).timestamp()) is None
    p = model.score_stats(stats, minutes(base, 15).timestamp())
    assert p is not None and 0 <= p <= 1


def test_evaluate_counts_precision_recall() -> None:
    from nlp.virality import CHECKPOINTS, EventSpread

    big = EventSpread("a", 0.0, [1.0] * 10, 0, False)
    small = EventSpread("b", 0.0, [1.0] * 2, 0, False)
    k = len(CHECKPOINTS)
    proba = [0.9] * k + [0.1] * k
    result = evaluate([big, small], proba, cutoff=10, threshold=0.5)
    assert result["precision"] == 1.0 and result["recall"] == 1.0
