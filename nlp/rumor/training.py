"""Training and cross-validating the rumor model on a directory in the CED layout."""

from __future__ import annotations

import itertools
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from nlp.rumor.features import Prepared, RumorInput, prepare, to_matrix
from nlp.rumor.model import RumorModel
from nlp.rumor.pipeline import TRAIN_HORIZONS_HOURS, build_pipeline, fit_pipeline
from nlp.tokenize import TokenizerState, restore, snapshot
from text.report import ImportReport

if TYPE_CHECKING:
    from ingest.ced import EventFiles

MODEL_VERSION = "1.4.1"
#: Share of training rows (per event and horizon, drawn at random) that get an extra copy
#: with the author's profile masked, and with the source time masked (since 1.4.0). Every
#: CED event has a full Weibo profile, so without these copies "no profile" never occurs
#: in training and its placeholder zeros read as a brand-new zero-follower account; with
#: them the masked rows carry the same labels as the unmasked ones, so missing data says
#: nothing by itself and the score rests on the text and the features that are known.
MASK_AUTHOR_SHARE = 0.4
MASK_TIME_SHARE = 0.1
#: Worker processes for reading a directory and for the fits inside :func:`train`. Two:
#: the reference machine has two cores, and each fit holds a few hundred MB.
N_JOBS = 2
#: Below this many event files a worker pool costs more than it saves.
_PARALLEL_MIN_FILES = 200
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

    def __add__(self, other: Dataset) -> Dataset:
        """Both datasets' events (the first one's report)."""
        return Dataset(
            self.event_ids + other.event_ids,
            self.labels + other.labels,
            self.prepared + other.prepared,
            self.report,
        )

    def matrix(self, horizon: timedelta | None) -> np.ndarray:
        return to_matrix([p.row(horizon)[0] for p in self.prepared])


def _group_key(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())


