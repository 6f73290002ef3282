"""Precision-earliness curve of hot flags on replays of CED, grouped by event.

    .venv/bin/python bench/eval_hot.py [CED_DIR] [--json] [--skip-ced]
    .venv/bin/python bench/eval_hot.py --store-check   # fold 0 through SQLite vs in memory

The CED copy's events are split into five folds by a hash of the event id. Fold 0 is the
evaluation fold (about as many events as the project's held-out set); folds 1-4 are for
choosing thresholds. Each fold is replayed on its own, in post-time order, through the live
pipeline in memory (incidents, velocity, burst against the stream's own history, virality),
with a virality model trained on other folds only: fold 0 with one trained on folds 1-4,
each training fold with one trained on the other three (never on fold 0). Every tick
records each incident's burst figures (posts in the window, Poisson tail probability,
distinct authors) and virality, so every decision rule

    hot = (burst at p ≤ p0 with ≥ min_authors, and virality unknown or ≥ v_burst)
          or virality ≥ v_alone

is evaluated from one replay. Per rule, for events whose final reposts are in the top
quartile (cutoff from folds 1-4): precision of flagged events, share flagged before 20 % of
their final reposts, median minutes from the source to the flag. The default operating
point is chosen on folds 1-4 (most early flags at precision ≥ 0.7) and then read on fold 0.
Then clustering purity/completeness on tests/files/incidents_fixture.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import Author, Post  # noqa: E402
from nlp.detect import HotTopics  # noqa: E402
from nlp.hot_config import HotConfigSection  # noqa: E402
from nlp.incidents import IncidentEngine  # noqa: E402
from nlp.replay import replay  # noqa: E402
from nlp.virality import (  # noqa: E402
    CHECKPOINTS,
    EventSpread,
    ViralityModel,
    _estimator,
    _rows,
)

FIXTURE = ROOT / "tests" / "files" / "incidents_fixture.jsonl"


def clustering_figures(path: Path = FIXTURE) -> dict:
    """Purity and completeness (inverse purity) plus sklearn's homogeneity/completeness."""
    from sklearn.metrics import completeness_score, homogeneity_score

    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    posts = [
        Post(
            source="fixture",
            native_id=r["native_id"],
            author=Author(id=r["author"]),
            text=r["text"],
            created_at=r["created_at"],
            region_tags=r["region_tags"],
        )
        for r in rows
    ]
    engine = IncidentEngine()
    label = {p.id: r["label"] for p, r in zip(posts, rows, strict=True)}
    got = {}
    for post in sorted(posts, key=lambda p: p.created_at):
        got[post.id] = engine.assign(post).incident_id
    clusters, classes = defaultdict(list), defaultdict(list)
    for pid, inc in got.items():
        clusters[inc].append(label[pid])
        classes[label[pid]].append(inc)
    n = len(posts)
    purity = sum(Counter(v).most_common(1)[0][1] for v in clusters.values()) / n
    completeness = sum(Counter(v).most_common(1)[0][1] for v in classes.values()) / n
    ids = list(got)
    return {
        "posts": n,
        "true_groups": len(classes),
        "clusters": len(clusters),
        "purity": round(purity, 4),
        "completeness": round(completeness, 4),
        "sklearn_homogeneity": round(
            homogeneity_score([label[i] for i in ids], [got[i] for i in ids]), 4
        ),
        "sklearn_completeness": round(
            completeness_score([label[i] for i in ids], [got[i] for i in ids]), 4
        ),
    }


