"""Do the first reposters' histories make an early hot flag more precise? (CED)

    nice .venv/bin/python bench/eval_hot_adopters.py [CED_DIR] [--auc-only] [--seeds 0 1 2]
        [--crossfit event|fold] [--cache /tmp/ced-adopters.pkl] [--json]

Cheng et al. (2014, "Can cascades be predicted?") find that a cascade whose first reposters
often took part in large cascades before tends to grow large. CED reposts carry the
reposter's user id, so this asks whether "who reposted so far" adds to "how many reposted
so far" in the learned decision of bench/eval_hot_content.py.

Event level, folds 1-4 only (fold 0 stays the held-out evaluation fold of eval_hot.py, not
read here). Each event is scored at 21 ages from 1 to 360 minutes after its source post by
one learned decision (gradient-boosted trees) and flagged at its first age at or above a
threshold; "large" = final collected reposts in the top quartile of the training folds.
Two variants of the decision's inputs:

* ``spread``: the event's own reposts so far, in the last 5 minutes, in the second half of
  the age, the age, the source's followers and verification (as eval_hot_content.py);
* ``spread+adopters``: plus, over the distinct reposters seen by the age (only reposts
  written by then), what the *history* says of them: how many and which share were seen in
  history events, the mean and max of their history events' mean log final size, their
  smoothed share of large history events, how many and which share were in a large one
  ("veterans"), the sum of their large participations, how many reposted a large one
  before its 20 % point, and the reposts their history reposts drew.

The history is the training events only, with their full (final) reposts: for a scored
fold, every event of the folds it is not trained on is absent from it. Within the training
events an event's own participation is taken out of its reposters' history
(``--crossfit event``, the default: the history of a training event is every other training
event, as a scored event's is every training event) or its whole fold is (``--crossfit
fold``, stricter: the history of a training event is the other training folds). So no
event's features see its own final size. The inner folds of the nested CV rebuild the
history from their own training folds. Folds are drawn by a hash of the event id, not by
time, so the history also holds events posted after the scored one (as the spread models'
training sets do).

Nested grouped CV: each of folds 1-4 is scored in turn by a decision trained on the other
three, with its threshold chosen on inner folds (the most precise with at least half of the
large events flagged before 20 % of their final reposts); repeated for each of ``--seeds``
(the estimator's early-stopping split is random). ``--auc-only``: ROC-AUC of "large" at 1,
2, 5 and 10 minutes with and without the adopter columns (one model per age), by 4-fold CV
on folds 1-4. ``--cache`` keeps the loaded events (derived from CED: keep it outside the
repository).
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_hot import fold_of  # noqa: E402
from eval_hot_content import (  # noqa: E402
    AGES,
    Nested,
    choose,
    outer_folds,
)

from nlp.virality import HGB_PARAMS  # noqa: E402

VARIANTS = ("spread", "spread+adopters")
AUC_AGES = (1, 2, 5, 10)
#: A history repost is "early" before its event had this share of its final reposts.
EARLY_SHARE = 0.2
#: Pseudo-count of the smoothed share of large history events (towards the base rate).
PRIOR_WEIGHT = 2.0
ADOPTER_COLUMNS = (
    "log_known",
    "share_known",
    "mean_logsize",
    "max_logsize",
    "mean_large_rate",
    "log_veterans",
    "share_veterans",
    "log_large_participations",
    "log_early_veterans",
    "log_history_kids",
)


def load(ced: Path) -> list[dict]:
    """Per event of folds 1-4: repost offsets (s) in time order, the reposter of each (an
    int per uid) and, per repost, how many reposts answer it."""
    from ingest.ced import event_files, load_event
    from text.report import ImportReport

    report = ImportReport()
    uids: dict[str, int] = {}
    sources: set[str] = set()
    out = []
    for files in event_files(ced, report):  # as ingest.ced.iter_events, without fold 0
        fold = fold_of(files.event_id)
        if fold == 0:  # fold 0 is never read here
            continue
        ev = load_event(files, report)
        if ev is None or ev.source.id in sources:
            continue
        sources.add(ev.source.id)
        s, a = ev.source, ev.source.author
        start = s.created_at.timestamp()
        reps = sorted(
            (max(r.created_at.timestamp() - start, 0.0), r.author.id or "", r.id, r.parent_id)
            for r in ev.reposts
        )
        answers: dict[str, int] = {}
        for r in reps:
            answers[r[3]] = answers.get(r[3], 0) + 1
        out.append(
            {
                "fold": fold,
                "id": ev.event_id,
                "rt": [r[0] for r in reps],
                "au": [uids.setdefault(r[1], len(uids)) if r[1] else -1 for r in reps],
                "kids": [answers.get(r[2], 0) for r in reps],
                "fol": a.followers or 0,
                "ver": bool(a.verified),
            }
        )
    return out


class Data:
    def __init__(self, events: list[dict]) -> None:
        from eval_hot_content import Data as ContentData

        self.E = [e for e in events if e["fold"] != 0]
        self.N = np.array([len(e["rt"]) for e in self.E])
        self.F = np.array([e["fold"] for e in self.E])
        self.logN = np.log1p(self.N)
        self.spread = np.array([[ContentData._spread(e, a) for a in AGES] for e in self.E])
        self.users = max((max(e["au"], default=-1) for e in self.E), default=-1) + 1
        # Per event, its distinct reposters in the order of their first repost: the uid,
        # the rank of that first repost, the reposts their reposts drew in this event; and
        # how many of them had reposted by each age.
        self.uid, self.first_rank, self.kids, self.seen = [], [], [], []
        for e in self.E:
            au = np.asarray(e["au"], dtype=np.int64)
            keep = au >= 0
            u, first, inverse = np.unique(au[keep], return_index=True, return_inverse=True)
            kids = np.zeros(len(u))
            np.add.at(kids, inverse, np.asarray(e["kids"], dtype=float)[keep])
            ranks = np.flatnonzero(keep)[first]
            order = np.argsort(ranks, kind="stable")
            u, ranks, kids = u[order], ranks[order], kids[order]
            self.uid.append(u)
            self.first_rank.append(ranks)
            self.kids.append(kids)
            rt = np.asarray(e["rt"])
            self.seen.append(
                np.array([np.searchsorted(rt[ranks], a * 60.0, side="right") for a in AGES])
            )

    def contributions(self, i: int, cutoff: float) -> tuple[np.ndarray, ...]:
        """What event ``i`` adds to each of its reposters' history: a participation, a large
        one, its log size, an early repost in a large one, the reposts drawn."""
        u = self.uid[i]
        big = float(self.N[i] >= cutoff)
        ones = np.ones(len(u))
        early = (self.first_rank[i] < EARLY_SHARE * self.N[i]) * big
        return u, ones, ones * big, ones * self.logN[i], early, self.kids[i]

    def history(self, idx: list[int], cutoff: float) -> np.ndarray:
        """Per uid (rows): participations, large ones, sum of log sizes, early reposts in
        large ones, reposts drawn, over the events ``idx``."""
        h = np.zeros((self.users, 5))
        for i in idx:
            c = self.contributions(i, cutoff)
            for k in range(5):
                np.add.at(h[:, k], c[0], c[k + 1])
        return h

    def adopters(self, i: int, h: np.ndarray, own: bool, cutoff: float, rate: float):
        """Adopter columns of event ``i`` at every age (rows): its reposters' history ``h``,
        minus this event's own part when ``own`` (the event is in the history)."""
        c = self.contributions(i, cutoff)
        s = h[c[0]].copy()
        if own:
            s -= np.column_stack(c[1:])
        n_ev, n_large, sum_log, n_early, kids = s.T
        known = n_ev > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_log = np.where(known, sum_log / n_ev, np.nan)
        large_rate = (n_large + PRIOR_WEIGHT * rate) / (n_ev + PRIOR_WEIGHT)
        cum = np.cumsum(
            np.column_stack(
                [
                    known,
                    np.nan_to_num(mean_log),
                    large_rate,
                    n_large > 0,
                    n_large,
                    n_early > 0,
                    kids,
                ]
            ),
            axis=0,
        )
        cmax = np.fmax.accumulate(np.where(known, mean_log, -np.inf)) if len(s) else s[:, 0]
        rows = []
        for k in self.seen[i]:
            if k == 0:
                rows.append([0.0, np.nan, np.nan, np.nan, np.nan, 0.0, np.nan, 0.0, 0.0, 0.0])
                continue
            kn, slog, srate, vet, nl, ev, kd = cum[k - 1]
            rows.append(
                [
                    math.log1p(kn),
                    kn / k,
                    slog / kn if kn else np.nan,
                    cmax[k - 1] if kn else np.nan,
                    srate / k,
                    math.log1p(vet),
                    vet / k,
                    math.log1p(nl),
                    math.log1p(ev),
                    math.log1p(kd),
                ]
            )
        return np.array(rows)

    def adopter_block(
        self, train: list[int], test: list[int], cutoff: float, crossfit: str
    ) -> dict[int, np.ndarray]:
        """Adopter columns of ``train`` and ``test`` events, histories from ``train`` only."""
        rate = float(np.mean(self.N[train] >= cutoff))
        h = self.history(train, cutoff)
        out = {i: self.adopters(i, h, False, cutoff, rate) for i in test}
        if crossfit == "event":
            out |= {i: self.adopters(i, h, True, cutoff, rate) for i in train}
            return out
        for j in sorted(set(self.F[train])):
            rest = [i for i in train if self.F[i] != j]
            hj = self.history(rest, cutoff)
            rate_j = float(np.mean(self.N[rest] >= cutoff))
            out |= {i: self.adopters(i, hj, False, cutoff, rate_j) for i in train if self.F[i] == j}
        return out

    def matrix(self, idx: list[int], variant: str, block: dict | None) -> np.ndarray:
        if variant == "spread" or block is None:
            return np.vstack([self.spread[i] for i in idx])
        return np.vstack([np.hstack([self.spread[i], block[i]]) for i in idx])


