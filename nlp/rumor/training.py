"""Training and cross-validating the rumor model on a directory in the CED layout."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from ingest.report import ImportReport
from nlp.rumor.features import Prepared, RumorInput, prepare, to_matrix
from nlp.rumor.model import RumorModel
from nlp.rumor.pipeline import TRAIN_HORIZONS_HOURS, build_pipeline

MODEL_VERSION = "1.0.0"
_SPACE = re.compile(r"\s+")


@dataclass
class Dataset:
    """Events of one CED directory, parsed once so every horizon and fold reuses them."""

    event_ids: list[str] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)
    prepared: list[Prepared] = field(default_factory=list)
    report: ImportReport = field(default_factory=ImportReport)

    def __len__(self) -> int:
        return len(self.prepared)

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=np.int64)

    def groups(self) -> np.ndarray:
        """Events with the same source text share a group, so CV never splits them."""
        ids: dict[str, int] = {}
        return np.asarray(
            [ids.setdefault(_group_key(p.source_text), len(ids)) for p in self.prepared]
        )

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(
            [self.event_ids[i] for i in index],
            [self.labels[i] for i in index],
            [self.prepared[i] for i in index],
            self.report,
        )

    def matrix(self, horizon: timedelta | None) -> np.ndarray:
        return to_matrix([p.row(horizon)[0] for p in self.prepared])


def _group_key(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())


def load_dataset(root: str | Path, report: ImportReport | None = None) -> Dataset:
    """Read a CED-layout directory; unreadable files are counted in the report and skipped,
    events without a label are left out (they cannot be trained or evaluated on)."""
    from ingest.ced import iter_events

    data = Dataset(report=report if report is not None else ImportReport())
    for event in iter_events(root, data.report):
        if event.is_rumor is None:
            data.report.skip("event without label", event.event_id)
            continue
        data.event_ids.append(event.event_id)
        data.labels.append(bool(event.is_rumor))
        data.prepared.append(prepare(RumorInput.from_posts(event.source, event.reposts)))
    return data


def _horizons() -> list[timedelta | None]:
    return [None if h is None else timedelta(hours=h) for h in TRAIN_HORIZONS_HOURS]


def _stack(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    horizons = _horizons()
    x = np.vstack([data.matrix(h) for h in horizons])
    return x, np.tile(data.y, len(horizons))


def train(
    data: Dataset,
    *,
    calibration_folds: int = 3,
    random_state: int = 0,
    params: dict[str, Any] | None = None,
) -> RumorModel:
    """Fit the pipeline on every event cut at every training horizon, and a sigmoid on
    margins the pipeline gave to events it did not see (grouped folds), so probabilities are
    calibrated rather than the over-confident in-sample margins."""
    if len(set(data.labels)) < 2:
        raise ValueError("training needs both rumor and non-rumor events")
    started = time.perf_counter()
    template = build_pipeline(**(params or {}))
    y, groups = data.y, data.groups()
    folds = min(calibration_folds, int(np.bincount(y).min()), len(set(groups.tolist())))
    margins, targets = [], []
    if folds >= 2:
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
        for tr, te in splitter.split(np.zeros(len(y)), y, groups):
            x_tr, y_tr = _stack(data.subset(tr))
            if len(set(y_tr.tolist())) < 2:
                continue
            fold_model = clone(template).fit(x_tr, y_tr)
            x_te, y_te = _stack(data.subset(te))
            margins.append(fold_model.decision_function(x_te))
            targets.append(y_te)
    x, yy = _stack(data)
    pipeline = clone(template).fit(x, yy)
    if margins:
        platt = LogisticRegression(C=1e4).fit(
            np.concatenate(margins).reshape(-1, 1), np.concatenate(targets)
        )
        calibration = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
    else:  # too few events for held-out margins: a plain logistic link
        calibration = (1.0, 0.0)
    meta = {
        "trained_on": len(data),
        "rumors": int(y.sum()),
        "non_rumors": int(len(y) - y.sum()),
        "train_horizons_hours": [h for h in TRAIN_HORIZONS_HOURS],
        "calibration_folds": folds,
        "train_seconds": round(time.perf_counter() - started, 1),
        "date": date.today().isoformat(),
    }
    return RumorModel(pipeline, calibration, version=MODEL_VERSION, meta=meta)


def cross_validate(
    data: Dataset, *, folds: int = 5, random_state: int = 0, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Grouped, stratified k-fold CV; returns the same JSON shape as evaluation, computed
    on the pooled out-of-fold probabilities, plus per-fold accuracies."""
    from nlp.rumor.evaluation import EARLY_HORIZONS, metrics, report_from_probabilities

    y, groups = data.y, data.groups()
    probs = {name: np.zeros(len(y)) for name in EARLY_HORIZONS}
    per_fold: dict[str, list[float]] = {name: [] for name in EARLY_HORIZONS}
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    for tr, te in splitter.split(np.zeros(len(y)), y, groups):
        model = train(data.subset(tr), random_state=random_state, params=params)
        held = data.subset(te)
        for name, horizon in EARLY_HORIZONS.items():
            p = model.predict_proba(held.matrix(horizon))
            probs[name][te] = p
            per_fold[name].append(metrics(held.y, p)["accuracy"])
    out = report_from_probabilities(y, probs)
    out["cv"] = {
        "folds": folds,
        "grouped_by": "identical source text",
        "groups": len(set(groups.tolist())),
        "fold_accuracy": {k: [round(a, 4) for a in v] for k, v in per_fold.items()},
    }
    return out
