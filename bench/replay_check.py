"""CED events replayed through the SQLite store with the installed ``tingfeng replay`` and
in memory, compared: incidents, incidents without posts, hot flags, rumor scores.

    nice .venv/bin/python bench/replay_check.py [CED_DIR] [--fold 0] [--events N] [--keep DIR]

The events are fold ``--fold`` of the hash split of ``bench/eval_hot.py`` (sha1 of the
event id mod 5; fold 0 = 548 events, about the size of the project's held-out set, which
is not in this copy), or the first ``--events N`` of it. They are read in place through a
CED-layout directory of symbolic links in a temporary folder (nothing is copied).

1. ``tingfeng -c CFG replay DIR --json`` runs as a subprocess on a fresh SQLite store with
   the default configuration (rumor scoring on, the shipped rumor model).
2. The same stream runs in memory (``nlp.replay.replay`` without a store) with the same
   ``hot:`` section; each incident's first hot time is read from its evaluations.
3. In memory, each incident's rumor score is recomputed at the end from its source posts
   with their complete threads (``nlp.rumor.incident.score_incident`` over the shipped
   model's scores); the store's score is the one attached at its last save.

With ``--keep DIR`` each finished phase is kept in DIR (``replay.json`` beside the store
``replay.db``, then ``memory.json``), and a run again with the same DIR, fold and events
resumes after the last finished phase: an interrupted store replay starts afresh (the
replay command itself does not resume a run mid-way), a finished one is not repeated.

Figures: post→incident maps equal; incident records vs incidents in memory; records with no
source posts, or whose post count differs from the posts pointing to them (both must be 0);
incidents ever hot and their first hot times in both; rumor score differences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FOLDS = 5


def fold_of(event_id: str) -> int:
    """The fold of ``bench/eval_hot.py`` (same hash)."""
    return int(hashlib.sha1(event_id.encode()).hexdigest(), 16) % FOLDS


def subset(ced: Path, out: Path, fold: int, limit: int | None) -> int:
    """A CED-layout directory of symbolic links to the fold's events; returns how many."""
    from ingest.ced import event_files
    from text.report import ImportReport

    for sub in ("original-microblog", "rumor-repost", "non-rumor-repost"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    n = 0
    for files in event_files(ced, ImportReport()):
        if fold_of(files.event_id) != fold:
            continue
        original = Path(files.original)
        os.symlink(original.resolve(), out / "original-microblog" / original.name)
        if files.reposts is not None:
            reposts = Path(files.reposts)
            os.symlink(reposts.resolve(), out / reposts.parent.name / reposts.name)
        n += 1
        if limit is not None and n >= limit:
            break
    return n


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _done(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """A phase's kept result, if it was finished for the same fold and events."""
    if not path.is_file():
        return None
    kept = json.loads(path.read_text(encoding="utf-8"))
    return kept if kept.get("key") == key else None


def _keep(path: Path, key: dict[str, Any], result: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, **result}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # a phase is kept whole or not at all


def through_store(
    data: Path, work: Path, key: dict[str, Any]
) -> tuple[dict[str, Any], Path, dict[str, float]]:
    cfg = work / "tingfeng.yaml"
    db = work / "replay.db"
    marker = work / "replay.json"
    kept = _done(marker, key)
    if kept is not None and db.is_file():
        _log(f"store replay: already done in {db}")
        return kept["replayed"], db, kept["took"]
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # an interrupted replay is not resumed mid-way
    cfg.write_text(f"store: {{path: {db}}}\n", encoding="utf-8")
    _log(f"store replay: tingfeng replay into {db}")
    cmd = [sys.executable, "-m", "tingfeng", "-c", str(cfg), "replay", str(data), "--json"]
    t0, c0 = time.perf_counter(), _child_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    took = {"wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(_child_cpu() - c0, 1)}
    if proc.returncode != 0:
        raise SystemExit(f"tingfeng replay failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    replayed = json.loads(proc.stdout)
    _keep(marker, key, {"replayed": replayed, "took": took})
    _log(f"store replay: done, {took['wall_s']} s wall, {took['cpu_s']} s CPU")
    return replayed, db, took


def in_memory(data: Path) -> dict[str, Any]:
    from models import Post
    from nlp.detect import HotTopics
    from nlp.hot_config import HotConfigSection
    from nlp.replay import load_stream, replay

    items = load_stream(data)
    live = HotTopics(HotConfigSection())
    first_hot: dict[str, float] = {}
    state: dict[str, bool] = {}
    flips = [0]

    def on_tick(at: float, evaluations: list[Any]) -> None:
        for ev in evaluations:
            if ev.hot and ev.cluster.id not in first_hot:
                first_hot[ev.cluster.id] = ev.hot_since or at
            flips[0] += ev.hot != state.get(ev.cluster.id, False)
            state[ev.cluster.id] = ev.hot

    t0 = time.perf_counter()
    report = replay(items, live, None, on_tick=on_tick)
    posts = [obj for _, _, obj in items if isinstance(obj, Post)]
    return {
        "posts": posts,  # popped before the phase is kept
        "incident_of": {p.id: p.incident_id for p in posts},
        "first_hot": first_hot,
        "hot_onsets": report.hot_onsets,
        "hot_changes": flips[0],
        "revived": live.engine.archive.revived,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def memory_rumor_scores(posts: list[Any], incident_of: dict[str, str]) -> dict[str, float]:
    """Each incident's score from its source posts scored on their complete threads."""
    from nlp.rumor.features import RumorInput
    from nlp.rumor.incident import score_incident
    from nlp.rumor.scoring import cached_model

    model = cached_model(None)
    threads: dict[str, list[Any]] = defaultdict(list)
    roots = {}
    for p in posts:
        if p.root_id is None:
            roots[p.id] = p
        else:
            threads[p.root_id].append(p)
    order = list(roots)
    scores = model.score(RumorInput.from_posts(roots[r], threads[r]) for r in order)
    scored = {}
    for r, s in zip(order, scores, strict=True):
        scored[r] = roots[r].model_copy(update={"rumor_score": s.probability})
    by_incident: dict[str, list[Any]] = defaultdict(list)
    for r, post in scored.items():
        by_incident[incident_of[r]].append(post)
    out = {}
    for inc, found in by_incident.items():
        score = score_incident(found, None).score
        if score is not None:
            out[inc] = score
    return out


def compare(ced: Path, fold: int, limit: int | None, keep: Path | None) -> dict[str, Any]:
    from models import Incident
    from models.records import IncidentHistory
    from store import PostFilter
    from store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        data = work / "ced"
        if data.exists():  # the links of an earlier run with this DIR
            shutil.rmtree(data)
        events = subset(ced, data, fold, limit)
        key = {"fold": fold, "events": events, "limit": limit}
        replayed, db, took = through_store(data, work, key)
        kept = _done(work / "memory.json", key) if keep is not None else None
        if kept is None:
            _log("in-memory replay")
            memory = in_memory(data)
            t0 = time.perf_counter()
            mem_scores = memory_rumor_scores(memory.pop("posts"), memory["incident_of"])
            memory["rumor_seconds"] = round(time.perf_counter() - t0, 1)
            memory["rumor_scores"] = mem_scores
            if keep is not None:
                _keep(work / "memory.json", key, memory)
            _log(f"in-memory replay: done, {memory['seconds']} s")
        else:
            _log("in-memory replay: already done")
            memory = kept
            mem_scores = memory["rumor_scores"]
        with SQLiteStore(db) as store:
            stored = {p.id: p.incident_id for p in store.iter_posts(PostFilter())}
            records = {r.id: r for r in store.list_records(Incident, limit=1_000_000)}
            histories = store.list_records(IncidentHistory, limit=1_000_000)
        hot_changes = sum(1 for h in histories for c in h.changes if c.change == "hot")
    per_incident = Counter(stored.values())
    moved = [
        [pid, inc, memory["incident_of"].get(pid)]
        for pid, inc in sorted(stored.items())
        if memory["incident_of"].get(pid) != inc
    ]
    store_hot = {
        i: r.extra["first_hot_at"] for i, r in records.items() if "first_hot_at" in r.extra
    }
    from datetime import UTC, datetime

    mem_hot = {
        i: datetime.fromtimestamp(t, UTC).isoformat() for i, t in memory["first_hot"].items()
    }
    same_time = sum(
        1
        for i in set(store_hot) & set(mem_hot)
        if datetime.fromisoformat(store_hot[i]) == datetime.fromisoformat(mem_hot[i])
    )
    diffs = sorted(
        abs(r.rumor_score - mem_scores[i])
        for i, r in records.items()
        if r.rumor_score is not None and i in mem_scores
    )
    side = [
        (r.rumor_score >= 0.5) == (mem_scores[i] >= 0.5)
        for i, r in records.items()
        if r.rumor_score is not None and i in mem_scores
    ]
    return {
        "events": events,
        "posts_stored": len(stored),
        "posts_in_memory": len(memory["incident_of"]),
        "same_incident_for_every_post": stored == memory["incident_of"],
        "posts_in_another_incident": len(moved),
        "first_posts_in_another_incident": moved[:5],
        "incident_records": len(records),
        "incidents_in_memory": len(set(memory["incident_of"].values())),
        "incidents_per_event": round(len(records) / max(events, 1), 3),
        "records_without_source_posts": sum(1 for r in records.values() if not r.root_ids),
        "records_without_posts": sum(1 for i in records if per_incident.get(i, 0) == 0),
        "records_whose_count_differs_from_their_posts": sum(
            1 for i, r in records.items() if r.post_count != per_incident.get(i, 0)
        ),
        "posts_pointing_to_no_record": sum(n for i, n in per_incident.items() if i not in records),
        "hot": {
            "store_ever_hot": len(store_hot),
            "memory_ever_hot": len(mem_hot),
            "same_incidents": set(store_hot) == set(mem_hot),
            "same_first_hot_time": same_time,
            "store_hot_onsets": replayed.get("hot_onsets"),
            "memory_hot_onsets": memory["hot_onsets"],
            "store_history_hot_changes": hot_changes,
            "memory_hot_changes": memory["hot_changes"],
        },
        "rumor": {
            "records_with_score": sum(1 for r in records.values() if r.rumor_score is not None),
            "memory_incidents_with_score": len(mem_scores),
            "compared": len(diffs),
            "same_side_of_0.5": sum(side),
            "abs_diff_median": round(diffs[len(diffs) // 2], 4) if diffs else None,
            "abs_diff_p95": round(diffs[int(0.95 * (len(diffs) - 1))], 4) if diffs else None,
            "abs_diff_max": round(diffs[-1], 4) if diffs else None,
            "store_rescored": replayed.get("rumor_scored"),
        },
        "revived_in_memory": memory["revived"],
        "replay_command": {
            **took,
            "posts_per_second": replayed.get("posts_per_second"),
            "wall_s_per_event": round(took["wall_s"] / max(events, 1), 2),
            "cpu_s_per_event": round(took["cpu_s"] / max(events, 1), 2),
        },
        "memory_seconds": memory["seconds"],
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ced", nargs="?", type=Path, default=ROOT.parent / "shared/datasets/ced")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the store in DIR")
    args = parser.parse_args()
    out = compare(args.ced, args.fold, args.events, args.keep)
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
