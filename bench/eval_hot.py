"""Precision-earliness curve of hot flags on replays of CED, grouped by event.

    .venv/bin/python bench/eval_hot.py [CED_DIR] [--json] [--skip-ced] [--dump FILE]
    .venv/bin/python bench/eval_hot.py --dump FILE --reuse-traces   # re-evaluate, no replay
    .venv/bin/python bench/eval_hot.py --store-check   # fold 0 through SQLite vs in memory

The CED copy's events are split into five folds by a hash of the event id. Fold 0 is the
evaluation fold (about as many events as the project's held-out set); folds 1-4 are for
choosing thresholds. Each fold is replayed on its own, in post-time order, through the live
pipeline in memory (incidents, velocity, burst against the stream's own history, virality),
with a virality model trained on other folds only: fold 0 with one trained on folds 1-4,
each training fold with one trained on the other three (never on fold 0). Every tick
records each incident's burst figures (posts in the window, Poisson tail probability,
distinct authors, source posts so far), virality and size, so every decision rule of
``nlp.hot_decision`` (the grid below) is evaluated from one replay. Per rule, for events
whose final reposts are in the top quartile (cutoff from folds 1-4): precision of flagged
events, share flagged before 20 % of their final reposts, median minutes from the source to
the flag. The same figures are also counted per alert actually raised (one per incident,
when it first turns hot, attributed to the events written by then; ``alert_figures``),
since an event that joins an incident already hot raises no alert. The default operating
point is chosen on folds 1-4 (the most precise rule with at least half of the large events
flagged early) and then read on fold 0. Then clustering
purity/completeness on tests/files/incidents_fixture.jsonl.
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
from nlp.spread import count_between  # noqa: E402
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
P_GRID = (1e-4, 1e-9, 1e-15, 1e-25, 1e-40)
#: Virality a single-root burst needs (None: any, 1.01: a single-root burst never counts).
V_BURST_GRID = (None, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.01)
V_ALONE_GRID = (0.5, 0.6, 0.7, 0.73, 0.8, 0.9, 1.01)
#: Source posts from which a burst counts without virality (10**9: never).
ROOTS_GRID = (2, 3, 10**9)
#: Posts from which an incident is hot by size alone (None: no size rule).
SIZE_GRID = (None, 400, 500)
#: Whether a single-root burst counts while virality is still unknown (first 5 minutes).
UNKNOWN_GRID = (True, False)
MIN_AUTHORS = 5
#: The burst flag's own threshold (``hot.burst.p_value``, the local default).
P_FLAG = 1e-4
TARGET_PRECISION = 0.7
TARGET_EARLY = 0.5


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
    """Replay one fold; per incident the burst ticks (with its source posts so far), the
    virality values and the moments its size crossed each of SIZE_GRID."""
    config = HotConfigSection.model_validate(
        {"burst": {"p_value": max(P_GRID), "release_p_value": 0.01}}
    )
    detector = HotTopics(config, model)
    burst: dict[str, list[tuple[float, float, float | None, int, int]]] = defaultdict(list)
    vir: dict[str, list[tuple[float, float]]] = defaultdict(list)
    sizes: dict[str, dict[int, float]] = defaultdict(dict)
    size_marks = [k for k in SIZE_GRID if k is not None]
    window_s = config.burst.current.total_seconds()

    def on_tick(now: float, evaluations: list) -> None:
        for ev in evaluations:
            inc = ev.cluster.id
            fig = ev.burst_figures
            stats = ev.cluster.stats
            if fig["authors"] >= MIN_AUTHORS and fig["current"] >= config.burst.min_posts:
                window = count_between(stats.root_times, now - window_s, now)
                burst[inc].append((now, fig["p_value"], ev.virality, len(stats.root_times), window))
            if ev.virality is not None and (not vir[inc] or vir[inc][-1][1] != ev.virality):
                vir[inc].append((now, ev.virality))
            for k in size_marks:
                if k not in sizes[inc] and len(stats.times) >= k:
                    sizes[inc][k] = now

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    report = replay(fold["items"], detector, None, on_tick=on_tick)
    incident_of = {sid: post.incident_id for sid, post in fold["sources"].items()}
    return {
        "burst": burst,
        "vir": vir,
        "sizes": sizes,
        "incident_of": incident_of,
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time() - cpu0, 1),
        "posts": report.posts,
        "incidents_per_event": round(
            len(set(incident_of.values()) | set(detector.engine.incidents))
            / max(len(incident_of), 1),
            3,
        ),
    }


#: (burst_single_p_value, burst_virality_threshold, virality_threshold, burst_min_roots,
#: size_posts, burst_unknown_counts), with the burst flag at hot.burst.p_value = P_FLAG.
Rule = tuple

#: The shipped default (nlp/hot_config.py): see docs/hot-topics.md "Hot decision".
DEFAULT_RULE: Rule = (1e-15, 0.4, 0.8, 2, None, True)
#: The decision before issue 11 item 3: burst (any virality) or virality ≥ 0.73.
OLD_DEFAULT_RULE: Rule = (1e-4, None, 0.73, 10**9, None, True)


def burst_onsets(trace: dict, inc: str) -> dict[tuple, float]:
    """First time a burst counts, per (p0, v_burst, roots, unknown_counts), as
    nlp.hot_decision decides: the burst flag (p ≤ P_FLAG) with at least ``roots`` source
    posts written within the burst's window, or with p ≤ p0 (``burst_single_p_value``) and
    virality ≥ v_burst (unknown virality counts when ``unknown_counts``). A trace written
    before the window count was recorded counts all source posts so far."""
    out: dict[tuple, float] = {}
    ticks = trace["burst"].get(inc, ())
    for p0, vb, roots, unknown in itertools.product(P_GRID, V_BURST_GRID, ROOTS_GRID, UNKNOWN_GRID):
        for t, p, v, *counts in ticks:
            n_roots = counts[-1]
            if p > P_FLAG:
                continue
            if n_roots >= roots or (
                p <= p0 and (vb is None or (v is None and unknown) or (v is not None and v >= vb))
            ):
                out[(p0, vb, roots, unknown)] = t
                break
    return out


def flag_times(trace: dict, rules: list[Rule]) -> dict[str, list[float | None]]:
    """Per incident, the first flag time under each rule."""
    out = {}
    for inc in set(trace["incident_of"].values()):
        if inc is None:
            continue
        bursts = burst_onsets(trace, inc)
        vir_first = {}
        for va in V_ALONE_GRID:
            vir_first[va] = next((t for t, v in trace["vir"].get(inc, ()) if v >= va), None)
        sizes = trace["sizes"].get(inc, {})
        row = []
        for p0, vb, va, roots, size, unknown in rules:
            cands = [
                bursts.get((p0, vb, roots, unknown)),
                vir_first[va],
                sizes.get(size) if size is not None else None,
            ]
            cands = [c for c in cands if c is not None]
            row.append(min(cands) if cands else None)
        out[inc] = row
    return out


def rule_figures(fold: dict, trace: dict, cutoff: float, rules: list[Rule]) -> list[dict]:
    times = flag_times(trace, rules)
    finals = {sid: len(t) for sid, t in fold["reposts"].items()}
    large = {sid for sid, n in finals.items() if n >= cutoff}
    out = []
    for i, rule in enumerate(rules):
        flags = {}
        for sid, inc in trace["incident_of"].items():
            if inc is not None and times[inc][i] is not None:
                flags[sid] = times[inc][i]
        tp = [sid for sid in flags if sid in large]
        minutes, before20 = [], 0
        for sid in tp:
            at = flags[sid]
            minutes.append((at - fold["sources"][sid].created_at.timestamp()) / 60.0)
            reposts = fold["reposts"][sid]
            before20 += sum(1 for t in reposts if t <= at) < 0.2 * len(reposts)
        out.append(
            {
                "rule": list(rule),
                "flagged": len(flags),
                "large": len(large),
                "tp": len(tp),
                "before20": before20,
                "precision": round(len(tp) / len(flags), 4) if flags else None,
                "recall": round(len(tp) / len(large), 4) if large else None,
                "share_before_20pct": round(before20 / len(large), 4) if large else None,
                "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
            }
        )
    return out


def alert_figures(fold: dict, trace: dict, cutoff: float, rules: list[Rule]) -> list[dict]:
    """The flags actually raised: one alert per incident, when it first turns hot.

    The per-event figures of ``rule_figures`` count an event that joins an incident that is
    already hot as "flagged" when it is written; the office gets no alert for it (the
    incident is already on its list). Here each alert is attributed to the CED events whose
    source post was written by the alert's time; it is true when one of them ends in the top
    quartile. Precision is over alerts; "< 20 %" is the share of all large events that an
    alert was attributed to while they had under 20 % of their final reposts; a large event
    that joined an incident after its alert is counted apart (``joined_after_alert``), never
    as flagged early."""
    times = flag_times(trace, rules)
    start = {sid: post.created_at.timestamp() for sid, post in fold["sources"].items()}
    members: dict[str, list[str]] = defaultdict(list)
    for sid, inc in trace["incident_of"].items():
        if inc is not None:
            members[inc].append(sid)
    n_large = sum(1 for t in fold["reposts"].values() if len(t) >= cutoff)
    out = []
    for i, rule in enumerate(rules):
        alerts = true_alerts = before20 = joined = tp_events = 0
        minutes: list[float] = []
        for inc, sids in members.items():
            at = times[inc][i]
            if at is None:
                continue
            told = [s for s in sids if start[s] <= at]
            if not told:  # only possible if the incident's first post is not a CED source
                continue
            alerts += 1
            large = [s for s in told if len(fold["reposts"][s]) >= cutoff]
            true_alerts += bool(large)
            tp_events += len(large)
            joined += sum(1 for s in sids if start[s] > at and len(fold["reposts"][s]) >= cutoff)
            for s in large:
                minutes.append((at - start[s]) / 60.0)
                reposts = fold["reposts"][s]
                before20 += sum(1 for t in reposts if t <= at) < 0.2 * len(reposts)
        out.append(
            {
                "rule": list(rule),
                "alerts": alerts,
                "true_alerts": true_alerts,
                "large": n_large,
                "large_in_alerts": tp_events,
                "before20": before20,
                "joined_after_alert": joined,
                "precision": round(true_alerts / alerts, 4) if alerts else None,
                "recall": round(tp_events / n_large, 4) if n_large else None,
                "share_before_20pct": round(before20 / n_large, 4) if n_large else None,
                "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
            }
        )
    return out


def breakdown(fold: dict, trace: dict, cutoff: float, rule: Rule) -> dict:
    """Where a rule's flags come from: precision of flagged events by the size of their
    incident (one CED event, or several merged by the clustering) and by whether the
    event opened its incident or joined one (flagged, perhaps, before it was written)."""
    times = flag_times(trace, [rule])
    members: dict[str, list[str]] = defaultdict(list)
    for sid, inc in trace["incident_of"].items():
        if inc is not None:
            members[inc].append(sid)
    start = {sid: post.created_at.timestamp() for sid, post in fold["sources"].items()}
    groups: dict[str, list[bool]] = defaultdict(list)
    for sid, inc in trace["incident_of"].items():
        if inc is None or times[inc][0] is None:
            continue
        large = len(fold["reposts"][sid]) >= cutoff
        alone = len(members[inc]) == 1
        opened = start[sid] == min(start[m] for m in members[inc])
        groups["all"].append(large)
        groups["event alone in its incident" if alone else "incident of several events"].append(
            large
        )
        if not alone:
            groups["... the event opened it" if opened else "... the event joined it"].append(large)
    return {
        k: {"flagged": len(v), "precision": round(sum(v) / len(v), 4) if v else None}
        for k, v in groups.items()
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


def pooled_alerts(rows: list[dict]) -> dict:
    alerts = sum(r["alerts"] for r in rows)
    true = sum(r["true_alerts"] for r in rows)
    large = sum(r["large"] for r in rows)
    b20 = sum(r["before20"] for r in rows)
    return {
        "precision": round(true / alerts, 4) if alerts else None,
        "share_before_20pct": round(b20 / large, 4) if large else None,
        "recall": round(sum(r["large_in_alerts"] for r in rows) / large, 4) if large else None,
    }


def all_rules() -> list[Rule]:
    rules = [
        (p0, vb, va, roots, size, unknown)
        for p0, vb, va, roots, size, unknown in itertools.product(
            P_GRID, V_BURST_GRID, V_ALONE_GRID, ROOTS_GRID, SIZE_GRID, UNKNOWN_GRID
        )
    ]
    for extra in (DEFAULT_RULE, OLD_DEFAULT_RULE):
        if extra not in rules:
            rules.append(extra)
    return rules


def front(rows: list[dict]) -> list[dict]:
    """Pareto front: most precise rule at each share flagged before 20 %."""
    evals = sorted(
        (r for r in rows if r["precision"] is not None),
        key=lambda r: (-(r["share_before_20pct"] or 0), -(r["precision"] or 0)),
    )
    out, best = [], -1.0
    for r in evals:
        if r["precision"] > best:
            out.append(r)
            best = r["precision"]
    return out


def choose(train: list[tuple[Rule, dict]]) -> tuple[Rule, dict]:
    """On pooled training figures: the most precise rule with at least TARGET_EARLY of the
    large events flagged before 20 % of their final reposts (an alert after that is of
    little use to a rumor-response office); none: the most precise rule."""
    early = [t for t in train if (t[1]["share_before_20pct"] or 0) >= TARGET_EARLY]
    pool = early or train
    return max(pool, key=lambda t: (t[1]["precision"] or 0, t[1]["share_before_20pct"] or 0))


def load_trace(path: Path) -> dict:
    """A fold's trace written by an earlier run (``--dump``), to re-evaluate rules."""
    data = json.loads(path.read_text("utf-8"))
    data["burst"] = {k: [tuple(x) for x in v] for k, v in data["burst"].items()}
    data["vir"] = {k: [tuple(x) for x in v] for k, v in data["vir"].items()}
    data["sizes"] = {k: {int(n): t for n, t in v.items()} for k, v in data["sizes"].items()}
    return data