FOLDS = 5
P_GRID = (1e-2, 1e-3, 1e-4, 1e-6, 1e-9, 1e-15, 1e-25, 1e-40)
V_BURST_GRID = (None, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
V_ALONE_GRID = (0.5, 0.6, 0.7, 0.73, 0.8, 0.9, 1.01)
MIN_AUTHORS = 5
TARGET_PRECISION = 0.7


def fold_of(event_id: str) -> int:
    return int(hashlib.sha1(event_id.encode()).hexdigest(), 16) % FOLDS


def load_folds(ced: Path) -> dict[int, dict]:
    """Per fold: its replay stream, source posts, repost times and virality rows."""
    from ingest.ced import iter_events

    folds: dict[int, dict] = {
        k: {"items": [], "sources": {}, "reposts": {}, "spread": []} for k in range(FOLDS)
    }
    seq = itertools.count()
    for ev in iter_events(ced):
        f = folds[fold_of(ev.event_id)]
        for post in ev.posts():
            f["items"].append((post.created_at.timestamp(), next(seq), post))
        for snap in ev.snapshots():
            f["items"].append((snap.observed_at.timestamp(), next(seq), snap))
        start = ev.source.created_at.timestamp()
        times = sorted(r.created_at.timestamp() for r in ev.reposts)
        f["sources"][ev.source.id] = ev.source
        f["reposts"][ev.source.id] = times
        f["spread"].append(
            EventSpread(
                ev.event_id,
                start,
                [max(t - start, 0.0) for t in times],
                ev.source.author.followers or 0,
                ev.source.author.verified,
            )
        )
    for f in folds.values():
        f["items"].sort(key=lambda item: (item[0], item[1]))
    return folds


def fit_virality(events: list[EventSpread], cutoff: float) -> ViralityModel:
    x, y, _ = _rows(events, cutoff)
    return ViralityModel(
        estimator=_estimator().fit(x, y),
        threshold=0.73,
        min_minutes=float(CHECKPOINTS[0]),
        max_minutes=float(CHECKPOINTS[-1]),
        meta={},
    )


def trace_fold(fold: dict, model: ViralityModel) -> dict:
    """Replay one fold; per incident the burst ticks and virality values it went through."""
    config = HotConfigSection.model_validate(
        {"burst": {"p_value": max(P_GRID), "release_p_value": max(P_GRID)}}
    )
    detector = HotTopics(config, model)
    burst: dict[str, list[tuple[float, float, float | None]]] = defaultdict(list)
    vir: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def on_tick(now: float, evaluations: list) -> None:
        for ev in evaluations:
            inc = ev.cluster.id
            fig = ev.burst_figures
            if fig["authors"] >= MIN_AUTHORS and fig["current"] >= config.burst.min_posts:
                burst[inc].append((now, fig["p_value"], ev.virality))
            if ev.virality is not None and (not vir[inc] or vir[inc][-1][1] != ev.virality):
                vir[inc].append((now, ev.virality))

    t0 = time.perf_counter()
    report = replay(fold["items"], detector, None, on_tick=on_tick)
    incident_of = {sid: post.incident_id for sid, post in fold["sources"].items()}
    return {
        "burst": burst,
        "vir": vir,
        "incident_of": incident_of,
        "seconds": round(time.perf_counter() - t0, 1),
        "posts": report.posts,
        "incidents_per_event": round(
            len(set(incident_of.values()) | set(detector.engine.incidents))
            / max(len(incident_of), 1),
            3,
        ),
    }


def first_flag(trace: dict, inc: str, p0: float, v_burst, v_alone: float) -> float | None:
    best = None
    for t, p, v in trace["burst"].get(inc, ()):
        if p <= p0 and (v_burst is None or v is None or v >= v_burst):
            best = t
            break
    for t, v in trace["vir"].get(inc, ()):
        if v >= v_alone:
            if best is None or t < best:
                best = t
            break
    return best


def rule_figures(fold: dict, trace: dict, cutoff: float, rule: tuple) -> dict:
    flags: dict[str, float] = {}
    cache: dict[str, float | None] = {}
    for sid, inc in trace["incident_of"].items():
        if inc is None:
            continue
        if inc not in cache:
            cache[inc] = first_flag(trace, inc, *rule)
        if cache[inc] is not None:
            flags[sid] = cache[inc]
    finals = {sid: len(t) for sid, t in fold["reposts"].items()}
    large = {sid for sid, n in finals.items() if n >= cutoff}
    tp = [sid for sid in flags if sid in large]
    minutes, before20 = [], 0
    for sid in large:
        if sid not in flags:
            continue
        at = flags[sid]
        start = fold["sources"][sid].created_at.timestamp()
        minutes.append((at - start) / 60.0)
        times = fold["reposts"][sid]
        before20 += sum(1 for t in times if t <= at) < 0.2 * len(times)
    return {
        "p_value": rule[0],
        "v_burst": rule[1],
        "v_alone": rule[2],
        "flagged": len(flags),
        "large": len(large),
        "tp": len(tp),
        "before20": before20,
        "precision": round(len(tp) / len(flags), 4) if flags else None,
        "recall": round(len(tp) / len(large), 4) if large else None,
        "share_before_20pct": round(before20 / len(large), 4) if large else None,
        "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
    }


def pooled(rows: list[dict]) -> dict:
    flagged = sum(r["flagged"] for r in rows)
    large = sum(r["large"] for r in rows)
    tp = sum(r["tp"] for r in rows)
    b20 = sum(r["before20"] for r in rows)
    return {
        "precision": round(tp / flagged, 4) if flagged else None,
        "share_before_20pct": round(b20 / large, 4) if large else None,
        "recall": round(tp / large, 4) if large else None,
    }


def curve(ced: Path, dump: Path | None = None) -> dict:
    t0 = time.perf_counter()
    folds = load_folds(ced)
    load_s = time.perf_counter() - t0
    train_finals = [len(t) for k in range(1, FOLDS) for t in folds[k]["reposts"].values()]
    cutoff = float(np.percentile(train_finals, 75))
    rules = list(itertools.product(P_GRID, V_BURST_GRID, V_ALONE_GRID))
    rules += [(-1.0, None, v) for v in V_ALONE_GRID]  # virality alone (no burst)
    per_fold: dict[int, list[dict]] = {}
    traces = {}
    for k in range(FOLDS):
        others = [e for j in range(1, FOLDS) if j != k for e in folds[j]["spread"]]
        model = fit_virality(others, cutoff)
        traces[k] = trace_fold(folds[k], model)
        per_fold[k] = [rule_figures(folds[k], traces[k], cutoff, r) for r in rules]
        print(f"fold {k}: {traces[k]['seconds']} s", file=sys.stderr)
        if dump is not None:  # partial results survive a long run that is cut short
            dump.write_text(json.dumps({str(j): v for j, v in per_fold.items()}), "utf-8")
    train = []
    for i, rule in enumerate(rules):
        pool = pooled([per_fold[k][i] for k in range(1, FOLDS)])
        train.append((rule, pool, per_fold[0][i]))
    ok = [t for t in train if (t[1]["precision"] or 0) >= TARGET_PRECISION]
    if ok:
        chosen = max(ok, key=lambda t: (t[1]["share_before_20pct"] or 0, t[1]["precision"]))
    else:  # the target is out of reach on the training folds: the most precise rule
        chosen = max(train, key=lambda t: t[1]["precision"] or 0)
    # The curve on fold 0: its Pareto front (precision vs share flagged before 20 %).
    evals = sorted(
        (t[2] for t in train if t[2]["precision"] is not None),
        key=lambda r: (-(r["share_before_20pct"] or 0), -(r["precision"] or 0)),
    )
    front, best_p = [], -1.0
    for r in evals:
        if r["precision"] > best_p:
            front.append(r)
            best_p = r["precision"]

    def named(rule: tuple) -> dict:
        i = rules.index(rule)
        return {"train_folds": train[i][1], "eval_fold": per_fold[0][i]}

    return {
        "events_per_fold": {k: len(folds[k]["sources"]) for k in range(FOLDS)},
        "top_quartile_cutoff_reposts": cutoff,
        "load_seconds": round(load_s, 1),
        "replay": {
            k: {x: traces[k][x] for x in ("seconds", "posts", "incidents_per_event")}
            for k in range(FOLDS)
        },
        "chosen_on_train_folds": {"rule": chosen[0], "train": chosen[1], "eval": chosen[2]},
        "burst_alone_p1e-4": named((1e-4, None, 1.01)),
        "virality_alone_0.73": named((-1.0, None, 0.73)),
        "burst_or_virality_0.73": named((1e-4, None, 0.73)),
        "eval_fold_front": front,
    }


def store_check(ced: Path, fold: int = 0) -> dict:
    """Replay one fold through SQLite and in memory: the same incidents, none left empty."""
    import tempfile

    from nlp.detect import load_detector
    from store import PostFilter
    from store.sqlite import SQLiteStore

    config = HotConfigSection(score_rumors=False)
    folds = load_folds(ced)
    items = folds[fold]["items"]
    live = HotTopics(config)
    t0 = time.perf_counter()
    replay(items, live, None)
    memory_s = time.perf_counter() - t0
    memory = {obj.id: obj.incident_id for _, _, obj in items if isinstance(obj, Post)}
    for _, _, obj in items:
        if isinstance(obj, Post):
            obj.incident_id = None
    with tempfile.TemporaryDirectory() as tmp, SQLiteStore(Path(tmp) / "r.db") as store:
        detector = load_detector(store, config)
        t0 = time.perf_counter()
        replay(items, detector, store)
        store_s = time.perf_counter() - t0
        stored = {p.id: p.incident_id for p in store.iter_posts(PostFilter())}
        from models import Incident

        records = store.list_records(Incident, limit=max(store.count_records(Incident), 1))
    per_incident = Counter(stored.values())
    events = len(folds[fold]["sources"])
    return {
        "events": events,
        "posts": len(stored),
        "same_incident_for_every_post": stored == memory,
        "incidents_in_memory": len(set(memory.values())),
        "incident_records": len(records),
        "incidents_per_event": round(len(records) / events, 3),
        "records_without_source_posts": sum(1 for r in records if not r.root_ids),
        "records_whose_count_differs_from_their_posts": sum(
            1 for r in records if r.post_count != per_incident.get(r.id, 0)
        ),
        "revived_memory_store": [live.engine.archive.revived, detector.engine.archive.revived],
        "seconds_memory_store": [round(memory_s, 1), round(store_s, 1)],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(ROOT.parent / "shared/datasets/ced"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-ced", action="store_true")
    parser.add_argument("--dump", type=Path, help="write per-fold rule figures here as they come")
    parser.add_argument(
        "--store-check", action="store_true", help="replay fold 0 through SQLite and in memory"
    )
    args = parser.parse_args()
    if args.store_check:
        print(json.dumps(store_check(Path(args.ced)), ensure_ascii=False, indent=1))
        return 0
    out: dict = {"clustering_fixture": clustering_figures()}
    if not args.skip_ced:
        out["ced_curve"] = curve(Path(args.ced), args.dump)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(json.dumps(out["clustering_fixture"], ensure_ascii=False))
    if "ced_curve" in out:
        c = out["ced_curve"]
        print(f"top-quartile cutoff {c['top_quartile_cutoff_reposts']} reposts")
        print("chosen on folds 1-4:", json.dumps(c["chosen_on_train_folds"], ensure_ascii=False))
        print("fold 0 precision-earliness front:")
        print(
            f"{'p0':>8} {'v_burst':>7} {'v_alone':>7} {'prec':>6} {'<20%':>6} "
            f"{'recall':>6} {'median':>7}"
        )
        for r in c["eval_fold_front"]:
            print(
                f"{r['p_value']:>8.0e} {r['v_burst']!s:>7} {r['v_alone']:>7} "
                f"{r['precision']:>6} {r['share_before_20pct']:>6} {r['recall']:>6} "
                f"{r['median_minutes']!s:>7}"
            )
        for key in ("burst_alone_p1e-4", "virality_alone_0.73", "burst_or_virality_0.73"):
            print(key, json.dumps(c[key]["eval_fold"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
