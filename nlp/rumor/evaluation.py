"""Metrics of a rumor model, overall and by how early the score is computed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from nlp.rumor.model import RumorModel

#: ``0h`` is the source post alone; each other key adds the reposts dated up to that time
#: after the source; ``all`` uses every repost.
EARLY_HORIZONS: dict[str, timedelta | None] = {
    "0h": timedelta(0),
    "1h": timedelta(hours=1),
    "3h": timedelta(hours=3),
    "6h": timedelta(hours=6),
    "12h": timedelta(hours=12),
    "24h": timedelta(hours=24),
    "all": None,
}


def metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, rumor-class precision/recall/F1, macro F1, ROC-AUC and Brier score.

    ROC-AUC is ``None`` when only one class is present (it is undefined there).
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    if len(y) == 0:
        return {
            k: None
            for k in ("n", "accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc", "brier")
        } | {"n": 0}
    pred = (p >= threshold).astype(np.int64)
    both = len(set(y.tolist())) == 2
    return {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro", zero_division=0)), 4),
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p, pos_label=1)), 4),
    }


def report_from_probabilities(y: np.ndarray, probs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Top level = with all reposts; ``early`` = one metrics object per horizon."""
    out = metrics(y, probs["all"])
    out["early"] = {name: metrics(y, probs[name]) for name in EARLY_HORIZONS}
    return out


def evaluate(model: RumorModel, data: Any) -> dict[str, Any]:
    """Evaluate ``model`` on a :class:`nlp.rumor.training.Dataset` at every horizon."""
    y = data.y
    probs = {name: model.predict_proba(data.matrix(h)) for name, h in EARLY_HORIZONS.items()}
    return report_from_probabilities(y, probs)
