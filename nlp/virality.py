"""Early virality: will this incident end large? (``python -m nlp.virality train CED_DIR``)

A gradient-boosted tree model (scikit-learn ``HistGradientBoostingClassifier``) over spread
features seen in the first minutes after the source post predicts whether an event's final
repost count lands in the top quartile of the training data (CED, Song et al. 2018).
Training rows are taken at checkpoints 5, 10, 15, 30, 60, 120, 240 and 360 minutes after the
source; the checkpoint enters as a feature, so one model answers at any age in between. See
``nlp/models/VIRALITY_CARD.md`` for data, evaluation and limits.

Persistence without pickle-of-anything: the estimator is a skops file loaded with an explicit
list of trusted types (:data:`TRUSTED_TYPES`); threshold, features and training figures sit
next to it as plain JSON.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nlp.spread import SpreadStats

FEATURES = (
    "log_reposts",
    "log_reposts_recent_half",
    "log_reposts_last_5m",
    "log_followers",
    "verified",
    "log_minutes",
    "log_reposts_x_log_minutes",
)
CHECKPOINTS = (5, 10, 15, 30, 60, 120, 240, 360)
MODEL_FILE = "virality.json"
#: Hyper-parameters of the shipped estimator.
HGB_PARAMS = {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40}


def features(
    rel_times: Sequence[float], followers: int, verified: bool, minutes: float
) -> list[float]:
    """Feature row at ``minutes`` after the source from sorted repost offsets (seconds)."""
    minutes = max(float(minutes), 1.0)
    end = minutes * 60.0
    n = bisect.bisect_right(rel_times, end)
    half = n - bisect.bisect_right(rel_times, end / 2)
    last5 = n - bisect.bisect_right(rel_times, end - 300.0)
    return features_from_counts(n, half, last5, followers, verified, minutes)


def features_from_counts(
    n: int, half: int, last5: int, followers: int, verified: bool, minutes: float
) -> list[float]:
    """Feature row from repost counts: so far, in the second half, in the last 5 minutes."""
    minutes = max(float(minutes), 1.0)
    log_n = math.log1p(n)
    log_t = math.log(minutes)
    return [
        log_n,
        math.log1p(half),
        math.log1p(last5),
        math.log1p(max(followers, 0)),
        1.0 if verified else 0.0,
        log_t,
        log_n * log_t,
    ]


def features_from_stats(stats: SpreadStats, now: float, max_minutes: float) -> list[float] | None:
    """Feature row of a live incident at ``now`` (epoch seconds); ``None`` before it has a
    source time. Older than ``max_minutes`` the row is frozen at ``max_minutes``."""
    if not stats.times:
        return None
    origin = stats.root_times[0] if stats.root_times else stats.times[0]
    minutes = max(min((now - origin) / 60.0, max_minutes), 1.0)
    end = origin + minutes * 60.0

    def replies(lo: float, hi: float) -> int:
        # Posts in [lo, hi] that are not roots: the incident's reposts/comments/replies.
        posts = bisect.bisect_right(stats.times, hi) - bisect.bisect_left(stats.times, lo)
        roots = bisect.bisect_right(stats.root_times, hi) - bisect.bisect_left(stats.root_times, lo)
        return posts - roots

    n = replies(origin, end)
    half = n - replies(origin, origin + minutes * 30.0)
    last5 = n - replies(origin, end - 300.0)
    followers = max((f for f, _ in stats.root_authors.values()), default=0)
    verified = any(v for _, v in stats.root_authors.values())
    if not stats.root_authors and stats.authors:
        followers = max(stats.authors.values())
    return features_from_counts(n, half, last5, followers, verified, minutes)


def _flatten(estimator: Any) -> tuple[float, list[tuple]] | None:
    """The boosted trees as plain lists, walked in Python per row.

    scikit-learn's ``predict_proba`` costs milliseconds per call (input checks, binning,
    an OpenMP pool that spins badly on a busy 2-core machine), and a pass scores every
    active incident each minute. Walking ≈200 shallow trees in Python takes ≈0.2 ms. Uses
    the fitted predictors' node arrays; checked against ``predict_proba`` on load and
    ``None`` (fall back to scikit-learn) if the layout ever differs.
    """
    try:
        baseline = float(np.ravel(estimator._baseline_prediction)[0])
        forest = []
        for (predictor,) in estimator._predictors:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                return None
            forest.append(
                (
                    nodes["value"].tolist(),
                    nodes["feature_idx"].tolist(),
                    nodes["num_threshold"].tolist(),
                    nodes["left"].tolist(),
                    nodes["right"].tolist(),
                    nodes["is_leaf"].tolist(),
                    nodes["missing_go_to_left"].tolist(),
                )
            )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    probe = np.asarray(
        [features([30.0 * i for i in range(n)], 100 * n, n % 2 == 0, m) for n, m in _PROBES]
    )
    expected = estimator.predict_proba(probe)[:, 1]
    for row, want in zip(probe.tolist(), expected.tolist(), strict=True):
        raw = baseline
        for value, feature, threshold, left, right, leaf, nan_left in forest:
            node = 0
            while not leaf[node]:
                x = row[feature[node]]
                go_left = nan_left[node] if x != x else x <= threshold[node]
                node = left[node] if go_left else right[node]
            raw += value[node]
        if abs(1.0 / (1.0 + math.exp(-raw)) - want) > 1e-6:
            return None
    return baseline, forest


_PROBES = [(0, 5), (3, 10), (40, 15), (150, 30), (400, 60), (900, 240), (20, 360)]

#: The only non-default types the skops file may contain (checked on load).
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
FORMAT = "tingfeng-virality-hgb/1"


@dataclass(frozen=True)
class ViralityModel:
    """A fitted classifier plus its alert threshold and training figures."""

    estimator: Any
    threshold: float
    min_minutes: float
    max_minutes: float
    meta: dict

    def __post_init__(self) -> None:
        object.__setattr__(self, "_trees", _flatten(self.estimator))

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        return np.asarray([self.predict_one(r) for r in rows], dtype=float)

    def predict_one(self, row: Sequence[float]) -> float:
        trees = self._trees  # type: ignore[attr-defined]
        if trees is None:
            x = np.asarray([row], dtype=float)
            return float(self.estimator.predict_proba(x)[0, 1])
        baseline, forest = trees
        raw = baseline
        for value, feature, threshold, left, right, leaf, nan_left in forest:
            node = 0
            while not leaf[node]:
                x = row[feature[node]]
                if x != x:  # NaN
                    node = left[node] if nan_left[node] else right[node]
                elif x <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            raw += value[node]
        return 1.0 / (1.0 + math.exp(-raw))

    @staticmethod
    def checkpoint_age(elapsed_minutes: float) -> int | None:
        """The latest training checkpoint (minutes) an incident of this age has reached.

        The model is only asked at the ages it was trained and its threshold chosen at
        (:data:`CHECKPOINTS`): a probability redrawn every minute would cross a threshold
        chosen for eight looks far more often. In a replay of CED (virality alone), scoring
        every minute gave precision 0.78 per hot flag, at the checkpoints 0.85.
        """
        reached = [c for c in CHECKPOINTS if c <= elapsed_minutes]
        return reached[-1] if reached else None

    def row_for(self, stats: SpreadStats, now: float) -> list[float] | None:
        """Feature row of a live incident at its latest checkpoint age, or ``None`` while
        too young to say."""
        if not stats.times:
            return None
        origin = stats.root_times[0] if stats.root_times else stats.times[0]
        elapsed = (now - origin) / 60.0
        age = self.checkpoint_age(elapsed)
        if elapsed < self.min_minutes or age is None:
            return None
        return features_from_stats(stats, origin + age * 60.0, self.max_minutes)

    def score_many(self, stats: Sequence[SpreadStats], now: float) -> list[float | None]:
        """Probabilities for several incidents at once (one estimator call per pass)."""
        rows = [self.row_for(s, now) for s in stats]
        present = [r for r in rows if r is not None]
        proba = iter(self.predict_proba(present).tolist())
        return [None if r is None else round(next(proba), 4) for r in rows]

    def score_stats(self, stats: SpreadStats, now: float) -> float | None:
        """Probability that a live incident ends large; ``None`` while too young to say."""
        return self.score_many([stats], now)[0]

    def header(self) -> dict:
        return {
            "format": FORMAT,
            "features": list(FEATURES),
            "threshold": self.threshold,
            "min_minutes": self.min_minutes,
            "max_minutes": self.max_minutes,
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> None:
        """Write ``<path>.skops`` (estimator) and ``<path>.json`` (everything else)."""
        import skops.io as sio

        base = Path(path).with_suffix("")
        sio.dump(self.estimator, base.with_suffix(".skops"))
        text = json.dumps(self.header(), ensure_ascii=False, indent=1) + "\n"
        base.with_suffix(".json").write_text(text, "utf-8")


def load_model(path: str | Path | None = None) -> ViralityModel:
    """The model at ``path`` (``.json`` header next to its ``.skops``), or the shipped one."""
    if path is None:
        return _shipped()
    return _load(Path(path))


def _load(path: Path) -> ViralityModel:
    import skops.io as sio

    base = path.with_suffix("")
    try:
        header = json.loads(base.with_suffix(".json").read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{base}.json: not a readable virality model ({exc})") from None
    if header.get("format") != FORMAT:
        raise ValueError(f"{base}.json: not a virality model (format {header.get('format')!r})")
    if list(header.get("features", [])) != list(FEATURES):
        raise ValueError(f"{base}.json: model features do not match this code version")
    untrusted = sio.get_untrusted_types(file=base.with_suffix(".skops"))
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ValueError(f"{base}.skops: refusing untrusted types {unexpected}")
    estimator = sio.load(base.with_suffix(".skops"), trusted=TRUSTED_TYPES)
    return ViralityModel(
        estimator=estimator,
        threshold=float(header["threshold"]),
        min_minutes=float(header["min_minutes"]),
        max_minutes=float(header["max_minutes"]),
        meta=dict(header.get("meta", {})),
    )


@lru_cache(maxsize=1)
def _shipped() -> ViralityModel:
    return _load(Path(str(resources.files("nlp.models").joinpath(MODEL_FILE))))


# -- training -------------------------------------------------------------------------------
@dataclass
class EventSpread:
    """What training needs of one CED event."""

    event_id: str
    start: float
    rel_times: list[float]
    followers: int
    verified: bool

    @property
    def final(self) -> int:
        return len(self.rel_times)


def load_events(root: str | Path) -> list[EventSpread]:
    from ingest.ced import iter_events

    out = []
    for ev in iter_events(root):
        start = ev.source.created_at.timestamp()
        rel = sorted(max(r.created_at.timestamp() - start, 0.0) for r in ev.reposts)
        out.append(
            EventSpread(
                ev.event_id,
                start,
                rel,
                ev.source.author.followers or 0,
                ev.source.author.verified,
            )
        )
    return out


def _rows(events: list[EventSpread], cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, g = [], [], []
    for i, ev in enumerate(events):
        for minutes in CHECKPOINTS:
            x.append(features(ev.rel_times, ev.followers, ev.verified, minutes))
            y.append(int(ev.final >= cutoff))
            g.append(i)
    return np.asarray(x), np.asarray(y), np.asarray(g)


def _month_groups(events: list[EventSpread]) -> np.ndarray:
    months = [datetime.fromtimestamp(ev.start, UTC).strftime("%Y-%m") for ev in events]
    index = {m: i for i, m in enumerate(sorted(set(months)))}
    return np.asarray([index[m] for m in months])


def _estimator(seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**HGB_PARAMS, random_state=seed)


def first_alert(ev: EventSpread, proba_at: dict[int, float], threshold: float) -> int | None:
    """Earliest checkpoint (minutes) whose probability reaches ``threshold``."""
    for minutes in CHECKPOINTS:
        if proba_at.get(minutes, 0.0) >= threshold:
            return minutes
    return None


def evaluate(events: list[EventSpread], proba: np.ndarray, cutoff: float, threshold: float) -> dict:
    """Event-level precision/recall at ``threshold`` and the median minutes gained.

    An event is flagged at its first checkpoint whose probability reaches the threshold;
    time gained is from that flag to the moment its collected reposts reached ``cutoff``
    (when its size would have been plain to see).
    """
    k = len(CHECKPOINTS)
    tp = fp = fn = 0
    gained: list[float] = []
    before20 = 0
    for i, ev in enumerate(events):
        at = {m: float(proba[i * k + j]) for j, m in enumerate(CHECKPOINTS)}
        flag = first_alert(ev, at, threshold)
        large = ev.final >= cutoff
        if flag is not None and large:
            tp += 1
            reached = ev.rel_times[int(cutoff) - 1] / 60.0
            gained.append(reached - flag)
            twenty = ev.rel_times[max(math.ceil(0.2 * ev.final) - 1, 0)] / 60.0
            before20 += flag <= twenty
        elif flag is not None:
            fp += 1
        elif large:
            fn += 1
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "flagged": tp + fp,
        "large": tp + fn,
        "median_minutes_gained": round(float(np.median(gained)), 1) if gained else None,
        "share_flagged_before_20pct": round(before20 / (tp + fn), 4) if tp + fn else None,
    }


def cross_validate(events: list[EventSpread], cutoff: float, folds: int = 5) -> np.ndarray:
    """Out-of-fold probabilities; folds group events by the month of their source post."""
    from sklearn.model_selection import GroupKFold

    x, y, rows_group = _rows(events, cutoff)
    months = _month_groups(events)[rows_group]
    proba = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, months):
        model = _estimator().fit(x[train], y[train])
        proba[test] = model.predict_proba(x[test])[:, 1]
    return proba


def choose_threshold(
    events: list[EventSpread], proba: np.ndarray, cutoff: float, target_precision: float
) -> float:
    """Lowest threshold whose out-of-fold event-level precision reaches the target."""
    for threshold in np.arange(0.30, 0.96, 0.01):
        result = evaluate(events, proba, cutoff, float(threshold))
        if result["precision"] is not None and result["precision"] >= target_precision:
            return round(float(threshold), 2)
    return 0.95


def within(proba: np.ndarray, minutes: int) -> np.ndarray:
    """``proba`` with every checkpoint later than ``minutes`` zeroed (flags up to then only)."""
    out = np.array(proba, dtype=float)
    k = len(CHECKPOINTS)
    for j, checkpoint in enumerate(CHECKPOINTS):
        if checkpoint > minutes:
            out[j::k] = 0.0
    return out


def train(events: list[EventSpread], target_precision: float = 0.8) -> ViralityModel:
    """Cross-validate, choose the alert threshold on out-of-fold figures, refit on all."""
    from sklearn.metrics import roc_auc_score

    finals = np.asarray([ev.final for ev in events])
    cutoff = float(np.percentile(finals, 75))
    proba = cross_validate(events, cutoff)
    threshold = choose_threshold(events, proba, cutoff, target_precision)
    x, y, _ = _rows(events, cutoff)
    estimator = _estimator().fit(x, y)
    meta = {
        "dataset": "CED (Song et al. 2018), training copy",
        "events": len(events),
        "large_events": int((finals >= cutoff).sum()),
        "top_quartile_cutoff_reposts": cutoff,
        "checkpoints_minutes": list(CHECKPOINTS),
        "estimator": "HistGradientBoostingClassifier",
        "params": HGB_PARAMS,
        "cv": "5-fold GroupKFold, groups = month of the source post",
        "cv_row_auc": round(float(roc_auc_score(y, proba)), 4),
        "target_precision": target_precision,
        "cv_at_threshold": evaluate(events, proba, cutoff, threshold),
        "cv_flags_within": {
            str(m): evaluate(events, within(proba, m), cutoff, threshold) for m in (15, 30, 60)
        },
    }
    return ViralityModel(
        estimator=estimator,
        threshold=threshold,
        min_minutes=float(CHECKPOINTS[0]),
        max_minutes=float(CHECKPOINTS[-1]),
        meta=meta,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.virality")
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train on a CED directory and write the model files")
    tr.add_argument("ced_dir")
    tr.add_argument("--out", default=str(Path(__file__).parent / "models" / MODEL_FILE))
    tr.add_argument("--target-precision", type=float, default=0.8)
    args = parser.parse_args(argv)
    events = load_events(args.ced_dir)
    model = train(events, target_precision=args.target_precision)
    model.save(args.out)
    print(json.dumps(model.meta, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
