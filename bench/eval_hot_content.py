"""Does the source post's content and context make an early hot flag more precise? (CED)

    nice .venv/bin/python bench/eval_hot_content.py [CED_DIR] [--auc-only] [--json]

Event level, folds 1-4 only (fold 0 stays the held-out evaluation fold of eval_hot.py, not
read here). Each event is scored at 21 ages from 1 to 360 minutes after its source post by
one learned decision (gradient-boosted trees) and flagged at its first age at or above a
threshold; "large" = final collected reposts in the top quartile of the training folds.
Three variants of the decision's inputs:

* ``spread``: the event's own reposts so far, in the last 5 minutes, in the second half of
  the age, the age, the source's followers and verification (the virality model's inputs);
* ``spread+text``: plus two text scores of the source post (character 1-2-gram TF-IDF,
  logistic regression for "large" and for "rumor"), cross-fitted by fold so that no event
  is scored by a model that saw it;
* ``spread+content``: plus the author (followers, friends, posts, verified type, account
  age, gender, description), the post (pictures, link, length, category of
  nlp/categories.yaml) and the posting hour and weekday.

Beside them the shipped rule (nlp.hot_decision, single-source burst against a quiet place's
prior with virality, or virality alone), simulated on the same events. Nested grouped CV:
each of folds 1-4 is scored in turn by a decision trained on the other three, with its
threshold chosen on inner folds (the most precise with at least half of the large events
flagged before 20 % of their final reposts). ``--auc-only``: ROC-AUC at minute 0 of the
content models and of the repost count at the first minutes, by 4-fold CV on folds 1-4.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_hot import fold_of  # noqa: E402

from nlp.virality import CHECKPOINTS, EventSpread, _estimator, _rows, features  # noqa: E402

AGES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 90, 120, 180, 240, 360)
THRESHOLDS = [round(float(x), 3) for x in np.arange(0.2, 0.951, 0.025)]
VARIANTS = ("spread", "spread+text", "spread+content")
TARGET_EARLY = 0.5
#: The shipped rule's thresholds (nlp/hot_config.py) and the prior of a quiet place.
RULE_P, RULE_V_BURST, RULE_V_ALONE = 1e-15, 0.4, 0.8
PRIOR_PER_HOUR = 500_000 * 0.0002 / 24
BURST_FLAG_P, MIN_POSTS, MIN_AUTHORS = 1e-4, 10, 5


def load(ced: Path) -> list[dict]:
    from ingest.ced import iter_events
    from nlp.incidents import categorise, load_categories

    lexicon = load_categories()
    out = []
    for ev in iter_events(ced):
        s, a = ev.source, ev.source.author
        start = s.created_at.timestamp()
        reps = sorted(
            (max(r.created_at.timestamp() - start, 0.0), r.author.id or "") for r in ev.reposts
        )
        extra = s.extra or {}
        out.append(
            {
                "fold": fold_of(ev.event_id),
                "id": ev.event_id,
                "t0": start,
                "rt": [r[0] for r in reps],
                "au": [r[1] for r in reps],
                "rumor": ev.label == "rumor",
                "text": s.text or "",
                "fol": a.followers or 0,
                "ver": bool(a.verified),
                "meta": [
                    math.log1p(a.followers or 0),
                    math.log1p(a.friends or 0),
                    math.log1p(a.posts or 0),
                    float(bool(a.verified)),
                    float(a.verified_type if a.verified_type is not None else -2),
                    float((s.created_at - a.created_at).days if a.created_at else -1),
                    float(bool(extra.get("pics"))),
                    float(bool(extra.get("has_url"))),
                    float(bool(extra.get("has_description"))),
                    float(extra.get("gender") == "m"),
                    float(s.created_at.hour),
                    float(s.created_at.weekday()),
                    float(len(s.text or "")),
                ],
                "category": str(categorise([s.text or ""], lexicon)),
            }
        )
    cats = sorted({e["category"] for e in out})
    for e in out:
        e["meta"] += [float(e["category"] == c) for c in cats]
    return out


class Data:
    def __init__(self, events: list[dict]) -> None:
        self.E = [e for e in events if e["fold"] != 0]  # fold 0 is never read here
        self.N = np.array([len(e["rt"]) for e in self.E])
        self.F = np.array([e["fold"] for e in self.E])
        self.rumor = np.array([e["rumor"] for e in self.E])
        self.meta = np.array([e["meta"] for e in self.E])
        self.spread = np.array([[self._spread(e, a) for a in AGES] for e in self.E])

    @staticmethod
    def _spread(e: dict, age: int) -> list[float]:
        rt, end = e["rt"], age * 60.0
        n = bisect.bisect_right(rt, end)
        last5 = n - bisect.bisect_right(rt, end - 300)
        half = n - bisect.bisect_right(rt, end / 2)
        return [
            math.log1p(n),
            math.log(age),
            math.log1p(last5),
            math.log1p(half),
            math.log1p(e["fol"]),
            float(e["ver"]),
        ]

    def text_model(self, train: list[int], target: np.ndarray):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vec = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 2), min_df=3, sublinear_tf=True, max_features=50000
        )
        x = vec.fit_transform([self.E[i]["text"] for i in train])
        lr = LogisticRegression(C=1.0, max_iter=2000).fit(x, target[train])
        return lambda idx: lr.predict_proba(vec.transform([self.E[i]["text"] for i in idx]))[:, 1]

    def text_scores(self, train: list[int], test: list[int], cutoff: float) -> np.ndarray:
        """Text P(large) and P(rumor): cross-fitted by fold on ``train``, fitted on all of
        ``train`` for ``test``."""
        big = cutoff <= self.N
        out = np.zeros((len(self.E), 2))
        for j in sorted(set(self.F[train])):
            a = [i for i in train if self.F[i] != j]
            b = [i for i in train if self.F[i] == j]
            out[b, 0] = self.text_model(a, big)(b)
            out[b, 1] = self.text_model(a, self.rumor)(b)
        if test:
            out[test, 0] = self.text_model(train, big)(test)
            out[test, 1] = self.text_model(train, self.rumor)(test)
        return out

    def matrix(self, idx: list[int], variant: str, scores: np.ndarray | None) -> np.ndarray:
        rows = []
        for i in idx:
            s = self.spread[i]
            if variant == "spread" or scores is None:
                rows.append(s)
                continue
            extra = scores[i] if variant == "spread+text" else np.r_[scores[i], self.meta[i]]
            rows.append(np.hstack([s, np.repeat(extra[None, :], len(AGES), 0)]))
        return np.vstack(rows)


def gbt():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40, random_state=0
    )


def decision_proba(d: Data, train: list[int], test: list[int], variant: str, cutoff: float):
    scores = d.text_scores(train, test, cutoff) if variant != "spread" else None
    y = np.repeat(d.N[train] >= cutoff, len(AGES))
    model = gbt().fit(d.matrix(train, variant, scores), y)
    return model.predict_proba(d.matrix(test, variant, scores))[:, 1].reshape(len(test), len(AGES))


def figures(d: Data, idx: list[int], flag_minutes: list[float | None], cutoff: float) -> dict:
    flagged = tp = early = 0
    minutes = []
    for i, m in zip(idx, flag_minutes, strict=True):
        if m is None:
            continue
        flagged += 1
        if d.N[i] >= cutoff:
            tp += 1
            minutes.append(m)
            early += bisect.bisect_right(d.E[i]["rt"], m * 60) < 0.2 * d.N[i]
    large = int((d.N[idx] >= cutoff).sum())
    return {"flagged": flagged, "tp": tp, "large": large, "early": early, "minutes": minutes}


def learned_flags(proba: np.ndarray, threshold: float) -> list[float | None]:
    out: list[float | None] = []
    for row in proba:
        hit = np.nonzero(row >= threshold)[0]
        out.append(float(AGES[hit[0]]) if len(hit) else None)
    return out


def pooled(rows: list[dict]) -> dict:
    flagged = sum(r["flagged"] for r in rows)
    tp = sum(r["tp"] for r in rows)
    large = sum(r["large"] for r in rows)
    minutes = [m for r in rows for m in r["minutes"]]
    return {
        "precision": round(tp / flagged, 3) if flagged else None,
        "share_before_20pct": round(sum(r["early"] for r in rows) / large, 3) if large else None,
        "recall": round(tp / large, 3) if large else None,
        "median_minutes": float(np.median(minutes)) if minutes else None,
        "flagged": flagged,
    }


def choose(by_threshold: dict[float, dict]) -> tuple[float, dict]:
    ok = [(t, s) for t, s in by_threshold.items() if (s["share_before_20pct"] or 0) >= TARGET_EARLY]
    return max(ok or by_threshold.items(), key=lambda c: (c[1]["precision"] or 0, c[0]))


def rule_flags(d: Data, train: list[int], test: list[int], cutoff: float) -> list[float | None]:
    """The shipped rule on each event's own reposts: a single-source burst against a quiet
    place's prior confirmed by virality (or unknown), or virality alone."""
    from scipy.stats import poisson

    spreads = [
        EventSpread(d.E[i]["id"], d.E[i]["t0"], d.E[i]["rt"], d.E[i]["fol"], d.E[i]["ver"])
        for i in train
    ]
    x, y, _ = _rows(spreads, cutoff)
    vm = _estimator().fit(x, y)
    out: list[float | None] = []
    for i in test:
        e = d.E[i]
        rt = e["rt"]
        v = vm.predict_proba(np.array([features(rt, e["fol"], e["ver"], c) for c in CHECKPOINTS]))[
            :, 1
        ]
        cands = []
        for minute in range(1, 361):
            end = minute * 60
            n, lo = bisect.bisect_right(rt, end), bisect.bisect_right(rt, end - 3600)
            current = n - lo + (1 if end <= 3600 else 0)  # the source post within the hour
            if current < MIN_POSTS or len(set(e["au"][lo:n])) < MIN_AUTHORS:
                continue
            p = poisson.sf(current - 1, PRIOR_PER_HOUR)
            if p <= min(RULE_P, BURST_FLAG_P):
                k = bisect.bisect_right(CHECKPOINTS, minute) - 1
                if k < 0 or v[k] >= RULE_V_BURST:
                    cands.append(float(minute))
                    break
        cands += [float(c) for c, x in zip(CHECKPOINTS, v, strict=True) if x >= RULE_V_ALONE][:1]
        out.append(min(cands) if cands else None)
    return out


