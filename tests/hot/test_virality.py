"""The shipped virality model: plain JSON, loads without pickle, behaves sensibly."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources

import numpy as np
import pytest

from models import Author, Post
from nlp.spread import SpreadStats
from nlp.virality import FEATURES, evaluate, features, load_model
from tests.hot.conftest import minutes, repost


def test_shipped_model_is_skops_plus_json_header() -> None:
    header = json.loads(resources.files("nlp.models").joinpath("virality.json").read_text("utf-8"))
    assert header["format"] == "tingfeng-virality-hgb/1"
    assert header["features"] == list(FEATURES)
    meta = header["meta"]
    assert meta["cv"].startswith("5-fold GroupKFold")
    assert 0 < meta["cv_at_threshold"]["precision"] <= 1
    model = load_model()
    assert 0.3 <= model.threshold <= 0.95


def test_rejects_foreign_files_and_untrusted_types(tmp_path) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"format": "pickle"}), "utf-8")
    with pytest.raises(ValueError):
        load_model(tmp_path / "m.json")
    # A skops file holding a type outside the trusted list is refused before loading.
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    header = load_model().header()
    (tmp_path / "x.json").write_text(json.dumps(header), "utf-8")
    rows = np.asarray([features([1.0 * i for i in range(n)], 10, False, 15) for n in range(40)])
    odd = make_pipeline(FunctionTransformer(abs), HistGradientBoostingClassifier(max_iter=2))
    odd.fit(rows, [n % 2 for n in range(40)])
    sio.dump(odd, tmp_path / "x.skops")
    with pytest.raises(ValueError, match="untrusted"):
        load_model(tmp_path / "x.json")


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


def test_a_live_incident_is_scored_at_the_training_checkpoints_only() -> None:
    model = load_model()
    base = datetime.fromisoformat("2026-05-10T08:00:00+08:00")
    root = Post(source="t", native_id="1", text="青川爆炸", created_at=base, author=Author(id="a"))
    stats = SpreadStats()
    stats.add(root)
    for i in range(300):
        stats.add(repost(root, i, minutes(base, i * 0.1)))
    at = {m: model.score_stats(stats, minutes(base, m).timestamp()) for m in (15, 16, 29, 30)}
    # Between checkpoints the answer is the last checkpoint's: no extra looks at the threshold.
    assert at[15] == at[16] == at[29]
    assert at[30] != at[15]
    assert model.checkpoint_age(4.9) is None and model.checkpoint_age(400) == 360