def curve(
    ced: Path, dump: Path | None = None, folds_to_run: int = FOLDS, reuse: bool = False
) -> dict:
    t0 = time.perf_counter()
    folds = load_folds(ced)
    load_s = time.perf_counter() - t0
    train_finals = [len(t) for k in range(1, FOLDS) for t in folds[k]["reposts"].values()]
    cutoff = float(np.percentile(train_finals, 75))
    rules = all_rules()
    per_fold: dict[int, list[dict]] = {}
    per_fold_alerts: dict[int, list[dict]] = {}
    traces = {}
    for k in range(folds_to_run):
        others = [e for j in range(1, FOLDS) if j != k for e in folds[j]["spread"]]
        trace_file = dump.with_suffix(f".trace{k}.json") if dump is not None else None
        if reuse and trace_file is not None and trace_file.exists():
            traces[k] = load_trace(trace_file)
        else:
            traces[k] = trace_fold(folds[k], fit_virality(others, cutoff))
        per_fold[k] = rule_figures(folds[k], traces[k], cutoff, rules)
        per_fold_alerts[k] = alert_figures(folds[k], traces[k], cutoff, rules)
        print(f"fold {k}: {traces[k]['seconds']} s", file=sys.stderr)
        if dump is not None:  # partial results survive a long run that is cut short
            dump.write_text(json.dumps({str(j): v for j, v in per_fold.items()}), "utf-8")
            assert trace_file is not None
            trace_file.write_text(json.dumps(traces[k], default=list), "utf-8")
    train_folds = [k for k in range(1, folds_to_run)]
    train = []
    for i, rule in enumerate(rules):
        train.append((rule, pooled([per_fold[k][i] for k in train_folds])))
    chosen = choose(train) if train_folds else (DEFAULT_RULE, {})

    train_alerts = []
    for i, rule in enumerate(rules):
        train_alerts.append((rule, pooled_alerts([per_fold_alerts[k][i] for k in train_folds])))

    def named(rule: Rule) -> dict:
        i = rules.index(rule)
        return {
            "train_folds": train[i][1],
            "eval_fold": per_fold[0][i],
            "train_folds_alerts": train_alerts[i][1],
            "eval_fold_alerts": per_fold_alerts[0][i],
        }

    return {
        "events_per_fold": {k: len(folds[k]["sources"]) for k in range(FOLDS)},
        "top_quartile_cutoff_reposts": cutoff,
        "load_seconds": round(load_s, 1),
        "replay": {
            k: {x: traces[k][x] for x in ("seconds", "cpu_seconds", "posts", "incidents_per_event")}
            for k in traces
        },
        "rule_fields": [
            "burst_single_p_value",
            "burst_virality_threshold",
            "virality_threshold",
            "burst_min_roots",
            "size_posts",
            "burst_unknown_counts",
        ],
        "chosen_on_train_folds": {
            "rule": list(chosen[0]),
            "train": chosen[1],
            "eval": per_fold[0][rules.index(chosen[0])],
        },
        "default": named(DEFAULT_RULE),
        "default_breakdown_eval_fold": breakdown(folds[0], traces[0], cutoff, DEFAULT_RULE),
        "old_default": named(OLD_DEFAULT_RULE),
        "virality_alone_0.73": named((1e-4, 1.01, 0.73, 10**9, None, False)),
        "eval_fold_front": front(per_fold[0]),
        "eval_fold_alerts_front": front(per_fold_alerts[0]),
        "train_folds_alerts_front": [
            {"rule": list(r), **fig} for r, fig in front_train(train_alerts)
        ],
        "train_folds_front": [{"rule": list(r), **fig} for r, fig in front_train(train)],
    }