def load_dataset(
    root: str | Path, report: ImportReport | None = None, *, n_jobs: int = N_JOBS
) -> Dataset:
    """Read a CED-layout directory; unreadable files are counted in the report and skipped,
    events without a label are left out (they cannot be trained or evaluated on).

    Parsing is most of the time of ``tingfeng train`` (a million reposts, each validated
    into a Post), so the files are split into ``n_jobs`` contiguous chunks read in worker
    processes; duplicates are then dropped in file-name order, as ``iter_events`` does, so
    the result does not depend on ``n_jobs``."""
    from ingest.ced import event_files

    data = Dataset(report=report if report is not None else ImportReport())
    files = event_files(root, data.report)
    workers = max(1, min(n_jobs, len(files) // _PARALLEL_MIN_FILES))
    if workers == 1:
        chunks = [_load_chunk(files)]
    else:
        bounds = np.linspace(0, len(files), workers + 1).astype(int)
        chunks = Parallel(n_jobs=workers)(
            delayed(_load_chunk)(files[a:b]) for a, b in itertools.pairwise(bounds)
        )
    seen_sources: set[str] = set()
    for part, events in chunks:
        data.report.merge(part)
        for event_id, source_id, is_rumor, path, prepared in events:
            if source_id in seen_sources:
                data.report.skip("duplicate id", path)
                continue
            seen_sources.add(source_id)
            if is_rumor is None:
                data.report.skip("event without label", event_id)
                continue
            data.event_ids.append(event_id)
            assert prepared is not None  # prepared whenever labelled
            data.labels.append(is_rumor)
            data.prepared.append(prepared)
    return data


_Loaded = tuple[str, str, bool | None, str, Prepared | None]


def _load_chunk(files: list[EventFiles]) -> tuple[ImportReport, list[_Loaded]]:
    """Read and prepare a run of event files (in a worker); labels and duplicates are
    resolved by the caller, which sees every chunk."""
    from ingest.ced import load_event

    report = ImportReport()
    out: list[_Loaded] = []
    for event_files in files:
        event = load_event(event_files, report)
        if event is None:
            continue
        # Unlabelled events are kept only as ids: they still claim their source id, as in
        # iter_events, but are never prepared.
        prepared = (
            None
            if event.is_rumor is None
            else prepare(RumorInput.from_posts(event.source, event.reposts))
        )
        out.append(
            (event.event_id, event.source.id, event.is_rumor, str(event_files.original), prepared)
        )
    return report, out


def _horizons() -> list[timedelta | None]:
    return [None if h is None else timedelta(hours=h) for h in TRAIN_HORIZONS_HOURS]


def _stack(
    data: Dataset,
    random_state: int = 0,
    *,
    mask_author: float = MASK_AUTHOR_SHARE,
    mask_time: float = MASK_TIME_SHARE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every event at every training horizon, plus masked copies (``mask_author`` and
    ``mask_time`` of the events, by default :data:`MASK_AUTHOR_SHARE` and
    :data:`MASK_TIME_SHARE`, drawn with ``random_state``): the input matrix, the labels and
    the event index of each row."""
    rng = np.random.default_rng(random_state)
    author_share, time_share = mask_author, mask_time
    rows: list[list[Any]] = []
    owner: list[int] = []
    for horizon in _horizons():
        masks_author = rng.random(len(data)) < author_share
        masks_time = rng.random(len(data)) < time_share
        for i, p in enumerate(data.prepared):
            rows.append(p.row(horizon)[0])
            owner.append(i)
            if masks_author[i] and "author" not in p.missing:
                rows.append(p.masked(author=True).row(horizon)[0])
                owner.append(i)
            if masks_time[i] and "source time" not in p.missing:
                rows.append(p.masked(author=False, time=True).row(horizon)[0])
                owner.append(i)
    index = np.asarray(owner, dtype=np.int64)
    return to_matrix(rows), data.y[index], index


def _rows(events: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Rows of :func:`_stack` that belong to the given events (every horizon and copy)."""
    return np.flatnonzero(np.isin(owner, events))


def _fit(
    template: Pipeline, x: np.ndarray, y: np.ndarray, tok: TokenizerState | None = None
) -> Pipeline:
    restore(tok)  # a worker process tokenises as its parent does
    return fit_pipeline(clone(template), x, y)


def _held_out_margins(
    template: Pipeline,
    x: np.ndarray,
    y: np.ndarray,
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    tok: TokenizerState | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    if len(set(y[train_rows].tolist())) < 2:
        return None
    model = _fit(template, x[train_rows], y[train_rows], tok)
    return model.decision_function(x[test_rows]), y[test_rows]


def train(
    data: Dataset,
    *,
    calibration_folds: int = 3,
    random_state: int = 0,
    params: dict[str, Any] | None = None,
    n_jobs: int = N_JOBS,
) -> RumorModel:
    """Fit the pipeline on every event cut at every training horizon, and a sigmoid on
    margins the pipeline gave to events it did not see (grouped folds), so probabilities are
    calibrated rather than the over-confident in-sample margins.

    The final fit and the calibration folds are independent, so they run side by side in
    ``n_jobs`` worker processes (the vectorisers tokenise in Python and hold the GIL, so
    threads would not help). The events are cut at the horizons once and the folds take
    rows of that matrix, rather than each fold cutting its own."""
    if len(set(data.labels)) < 2:
        raise ValueError("训练需要谣言与非谣言两类事件")
    started = time.perf_counter()
    template = build_pipeline(**(params or {}))
    y, groups = data.y, data.groups()
    folds = min(calibration_folds, int(np.bincount(y).min()), len(set(groups.tolist())))
    x, yy, owner = _stack(data, random_state)
    splits = []
    if folds >= 2:
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
        splits = [
            (_rows(tr, owner), _rows(te, owner))
            for tr, te in splitter.split(np.zeros(len(y)), y, groups)
        ]
    # The final fit is the longest job, so it goes first and the folds fill in around it.
    tok = snapshot()
    jobs = [delayed(_fit)(template, x, yy, tok)] + [
        delayed(_held_out_margins)(template, x, yy, tr, te, tok) for tr, te in splits
    ]
    workers = max(1, min(n_jobs, len(jobs))) if len(data) >= _PARALLEL_MIN_FILES else 1
    pipeline, *held = Parallel(n_jobs=workers)(jobs)
    margins = [m for m, _ in filter(None, held)]
    targets = [t for _, t in filter(None, held)]
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
        "mask_author_share": MASK_AUTHOR_SHARE,
        "mask_time_share": MASK_TIME_SHARE,
        "training_rows": len(yy),
        "calibration_folds": folds,
        "train_seconds": round(time.perf_counter() - started, 1),
        "date": date.today().isoformat(),
    }
    return RumorModel(pipeline, calibration, version=MODEL_VERSION, meta=meta)


def cross_validate(
    data: Dataset,
    *,
    folds: int = 5,
    random_state: int = 0,
    params: dict[str, Any] | None = None,
    extra: Dataset | None = None,
) -> dict[str, Any]:
    """Grouped, stratified k-fold CV; returns the same JSON shape as evaluation, computed
    on the pooled out-of-fold probabilities, plus per-fold accuracies. ``extra`` events
    (a local labelled set) join the training side of every fold and are never scored."""
    from nlp.rumor.evaluation import EARLY_HORIZONS, metrics, report_from_probabilities

    y, groups = data.y, data.groups()
    probs = {name: np.zeros(len(y)) for name in EARLY_HORIZONS}
    per_fold: dict[str, list[float]] = {name: [] for name in EARLY_HORIZONS}
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    for tr, te in splitter.split(np.zeros(len(y)), y, groups):
        fold = data.subset(tr) if extra is None else data.subset(tr) + extra
        model = train(fold, random_state=random_state, params=params)
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
