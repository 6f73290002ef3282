"""Grouped cross-validation of rumor-model training variants on the *training* local sets.

    nice .venv/bin/python bench/eval_rumor_local.py [CED_DIR] \
        --local nlp/data/local/linjiang.tsv nlp/data/local/wangchuan.tsv \
        [--variants base,both,both_x3] [--folds 4] [--state /tmp/rumor-local-cv.jsonl]

Chooses how local posts enter training without looking at the held-out cities (云溪市,
鹤汀市): the posts of the ``--local`` files are split into grouped, stratified folds
(topics kept in one fold); for each fold and variant one pipeline is fitted on all CED
events plus the variant's share of the other folds' local posts, and scores the fold's
posts. Variants:

* ``base``: only the first ``--local`` file's posts join training (model 1.4.0's recipe);
* ``both``: every ``--local`` file's posts join training;
* ``both_x3``: the same, each local post repeated three times (a local weight of 3).

Every variant is scored on the same held-out posts of every file. One fit per fold and
variant, no calibration folds (CPU is scarce): probabilities use the shipped model's
calibration sigmoid, so the false-rumor rate at 0.5 is the margin above that sigmoid's
midpoint; ROC-AUC needs no calibration. Selection rule, fixed before the run: the lowest
balanced error (false-rumor rate + missed-rumor rate) at 0.5, pooled over all folds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from nlp.rumor.local import LocalSet, _metrics, load_local  # noqa: E402
from nlp.rumor.model import RumorModel, load_model  # noqa: E402
from nlp.rumor.pipeline import build_pipeline  # noqa: E402
from nlp.rumor.training import Dataset, _fit, _stack, load_dataset  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "base": {"cities": "first", "repeat": 1},
    "both": {"cities": "all", "repeat": 1},
    "both_x3": {"cities": "all", "repeat": 3},
}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _training_local(local: LocalSet, first_city: str, variant: dict[str, Any]) -> Dataset:
    posts = local.posts
    if variant["cities"] == "first":
        posts = [p for p in posts if p.city == first_city]
    data = Dataset()
    for _ in range(variant["repeat"]):
        data = data + LocalSet(posts).dataset()
    return data


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    ced = load_dataset(args.data, n_jobs=1)
    local = load_local(*args.local)
    first_city = Path(args.local[0]).stem
    took = time.perf_counter() - t0
    _log(f"read {len(ced)} CED events, {len(local)} local posts in {took:.0f} s")
    calibration = load_model().calibration
    names = args.variants.split(",")
    state = Path(args.state)
    done: dict[tuple[int, str], list[float | None]] = {}
    if state.exists():
        for line in state.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            done[(rec["fold"], rec["variant"])] = rec["probs"]
    y, groups = local.y, local.groups()
    splitter = StratifiedGroupKFold(args.folds, shuffle=True, random_state=0)
    splits = list(splitter.split(np.zeros(len(y)), y, groups))
    probs: dict[str, list[float | None]] = {n: [None] * len(local) for n in names}
    for k, (tr, te) in enumerate(splits):
        for name in names:
            if (k, name) not in done:
                f0 = time.perf_counter()
                extra = _training_local(local.subset(tr), first_city, VARIANTS[name])
                x, yy, _ = _stack(ced + extra)
                model = RumorModel(_fit(build_pipeline(), x, yy), calibration)
                held = local.subset(te)
                got = [s.probability for s in model.score(p.input for p in held.posts)]
                done[(k, name)] = got
                with state.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"fold": k, "variant": name, "probs": got}) + "\n")
                _log(f"fold {k + 1} {name}: {time.perf_counter() - f0:.0f} s")
            for i, p in zip(te, done[(k, name)], strict=True):
                probs[name][i] = p
    out: dict[str, Any] = {"folds": args.folds, "groups": len(set(groups.tolist()))}
    cities = sorted({p.city for p in local.posts})
    for name in names:
        scored = [(p, s) for p, s in zip(local.posts, probs[name], strict=True) if s is not None]
        m = _metrics(scored, 0.5)
        m["balanced_error"] = round(m["false_rumor_rate"] + 1 - m["recall"], 4)
        m["by_city"] = {c: _metrics([x for x in scored if x[0].city == c], 0.5) for c in cities}
        out[name] = m
    out["chosen"] = min(names, key=lambda n: (out[n]["balanced_error"], names.index(n)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared/datasets/ced")
    parser.add_argument("--local", nargs="+", type=Path, required=True)
    parser.add_argument("--variants", default="base,both,both_x3")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--state", default="/tmp/rumor-local-cv.jsonl")
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(run(args), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