def gbt(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**HGB_PARAMS, random_state=seed)


def decision_proba(d, train, test, variant, cutoff, seed, crossfit):
    block = d.adopter_block(train, test, cutoff, crossfit) if variant != "spread" else None
    y = np.repeat(d.N[train] >= cutoff, len(AGES))
    model = gbt(seed).fit(d.matrix(train, variant, block), y)
    return model.predict_proba(d.matrix(test, variant, block))[:, 1].reshape(len(test), len(AGES))


def nested(d: Data, seed: int, crossfit: str) -> dict:
    out = Nested(VARIANTS)
    for k, train, test, cutoff in outer_folds(d):
        for variant in VARIANTS:
            out.step(
                d,
                train,
                test,
                cutoff,
                variant,
                lambda a, b, v=variant, c=cutoff: decision_proba(d, a, b, v, c, seed, crossfit),
                seed=seed,
                fold=k,
            )
    return out.summary()


def aucs(d: Data, crossfit: str, seeds: list[int]) -> dict:
    """ROC-AUC of "large" at AUC_AGES, pooled over 4-fold CV on folds 1-4: of the learned
    decision (the 21-age model of the nested CV, per seed), of a logistic regression at each
    age alone, and of each adopter column alone at 5 minutes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    everything = list(range(len(d.E)))
    cutoff = float(np.percentile(d.N, 75))
    big = cutoff <= d.N
    at = [AGES.index(age) for age in AUC_AGES]
    decision = {(v, s): np.zeros((len(d.E), len(at))) for v in VARIANTS for s in seeds}
    logistic = {v: np.zeros((len(d.E), len(at))) for v in VARIANTS}
    single = {c: np.zeros(len(d.E)) for c in ADOPTER_COLUMNS}
    for j in (1, 2, 3, 4):
        a = [i for i in everything if d.F[i] != j]
        b = [i for i in everything if d.F[i] == j]
        block = d.adopter_block(a, b, cutoff, crossfit)
        y = np.repeat(big[a], len(AGES))
        for v in VARIANTS:
            xa, xb = d.matrix(a, v, block), d.matrix(b, v, block)
            for s in seeds:
                p = gbt(s).fit(xa, y).predict_proba(xb)[:, 1].reshape(len(b), len(AGES))
                decision[v, s][b] = p[:, at]
            for m, col in enumerate(at):
                xa_age = np.nan_to_num(xa[col :: len(AGES)])
                xb_age = np.nan_to_num(xb[col :: len(AGES)])
                lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
                logistic[v][b, m] = lr.fit(xa_age, big[a]).predict_proba(xb_age)[:, 1]
        five = AGES.index(5)
        for m, c in enumerate(ADOPTER_COLUMNS):
            single[c][b] = [np.nan_to_num(block[i][five, m], nan=-1.0) for i in b]
    out: dict[str, float] = {}
    for m, (age, col) in enumerate(zip(AUC_AGES, at, strict=True)):
        out[f"reposts_so_far_at_{age}_min"] = roc_auc_score(big, d.spread[:, col, 0])
        for v in VARIANTS:
            for s in seeds:
                out[f"decision_{v}_seed_{s}_at_{age}_min"] = roc_auc_score(
                    big, decision[v, s][:, m]
                )
            out[f"logistic_{v}_at_{age}_min"] = roc_auc_score(big, logistic[v][:, m])
    out |= {f"{c}_alone_at_5_min": roc_auc_score(big, p) for c, p in single.items()}
    return {k: round(float(v), 3) for k, v in out.items()}


def reuse(d: Data) -> dict:
    """How often reposters come back: distinct uids, in two or more events, in two or more
    folds; the share of reposts by the first minutes made by a uid seen in another fold."""
    events: dict[int, int] = {}
    folds: dict[int, set[int]] = {}
    for i, u in enumerate(d.uid):
        for x in u.tolist():
            events[x] = events.get(x, 0) + 1
            folds.setdefault(x, set()).add(int(d.F[i]))
    out: dict = {
        "reposts": int(d.N.sum()),
        "distinct_reposters": len(events),
        "in_2_or_more_events": sum(n >= 2 for n in events.values()),
        "in_2_or_more_folds": sum(len(f) >= 2 for f in folds.values()),
    }
    for age in (1, 5, 10):
        col = AGES.index(age)
        seen = other = 0
        for i, u in enumerate(d.uid):
            for x in u[: d.seen[i][col]].tolist():
                seen += 1
                other += len(folds[x] - {int(d.F[i])}) > 0
        out[f"reposters_by_{age}_min_seen_in_another_fold"] = round(other / seen, 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(ROOT.parent / "shared/datasets/ced"))
    parser.add_argument("--auc-only", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--crossfit", choices=("event", "fold"), default="event")
    parser.add_argument("--cache", help="pickle of the loaded events (outside the repository)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.exists():
        events = pickle.loads(cache.read_bytes())
    else:
        events = load(Path(args.ced))
        if cache is not None:
            cache.write_bytes(pickle.dumps(events))
    d = Data(events)
    out: dict = {"events_folds_1_4": len(d.E), "crossfit": args.crossfit, "reuse": reuse(d)}
    print(json.dumps(out["reuse"]), file=sys.stderr, flush=True)
    out["auc_folds_1_4"] = aucs(d, args.crossfit, args.seeds)
    print(json.dumps(out["auc_folds_1_4"]), file=sys.stderr, flush=True)
    if not args.auc_only:
        out["nested"] = {seed: nested(d, seed, args.crossfit) for seed in args.seeds}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print("reposter reuse (folds 1-4):")
    for k, v in out["reuse"].items():
        print(f"  {k:<44} {v}")
    print("ROC-AUC for 'ends in the top quartile' (4-fold CV on folds 1-4):")
    for k, v in out["auc_folds_1_4"].items():
        print(f"  {k:<36} {v}")
    for seed, res in out.get("nested", {}).items():
        print(f"nested CV on folds 1-4, pooled (threshold chosen on inner folds), seed {seed}:")
        head = ("decision", "prec", "<20%", "recall", "median", "flagged")
        print("  {:<16} {:>6} {:>6} {:>6} {:>7} {:>7}".format(*head))
        for v, s in res["nested_pooled"].items():
            print(
                f"  {v:<16} {s['precision']!s:>6} {s['share_before_20pct']!s:>6} "
                f"{s['recall']!s:>6} {s['median_minutes']!s:>7} {s['flagged']!s:>7}"
            )
        print("  pooled outer curve, most precise threshold with >= 50 % early:")
        for v, c in res["curves_pooled"].items():
            t, s = choose({float(t): s for t, s in c.items()})
            print(
                f"  {v:<16} {s['precision']!s:>6} {s['share_before_20pct']!s:>6} "
                f"{s['recall']!s:>6} {s['median_minutes']!s:>7} {s['flagged']!s:>7}  (t={t})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
