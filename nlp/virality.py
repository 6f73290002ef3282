"""Early virality: will this incident end large? (``python -m nlp.virality train CED_DIR``)

A logistic regression over spread features seen in the first minutes after the source post
predicts whether an event's final repost count lands in the top quartile of the training
data (CED, Song et al. 2018). Training rows are taken at checkpoints 5, 10, 15, 30, 60, 120,
240 and 360 minutes after the source; the checkpoint enters as a feature, so one model answers
at any age in between. See ``nlp/models/VIRALITY_CARD.md`` for data, evaluation and limits.

The shipped model is plain JSON (feature names, scaler means/scales, coefficients,
intercept, alert threshold, training figures): data, never code, and loaded without pickle.
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


@dataclass(frozen=True)
class ViralityModel:
    """A fitted logistic regression as plain arrays (see :func:`load_model`)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    min_minutes: float
    max_minutes: float
    meta: dict

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        x = (np.asarray(rows, dtype=float) - self.mean) / self.scale
        z = x @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def predict_one(self, row: Sequence[float]) -> float:
        return float(self.predict_proba([row])[0])

    def score_stats(self, stats: SpreadStats, now: float) -> float | None:
        """Probability that a live incident ends large; ``None`` while too young to say."""
        if not stats.times:
            return None
        origin = stats.root_times[0] if stats.root_times else stats.times[0]
        if (now - origin) / 60.0 < self.min_minutes:
            return None
        row = features_from_stats(stats, now, self.max_minutes)
        return None if row is None else round(self.predict_one(row), 4)

    def to_json(self) -> dict:
        return {
            "format": "tingfeng-virality-logreg/1",
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "min_minutes": self.min_minutes,
            "max_minutes": self.max_minutes,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict) -> ViralityModel:
        if data.get("format") != "tingfeng-virality-logreg/1":
            raise ValueError(f"not a virality model (format {data.get('format')!r})")
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError("virality model features do not match this code version")
        return cls(
            mean=np.asarray(data["mean"], dtype=float),
            scale=np.asarray(data["scale"], dtype=float),
            coef=np.asarray(data["coef"], dtype=float),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            min_minutes=float(data["min_minutes"]),
            max_minutes=float(data["max_minutes"]),
            meta=dict(data.get("meta", {})),
        )


def load_model(path: str | Path | None = None) -> ViralityModel:
    """The model at ``path``, or the shipped ``nlp/models/virality.json``."""
    if path is None:
        return _shipped()
    return ViralityModel.from_json(json.loads(Path(path).read_text("utf-8")))


@lru_cache(maxsize=1)
def _shipped() -> ViralityModel:
    text = resources.files("nlp.models").joinpath(MODEL_FILE).read_text("utf-8")
    return ViralityModel.from_json(json.loads(text))


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


def _pipeline(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=c, max_iter=2000))])


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


def cross_validate(
    events: list[EventSpread], cutoff: float, c: float = 1.0, folds: int = 5
) -> np.ndarray:
    """Out-of-fold probabilities; folds group events by the month of their source post."""
    from sklearn.model_selection import GroupKFold

    x, y, rows_group = _rows(events, cutoff)
    months = _month_groups(events)[rows_group]
    proba = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, months):
        model = _pipeline(c).fit(x[train], y[train])
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


def train(
    events: list[EventSpread], c: float = 1.0, target_precision: float = 0.85
) -> ViralityModel:
    finals = np.asarray([ev.final for ev in events])
    cutoff = float(np.percentile(finals, 75))
    proba = cross_validate(events, cutoff, c)
    threshold = choose_threshold(events, proba, cutoff, target_precision)
    cv = evaluate(events, proba, cutoff, threshold)
    x, y, _ = _rows(events, cutoff)
    pipe = _pipeline(c).fit(x, y)
    scaler, clf = pipe.named_steps["scale"], pipe.named_steps["clf"]
    from sklearn.metrics import roc_auc_score

    meta = {
        "dataset": "CED (Song et al. 2018), training copy",
        "events": len(events),
        "top_quartile_cutoff_reposts": cutoff,
        "checkpoints_minutes": list(CHECKPOINTS),
        "cv": "5-fold GroupKFold, groups = month of the source post",
        "cv_row_auc": round(float(roc_auc_score(y, proba)), 4),
        "cv_at_threshold": cv,
        "target_precision": target_precision,
        "C": c,
    }
    return ViralityModel(
        mean=np.asarray(scaler.mean_, dtype=float),
        scale=np.asarray(scaler.scale_, dtype=float),
        coef=np.asarray(clf.coef_[0], dtype=float),
        intercept=float(clf.intercept_[0]),
        threshold=threshold,
        min_minutes=float(CHECKPOINTS[0]),
        max_minutes=float(CHECKPOINTS[-1]),
        meta=meta,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.virality")
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train on a CED directory and write the JSON model")
    tr.add_argument("ced_dir")
    tr.add_argument("--out", default=str(Path(__file__).parent / "models" / MODEL_FILE))
    tr.add_argument("--target-precision", type=float, default=0.85)
    args = parser.parse_args(argv)
    events = load_events(args.ced_dir)
    model = train(events, target_precision=args.target_precision)
    Path(args.out).write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(model.meta, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
