"""Detection quality on a replay of the CED copy (figures for the closing note and docs).

    .venv/bin/python bench/eval_hot.py [CED_DIR] [--json]

Replays every CED event in post-time order through the live pipeline in memory
(:func:`nlp.replay.replay` without a store: incident assignment, velocity, heat, burst,
virality, evaluated every simulated minute with posts) and reports, for events whose final
repost count is in the top quartile: the median minutes from source post to hot flag, the
share flagged before reaching 20% of their final reposts, and the precision of hot flags
against that quartile, per event and per incident flag (an incident may hold several CED
events). Then clustering purity/completeness on tests/files/incidents_fixture.jsonl.

The virality model was trained on this same CED copy, so the replay figures are optimistic
for the virality part; the cross-validated figures in nlp/models/virality.json are the
held-out ones.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import Author, Post  # noqa: E402
from nlp.detect import HotConfig, HotTopics  # noqa: E402
from nlp.incidents import IncidentEngine  # noqa: E402
from nlp.replay import load_stream, replay  # noqa: E402

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


def hot_figures(ced: Path, config: HotConfig | None = None) -> dict:
    t0 = time.perf_counter()
    items = load_stream(ced)
    load_s = time.perf_counter() - t0
    sources = {obj.id: obj for _, _, obj in items if isinstance(obj, Post) and obj.kind == "post"}
    reposts: dict[str, list[float]] = defaultdict(list)
    for ts, _, obj in items:
        if isinstance(obj, Post) and obj.root_id:
            reposts[obj.root_id].append(ts)
    for times in reposts.values():
        times.sort()
    finals = {sid: len(reposts.get(sid, [])) for sid in sources}
    ordered = sorted(finals.values())
    cutoff = ordered[math.floor(0.75 * (len(ordered) - 1))]
    detector = HotTopics(config or HotConfig())
    first_hot: dict[str, float] = {}
    first_reason: dict[str, str] = {}

    def on_tick(now: float, evaluations: list) -> None:
        for ev in evaluations:
            if ev.hot and ev.cluster.id not in first_hot:
                first_hot[ev.cluster.id] = now
                kinds = sorted({r.split(" ", 1)[0].rstrip(":") for r in ev.reasons})
                first_reason[ev.cluster.id] = "+".join(kinds)

    result = replay(items, detector, None, on_tick=on_tick)
    # replay() wrote each post's incident id onto it.
    flagged_events: dict[str, float] = {}
    for sid, post in sources.items():
        inc = post.incident_id
        if inc in first_hot:
            flagged_events[sid] = first_hot[inc]
    large = {sid for sid, n in finals.items() if n >= cutoff}
    by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sid in flagged_events:
        reason = first_reason.get(sources[sid].incident_id or "", "?")
        by_reason[reason][0] += 1
        by_reason[reason][1] += sid in large
    tp = [sid for sid in flagged_events if sid in large]
    # Hot flags are raised per incident, and one incident may hold several CED events told
    # by different authors (the same rumor posted twice, a report and its follow-up). Per
    # flag: an incident's flag is right when the incident holds a top-quartile event.
    events_of: dict[str, list[str]] = defaultdict(list)
    for sid, post in sources.items():
        if post.incident_id:
            events_of[post.incident_id].append(sid)
    flags = [inc for inc in first_hot if events_of.get(inc)]
    right = [inc for inc in flags if any(sid in large for sid in events_of[inc])]
    multi = sum(1 for inc in flags if len(events_of[inc]) > 1)
    minutes = []
    before20 = 0
    for sid in large:
        if sid not in flagged_events:
            continue
        start = sources[sid].created_at.timestamp()
        at = flagged_events[sid]
        minutes.append((at - start) / 60.0)
        times = reposts.get(sid, [])
        seen = sum(1 for t in times if t <= at)
        before20 += seen < 0.2 * len(times)
    return {
        "events": len(sources),
        "top_quartile_cutoff_reposts": cutoff,
        "top_quartile_events": len(large),
        "flagged_events": len(flagged_events),
        "flagged_top_quartile": len(tp),
        "precision": round(len(tp) / len(flagged_events), 4) if flagged_events else None,
        "recall": round(len(tp) / len(large), 4) if large else None,
        "median_minutes_to_hot_flag": round(statistics.median(minutes), 1) if minutes else None,
        "flagged_incidents": len(flags),
        "flagged_incidents_with_several_events": multi,
        "precision_per_incident_flag": round(len(right) / len(flags), 4) if flags else None,
        "share_flagged_before_20pct_of_final": round(before20 / len(large), 4),
        "first_reason_flagged_and_large": {k: v for k, v in sorted(by_reason.items())},
        "replay": result.as_dict() | {"load_seconds": round(load_s, 1)},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ced", nargs="?", default=str(ROOT.parent / "shared/datasets/ced"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-ced", action="store_true")
    parser.add_argument(
        "--virality-only",
        action="store_true",
        help="switch the burst rule off (CED is a sample of events, not a locality's stream)",
    )
    args = parser.parse_args()
    out: dict = {"clustering_fixture": clustering_figures()}
    if not args.skip_ced:
        config = HotConfig()
        if args.virality_only:
            config = replace(config, burst=replace(config.burst, min_current=10**9))
        out["config"] = "virality only" if args.virality_only else "default (burst or virality)"
        out["ced_replay"] = hot_figures(Path(args.ced), config)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