def outer_folds(d) -> list[tuple[int, list[int], list[int], float]]:
    """The nested CV's outer folds: (fold, training events, test events, the training
    events' top-quartile cutoff of final reposts)."""
    everything = list(range(len(d.E)))
    out = []
    for k in (1, 2, 3, 4):
        train = [i for i in everything if d.F[i] != k]
        test = [i for i in everything if d.F[i] == k]
        out.append((k, train, test, float(np.percentile(d.N[train], 75))))
    return out


class Nested:
    """What the nested CV gathers: each variant's outer figures (at its chosen threshold
    and at every threshold) and one log line per outer fold, printed as it comes."""

    def __init__(self, variants: tuple[str, ...], others: tuple[str, ...] = ()) -> None:
        self.outer_rows: dict[str, list[dict]] = {v: [] for v in (*variants, *others)}
        self.curves: dict[str, dict[float, list[dict]]] = {
            v: {t: [] for t in THRESHOLDS} for v in variants
        }
        self.per_fold: list[dict] = []

    def log(self, entry: dict) -> None:
        self.per_fold.append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)

    def step(
        self, d, train: list[int], test: list[int], cutoff: float, variant: str, proba, **tags
    ) -> None:
        """One variant on one outer fold: the threshold is the most precise with enough
        flagged early on the inner folds of ``train`` (each scored by ``proba(fit_on,
        score)`` fitted on the others), then ``test`` is scored by a decision fitted on
        all of ``train``."""
        inner: dict[float, list[dict]] = {t: [] for t in THRESHOLDS}
        for j in sorted(set(d.F[train])):
            a = [i for i in train if d.F[i] != j]
            b = [i for i in train if d.F[i] == j]
            p = proba(a, b)
            for t in THRESHOLDS:
                inner[t].append(figures(d, b, learned_flags(p, t), cutoff))
        threshold, inner_fig = choose({t: pooled(v) for t, v in inner.items()})
        p = proba(train, test)
        for t in THRESHOLDS:
            self.curves[variant][t].append(figures(d, test, learned_flags(p, t), cutoff))
        row = figures(d, test, learned_flags(p, threshold), cutoff)
        self.outer_rows[variant].append(row)
        self.log(
            tags
            | {"variant": variant, "threshold": threshold, "inner": inner_fig}
            | {"outer": pooled([row])}
        )

    def summary(self) -> dict:
        return {
            "nested_pooled": {v: pooled(rows) for v, rows in self.outer_rows.items()},
            "curves_pooled": {
                v: {str(t): pooled(r) for t, r in c.items()} for v, c in self.curves.items()
            },
            "per_fold": self.per_fold,
        }


