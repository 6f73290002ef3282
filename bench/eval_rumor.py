"""Nested grouped cross-validation of the rumor model's training procedure on CED.

    nice .venv/bin/python bench/eval_rumor.py [CED_DIR] [--local nlp/data/local/linjiang.tsv]
        [--outer 5] [--inner 3] [--candidates shipped,mask20] [--state /tmp/rumor-ncv.jsonl]

Outer loop: the grouped, stratified 5-fold split of ``tingfeng evaluate --cv 5``
(StratifiedGroupKFold, shuffled, random_state 0, events with identical source text in one
group). For each outer fold, every candidate procedure is judged by an inner grouped
k-fold CV (``--inner``, default 2) on the outer training events only (mean of the
accuracies at 0 h, 1 h and with all reposts, by the margin's sign; ties go to the first
candidate, the shipped one). The chosen candidate is then fitted on all outer training
events and its calibration sigmoid is fitted on its own inner out-of-fold margins (as
``nlp.rumor.training.train`` does on 3 grouped folds), and it scores the outer held-out
events at every horizon. The figures are pooled over the outer folds, so no held-out
event ever influenced the choice of variant or the calibration that scored it. Folds not
finished yet are left out of the pooled figures (``nested_cv.outer_folds_done``).

The local training set (``--local``, 临江市) joins the training side of every inner and
outer fit and is never scored. Fits run one at a time (``n_jobs=1``: the machine is
shared); each finished outer fold is appended to ``--state`` so an interrupted run
resumes where it stopped (the state file holds scores and figures only, no model).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from nlp.rumor.evaluation import EARLY_HORIZONS, metrics, report_from_probabilities  # noqa: E402
from nlp.rumor.model import RumorModel  # noqa: E402
from nlp.rumor.pipeline import build_pipeline  # noqa: E402
from nlp.rumor.training import (  # noqa: E402
    MASK_AUTHOR_SHARE,
    MASK_TIME_SHARE,
    Dataset,
    _fit,
    _rows,
    _stack,
    load_dataset,
)

#: Candidate training procedures: pipeline keyword arguments and masked-copy shares.
#: ``shipped`` is model 1.4.0's procedure; the others each change one design choice.
CANDIDATES: dict[str, dict[str, Any]] = {
    "shipped": {"params": {}, "mask_author": MASK_AUTHOR_SHARE, "mask_time": MASK_TIME_SHARE},
    "mask20": {"params": {}, "mask_author": 0.2, "mask_time": 0.05},
    "c1": {"params": {"c": 1.0}, "mask_author": MASK_AUTHOR_SHARE, "mask_time": MASK_TIME_SHARE},
}
SELECT_ON = ("0h", "1h", "all")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _inner(
    name: str, cand: dict[str, Any], outer_train: Dataset, extra: Dataset | None, inner: int
) -> dict[str, Any]:
    """Inner grouped CV of one candidate on the outer training events: selection accuracy
    and the out-of-fold margins (of every stacked row) for calibration."""
    data = outer_train if extra is None else outer_train + extra
    n = len(outer_train)
    x, yy, owner = _stack(data, 0, mask_author=cand["mask_author"], mask_time=cand["mask_time"])
    template = build_pipeline(**cand["params"])
    y, groups = outer_train.y, outer_train.groups()
    local_events = np.arange(n, len(data))
    splitter = StratifiedGroupKFold(inner, shuffle=True, random_state=0)
    margins, targets = [], []
    correct = {h: 0 for h in SELECT_ON}
    for k, (tr, te) in enumerate(splitter.split(np.zeros(n), y, groups)):
        t0, c0 = time.perf_counter(), _cpu()
        rows_tr = _rows(np.concatenate([tr, local_events]), owner)
        rows_te = _rows(te, owner)
        model = _fit(template, x[rows_tr], yy[rows_tr])
        margins.append(model.decision_function(x[rows_te]))
        targets.append(yy[rows_te])
        held = outer_train.subset(te)
        for h in SELECT_ON:
            m = model.decision_function(held.matrix(EARLY_HORIZONS[h]))
            correct[h] += int(((m > 0).astype(int) == held.y).sum())
        _log(
            f"  {name} inner {k + 1}/{inner}: {time.perf_counter() - t0:.0f} s wall,"
            f" {_cpu() - c0:.0f} s CPU"
        )
    acc = {h: correct[h] / n for h in SELECT_ON}
    return {
        "accuracy": acc,
        "score": float(np.mean(list(acc.values()))),
        "margins": np.concatenate(margins),
        "targets": np.concatenate(targets),
        "x": x,
        "yy": yy,
        "template": template,
    }


def _standard_errors(
    y: np.ndarray, p: np.ndarray, folds: list[dict[str, Any]]
) -> dict[str, float | None]:
    """One standard error of the pooled accuracy and ROC-AUC, two ways: binomial over the
    pooled events (accuracy) or Hanley-McNeil (AUC), and the spread of the outer folds
    (standard deviation of the per-fold figures / sqrt(folds))."""
    n = len(y)
    acc = float(((p >= 0.5).astype(int) == y).mean()) if n else float("nan")
    pos, neg = int(y.sum()), int(n - y.sum())
    out: dict[str, float | None] = {
        "accuracy_binomial": round(float(np.sqrt(acc * (1 - acc) / n)), 4) if n else None,
        "roc_auc_hanley_mcneil": None,
        "accuracy_folds": None,
        "roc_auc_folds": None,
    }
    if pos and neg:
        from sklearn.metrics import roc_auc_score

        a = float(roc_auc_score(y, p))
        q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
        var = (a * (1 - a) + (pos - 1) * (q1 - a * a) + (neg - 1) * (q2 - a * a)) / (pos * neg)
        out["roc_auc_hanley_mcneil"] = round(float(np.sqrt(var)), 4)
    if len(folds) > 1:
        k = len(folds)
        accs = [m["accuracy"] for m in folds]
        out["accuracy_folds"] = round(float(np.std(accs, ddof=1) / np.sqrt(k)), 4)
        aucs = [m["roc_auc"] for m in folds if m["roc_auc"] is not None]
        if len(aucs) > 1:
            out["roc_auc_folds"] = round(float(np.std(aucs, ddof=1) / np.sqrt(len(aucs))), 4)
    return out


def outer_splits(y: np.ndarray, groups: np.ndarray, folds: int) -> list[tuple[Any, Any]]:
    outer = StratifiedGroupKFold(folds, shuffle=True, random_state=0)
    return list(outer.split(np.zeros(len(y)), y, groups))


def _labels_only(root: Path) -> Dataset:
    """The events' labels in :func:`load_dataset` order, from the folders alone."""
    from ingest.ced import event_files
    from text.report import ImportReport

    files = [f for f in event_files(root, ImportReport()) if f.label is not None]
    return Dataset([f.event_id for f in files], [f.label == "rumor" for f in files])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from nlp.rumor.local import load_local

    t0, c0 = time.perf_counter(), _cpu()
    if args.report_only:  # labels only (from the folders), checked against each fold below
        data = _labels_only(args.data)
        extra = None
    else:
        data = load_dataset(args.data, n_jobs=1)
        extra = load_local(*args.local).dataset() if args.local else None
    took = f"{time.perf_counter() - t0:.0f} s ({_cpu() - c0:.0f} s CPU)"
    _log(f"read {len(data.labels)} events in {took}")
    names = args.candidates.split(",")
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise SystemExit(f"unknown candidate(s): {', '.join(unknown)}")
    state = Path(args.state)
    done: dict[int, dict[str, Any]] = {}
    if state.exists():
        for line in state.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["candidates"] == names and rec["outer"] == args.outer:
                done[rec["fold"]] = rec
    y = data.y
    groups = None if args.report_only else data.groups()
    splits = [] if args.report_only else outer_splits(y, groups, args.outer)
    for k, rec in done.items():
        acc = metrics(y[rec["test_index"]], np.asarray(rec["probs"]["all"]))["accuracy"]
        assert acc == rec["accuracy"]["all"], f"fold {k + 1}: labels do not match"
    for k, (tr, te) in enumerate(splits):
        if k in done:
            _log(f"outer fold {k + 1}: already in {state}")
            continue
        f0, fc0 = time.perf_counter(), _cpu()
        outer_train = data.subset(tr)
        judged = {}
        for name in names:
            judged[name] = _inner(name, CANDIDATES[name], outer_train, extra, args.inner)
            _log(f" {name}: inner accuracy {judged[name]['accuracy']}")
        chosen = max(names, key=lambda n: (judged[n]["score"], -names.index(n)))
        best = judged[chosen]
        platt = LogisticRegression(C=1e4).fit(best["margins"].reshape(-1, 1), best["targets"])
        pipeline = _fit(best["template"], best["x"], best["yy"])
        model = RumorModel(pipeline, (float(platt.coef_[0, 0]), float(platt.intercept_[0])))
        held = data.subset(te)
        probs = {
            h: model.predict_proba(held.matrix(hz)).tolist() for h, hz in EARLY_HORIZONS.items()
        }
        rec = {
            "fold": k,
            "outer": args.outer,
            "candidates": names,
            "chosen": chosen,
            "inner": {n: judged[n]["accuracy"] for n in names},
            "test_index": te.tolist(),
            "probs": probs,
            "accuracy": {h: metrics(held.y, np.asarray(p))["accuracy"] for h, p in probs.items()},
            "wall_s": round(time.perf_counter() - f0, 1),
            "cpu_s": round(_cpu() - fc0, 1),
        }
        with state.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
        done[k] = rec
        _log(f"outer fold {k + 1}: chose {chosen}, held-out accuracy {rec['accuracy']}")
    scored = np.asarray(sorted(i for rec in done.values() for i in rec["test_index"]), dtype=int)
    pooled = {h: np.zeros(len(y)) for h in EARLY_HORIZONS}
    for rec in done.values():
        for h in EARLY_HORIZONS:
            pooled[h][rec["test_index"]] = rec["probs"][h]
    out = report_from_probabilities(y[scored], {h: p[scored] for h, p in pooled.items()})
    fold_metrics = {
        h: [
            metrics(y[done[k]["test_index"]], np.asarray(done[k]["probs"][h])) for k in sorted(done)
        ]
        for h in EARLY_HORIZONS
    }
    out["nested_cv"] = {
        "outer_folds": args.outer,
        "outer_folds_done": sorted(k + 1 for k in done),
        "inner_folds": args.inner,
        "candidates": {n: CANDIDATES[n] for n in names},
        "selected_on": "mean inner accuracy at " + ", ".join(SELECT_ON),
        "chosen": [done[k]["chosen"] for k in sorted(done)],
        "inner_accuracy": [done[k]["inner"] for k in sorted(done)],
        "fold_accuracy": {
            h: [done[k]["accuracy"][h] for k in sorted(done)] for h in EARLY_HORIZONS
        },
        "fold_roc_auc": {h: [m["roc_auc"] for m in ms] for h, ms in fold_metrics.items()},
        "standard_error": {
            h: _standard_errors(y[scored], pooled[h][scored], ms) for h, ms in fold_metrics.items()
        },
        "groups": None if groups is None else len(set(groups.tolist())),
        "events": len(y),
        "local": [str(p) for p in args.local or []],
        "fold_cpu_s": [done[k]["cpu_s"] for k in sorted(done)],
        "fold_wall_s": [done[k]["wall_s"] for k in sorted(done)],
        "load_average": os.getloadavg()[0],
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared/datasets/ced")
    parser.add_argument("--local", nargs="*", type=Path, default=None)
    parser.add_argument("--outer", type=int, default=5)
    parser.add_argument("--inner", type=int, default=2)
    parser.add_argument("--candidates", default="shipped,mask20")
    parser.add_argument("--state", default="/tmp/rumor-ncv.jsonl")
    parser.add_argument(
        "--report-only", action="store_true", help="pool the folds in --state, fit nothing"
    )
    args = parser.parse_args(argv)
    out = run(args)
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