def front_train(train: list[tuple[Rule, dict]]) -> list[tuple[Rule, dict]]:
    evals = sorted(
        (t for t in train if t[1].get("precision") is not None),
        key=lambda t: (-(t[1]["share_before_20pct"] or 0), -(t[1]["precision"] or 0)),
    )
    out, best = [], -1.0
    for t in evals:
        if t[1]["precision"] > best:
            out.append(t)
            best = t[1]["precision"]
    return out


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


def print_curve(c: dict) -> None:
    fields = c["rule_fields"]
    print(f"top-quartile cutoff {c['top_quartile_cutoff_reposts']} reposts; rules: {fields}")
    print("chosen on folds 1-4:", json.dumps(c["chosen_on_train_folds"], ensure_ascii=False))
    for key in ("default", "old_default", "virality_alone_0.73", "default_breakdown_eval_fold"):
        print(key, json.dumps(c[key], ensure_ascii=False))
    for title, rows in (
        ("fold 0 (held out) precision-earliness front, per event:", c["eval_fold_front"]),
        ("folds 1-4 (pooled) precision-earliness front, per event:", c["train_folds_front"]),
        ("fold 0 (held out) front, per alert raised:", c["eval_fold_alerts_front"]),
        ("folds 1-4 (pooled) front, per alert raised:", c["train_folds_alerts_front"]),
    ):
        print(title)
        print(f"{'rule':<44} {'prec':>6} {'<20%':>6} {'recall':>6} {'median':>7}")
        for r in rows:
            print(
                f"{json.dumps(r['rule']):<44} {r['precision']!s:>6} "
                f"{r['share_before_20pct']!s:>6} {r['recall']!s:>6} "
                f"{r.get('median_minutes')!s:>7}"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(ROOT.parent / "shared/datasets/ced"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-ced", action="store_true")
    parser.add_argument("--dump", type=Path, help="write per-fold rule figures here as they come")
    parser.add_argument("--folds", type=int, default=FOLDS, help="replay only folds 0..N-1")
    parser.add_argument(
        "--reuse-traces", action="store_true", help="re-evaluate the --dump run's fold traces"
    )
    parser.add_argument(
        "--store-check", action="store_true", help="replay fold 0 through SQLite and in memory"
    )
    args = parser.parse_args()
    if args.store_check:
        print(json.dumps(store_check(Path(args.ced)), ensure_ascii=False, indent=1))
        return 0
    out: dict = {"clustering_fixture": clustering_figures()}
    if not args.skip_ced:
        out["ced_curve"] = curve(Path(args.ced), args.dump, args.folds, args.reuse_traces)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(json.dumps(out["clustering_fixture"], ensure_ascii=False))
    if "ced_curve" in out:
        print_curve(out["ced_curve"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