def nested(d: Data) -> dict:
    out = Nested(VARIANTS, others=("rule",))
    for k, train, test, cutoff in outer_folds(d):
        for variant in VARIANTS:
            out.step(
                d,
                train,
                test,
                cutoff,
                variant,
                lambda a, b, v=variant, c=cutoff: decision_proba(d, a, b, v, c),
                fold=k,
            )
        row = figures(d, test, rule_flags(d, train, test, cutoff), cutoff)
        out.outer_rows["rule"].append(row)
        out.log({"fold": k, "variant": "rule", "outer": pooled([row])})
    return out.summary()


def aucs(d: Data) -> dict:
    from sklearn.metrics import roc_auc_score

    everything = list(range(len(d.E)))
    cutoff = float(np.percentile(d.N, 75))
    big = cutoff <= d.N
    text = d.text_scores(everything, [], cutoff)
    content = np.zeros(len(d.E))
    for j in (1, 2, 3, 4):
        a = [i for i in everything if d.F[i] != j]
        b = [i for i in everything if d.F[i] == j]
        xa, xb = np.hstack([text[a], d.meta[a]]), np.hstack([text[b], d.meta[b]])
        content[b] = gbt().fit(xa, big[a]).predict_proba(xb)[:, 1]
    out = {
        "text_large": roc_auc_score(big, text[:, 0]),
        "text_rumor_for_large": roc_auc_score(big, text[:, 1]),
        "text_rumor_for_rumor": roc_auc_score(d.rumor, text[:, 1]),
        "content_minute_0": roc_auc_score(big, content),
    }
    for j, age in enumerate(AGES[:8]):
        out[f"reposts_at_{age}_min"] = roc_auc_score(big, d.spread[:, j, 0])
    return {k: round(float(v), 3) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(ROOT.parent / "shared/datasets/ced"))
    parser.add_argument("--auc-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    d = Data(load(Path(args.ced)))
    out = {"events_folds_1_4": len(d.E), "auc_minute_0_folds_1_4": aucs(d)}
    if not args.auc_only:
        out |= nested(d)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print("ROC-AUC for 'ends in the top quartile' (4-fold CV on folds 1-4):")
    for k, v in out["auc_minute_0_folds_1_4"].items():
        print(f"  {k:<26} {v}")
    if "nested_pooled" in out:
        print("nested CV on folds 1-4, pooled (threshold chosen on inner folds):")
        head = ("decision", "prec", "<20%", "recall", "median", "flagged")
        print("  {:<16} {:>6} {:>6} {:>6} {:>7} {:>7}".format(*head))
        for v, s in out["nested_pooled"].items():
            print(
                f"  {v:<16} {s['precision']!s:>6} {s['share_before_20pct']!s:>6} "
                f"{s['recall']!s:>6} {s['median_minutes']!s:>7} {s['flagged']!s:>7}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
