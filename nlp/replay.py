"""Replay a dataset through the live pipeline in order of post time.

Posts (and, for CED, the metric snapshots derived from repost times) are merged into one
stream ordered by the time they were written. Each simulated minute: assign the minute's
posts to incidents (:class:`nlp.detect.HotTopics`), write them to the store with their
incident id, and run detection at the minute's end. ``speed`` N sleeps so that N simulated
seconds take one wall-clock second; ``None`` runs as fast as possible.

Without a store (``store=None``) the same loop runs in memory: that is what
``bench/eval_hot.py`` uses to measure detection quality on the whole CED copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from models import MetricSnapshot, Post
from nlp.detect import (
    STATE_KEY,
    Evaluation,
    HotTopics,
    attach_rumor_scores,
    put_state,
    rescore_rumors,
    save_evaluations,
    thread_of,
)
from store import Store
from text.report import ImportReport

TICK_SECONDS = 60
#: Simulated seconds between two prunes of the live detector.
PRUNE_EVERY = 3600
#: Key, inside the detector state (``nlp.detect.STATE_KEY``), of a replay's checkpoint:
#: where it stands in its stream and what it needs to go on from there. Kept in the same
#: state value, so the detector state and the position are written together, and a
#: detection pass (which saves the state without it) ends the chance to resume.
CHECKPOINT = "replay"


@dataclass
class ReplayReport:
    """Counts and timings of one replay."""

    posts: int = 0
    snapshots: int = 0
    ticks: int = 0
    incidents: int = 0
    new_incidents: int = 0
    hot_onsets: int = 0
    saved: int = 0
    rumor_scored: int = 0
    first: datetime | None = None
    last: datetime | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    load: ImportReport = field(default_factory=ImportReport)

    def as_dict(self) -> dict:
        wall = self.seconds.get("total", 0.0) or 1e-9
        return {
            "posts": self.posts,
            "snapshots": self.snapshots,
            "ticks": self.ticks,
            "incidents": self.incidents,
            "new_incidents": self.new_incidents,
            "hot_onsets": self.hot_onsets,
            "saved_incident_versions": self.saved,
            "rumor_scored": self.rumor_scored,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "seconds": self.seconds,
            "posts_per_second": round(self.posts / wall, 1),
            "assign_posts_per_second": round(
                self.posts / (self.seconds.get("assign", 0.0) or 1e-9), 1
            ),
            "skipped": dict(self.load.skipped),
        }


Item = tuple[float, int, Post | MetricSnapshot]


def load_stream(path: str | Path, report: ImportReport | None = None) -> list[Item]:
    """Every post and snapshot of a CED directory or JSONL file(s), sorted by time."""
    report = report if report is not None else ImportReport()
    base = Path(path)
    items: list[Item] = []
    seq = 0
    if (base / "original-microblog").is_dir():
        from ingest.ced import iter_events

        for event in iter_events(base, report):
            for post in event.posts():
                items.append((post.created_at.timestamp(), seq, post))
                seq += 1
            for snap in event.snapshots():
                items.append((snap.observed_at.timestamp(), seq, snap))
                seq += 1
    else:
        from ingest.jsonl import iter_jsonl

        files = sorted(base.glob("*.jsonl")) if base.is_dir() else [base]
        if not files or not all(f.is_file() for f in files):
            raise FileNotFoundError(f"{base}: neither a CED directory nor JSONL file(s)")
        for file in files:
            for post in iter_jsonl(file, report, default_source="replay"):
                items.append((post.created_at.timestamp(), seq, post))
                seq += 1
    items.sort(key=lambda item: (item[0], item[1]))
    return items


def _minutes(items: list[Item]) -> Iterator[tuple[float, list[Post], list[MetricSnapshot]]]:
    """Group the stream by simulated minute: (minute end, posts, snapshots)."""
    i, n = 0, len(items)
    while i < n:
        end = (items[i][0] // TICK_SECONDS + 1) * TICK_SECONDS
        posts: list[Post] = []
        snaps: list[MetricSnapshot] = []
        while i < n and items[i][0] < end:
            obj = items[i][2]
            if isinstance(obj, Post):
                posts.append(obj)
            else:
                snaps.append(obj)
            i += 1
        yield end, posts, snaps


def stream_fingerprint(items: list[Item], until: float | None, every: int) -> str:
    """Identity of one replay (every item's time and post, the clock, the save interval):
    a checkpoint is only resumed by the same replay."""
    digest = hashlib.sha1(f"{until!r}|{every}".encode())
    for ts, _, obj in items:
        key = obj.id if isinstance(obj, Post) else f"{obj.post_id}@"
        digest.update(f"{ts:.3f}|{key}\n".encode())
    return digest.hexdigest()


_COUNTERS = ("posts", "snapshots", "ticks", "new_incidents", "hot_onsets", "saved", "rumor_scored")


def replay(
    items: list[Item],
    detector: HotTopics,
    store: Store | None = None,
    *,
    until: float | None = None,
    speed: float | None = None,
    save_every: int = 60,
    on_tick: Callable[[float, list[Evaluation]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReplayReport:
    """Stream ``items`` through ``detector`` (and into ``store`` when given).

    Incident records are written every ``save_every`` simulated minutes with activity and
    at the end (every minute with ``speed``: the wall-clock waits fall between two
    checkpoints). ``until`` (epoch seconds, the reference clock) stops the replay there:
    only what was written by then is streamed, and the last evaluation is at ``until``, as
    a live pass at that moment would be.

    With a store, each of those saves is a checkpoint: the detector state (which
    ``tingfeng detect`` continues from) and the replay's position, hot states and counts
    are written in one store transaction with the interval's posts, snapshots, rumor
    scores, incident records and history. A replay killed at any moment and run again
    with the same stream (and clock) goes on from its last checkpoint, and ends with the
    records and history one uninterrupted run writes (exactly on SQLite; Elasticsearch
    has no transaction, see :meth:`store.Store.transaction`). The caller passes the
    detector loaded from the store (``nlp.detect.load_detector``), which holds that
    checkpoint; a replay already finished reports its counts again and writes nothing.
    """
    if until is not None:
        items = [item for item in items if item[0] <= until]
    report = ReplayReport()
    t_start = clock()
    sim_start: float | None = None
    assign_s = store_s = detect_s = 0.0
    pending: dict[str, Evaluation] = {}
    touched: Counter[str] = Counter()
    #: Each incident's hot state at its last evaluation (new incidents start not hot).
    last_hot: dict[str, bool] = {}
    last_tick: float | None = None
    last_prune = items[0][0] if items else 0.0
    every = 1 if speed else save_every
    first = items[0][0] if items else None
    fingerprint = stream_fingerprint(items, until, every) if store is not None else ""
    if store is not None:
        checkpoint = (store.get_state(STATE_KEY) or {}).get(CHECKPOINT)
        if checkpoint and checkpoint.get("stream") == fingerprint:
            for name in _COUNTERS:
                setattr(report, name, checkpoint["report"][name])
            last_hot = dict(checkpoint["last_hot"])
            last_prune = checkpoint["last_prune"]
            last_tick = checkpoint["last_tick"]
            if checkpoint["done"]:
                items = []
            else:
                items = [item for item in items if item[0] >= checkpoint["position"]]
            if not items:
                return _finish(report, detector, first, last_tick, t_start, clock, (0, 0, 0))
    #: the open store transaction (one per checkpoint interval)
    tx: contextlib.AbstractContextManager | None = None

    def begin() -> None:
        nonlocal tx
        if store is not None and tx is None:
            tx = store.transaction()
            tx.__enter__()

    def commit(done: bool, position: float) -> None:
        # The detector state and the replay's place in its stream, written with everything
        # since the last checkpoint, in one transaction (see Store.transaction).
        nonlocal tx
        assert store is not None and tx is not None
        state = detector.to_state()
        state[CHECKPOINT] = {
            "stream": fingerprint,
            "position": position,
            "done": done,
            "last_tick": last_tick,
            "last_prune": last_prune,
            "last_hot": last_hot,
            "report": {name: getattr(report, name) for name in _COUNTERS},
        }
        put_state(store, state)
        tx, done_tx = None, tx
        done_tx.__exit__(None, None, None)

    def save() -> None:
        # Source posts whose threads grew (by a tenth, see HotTopics.rumor_due) are rescored
        # before their incidents are written, so each saved incident carries the rumor
        # score of what had spread by then.
        due = detector.rumor_due(touched)
        report.rumor_scored += rescore_rumors(store, due, detector.config, detector.rumor_model)
        touched.clear()
        changed = [e for e in pending.values() if detector.changed(e)]
        attach_rumor_scores(store, changed)
        report.saved += save_evaluations(store, changed)
        pending.clear()

    def save_now(evaluations: list[Evaluation]) -> None:
        # A change of hot state is written when it happens, not at the next periodic save:
        # an incident hot for less than ``save_every`` minutes would otherwise never be
        # recorded as hot, and the history would date its onset at the save.
        for ev in evaluations:
            detector.changed(ev)  # the figures now saved
            pending.pop(ev.cluster.id, None)
        attach_rumor_scores(store, evaluations)
        report.saved += save_evaluations(store, evaluations)

    try:
        for minute_end, posts, snaps in _minutes(items):
            if sim_start is None:
                sim_start = minute_end - TICK_SECONDS
            if speed:
                due = t_start + (minute_end - sim_start) / speed
                wait = due - clock()
                if wait > 0:
                    sleep(wait)
            begin()
            t0 = time.perf_counter()
            fresh = posts
            if store is not None and posts:
                # A replay run again over stored posts does not count them twice.
                known = {
                    p.id: p.incident_id
                    for p in store.get_posts([p.id for p in posts])
                    if p.incident_id is not None
                }
                if known:
                    fresh = [p for p in posts if p.id not in known]
                    for post in posts:
                        post.incident_id = known.get(post.id, post.incident_id)
            assignments = detector.ingest(fresh)
            for post, result in zip(fresh, assignments, strict=True):
                post.incident_id = result.incident_id
            report.new_incidents += sum(a.new_incident for a in assignments)
            t1 = time.perf_counter()
            if store is not None:
                if posts:
                    store.upsert_posts(posts)
                    touched.update(thread_of(p) for p in posts)
                if snaps:
                    store.add_snapshots(snaps)
            t2 = time.perf_counter()
            end = minute_end if until is None else min(minute_end, until)
            evaluations = detector.evaluate(end) if fresh else []
            report.hot_onsets += sum(ev.notify for ev in evaluations)
            if on_tick is not None:
                on_tick(end, evaluations)
            for ev in evaluations:
                pending[ev.cluster.id] = ev
                ev.cluster.dirty = False
            if store is not None:
                flipped = [ev for ev in evaluations if ev.hot != last_hot.get(ev.cluster.id, False)]
                if flipped:
                    save_now(flipped)
            last_hot.update((ev.cluster.id, ev.hot) for ev in evaluations)
            report.ticks += 1
            if end - last_prune >= PRUNE_EVERY:
                detector.prune(end)
                last_prune = end
            report.posts += len(posts)
            report.snapshots += len(snaps)
            last_tick = end
            if store is not None and report.ticks % every == 0:
                save()
                commit(False, minute_end)
            t3 = time.perf_counter()
            assign_s += t1 - t0
            store_s += t2 - t1
            detect_s += t3 - t2
        if until is not None and last_tick is not None and until > last_tick:
            # A pass at the clock itself, as the live system would run at that moment.
            final = detector.evaluate(until)
            report.hot_onsets += sum(ev.notify for ev in final)
            if on_tick is not None:
                on_tick(until, final)
            for ev in final:
                pending[ev.cluster.id] = ev
            last_tick = until
        if store is not None:
            begin()
            save()
            commit(True, last_tick or 0.0)
    except BaseException:
        # Interrupted (or failed): the interval since the last checkpoint is rolled back
        # whole, and a rerun goes on from that checkpoint.
        if tx is not None:
            tx.__exit__(*sys.exc_info())
        raise
    return _finish(
        report, detector, first, last_tick, t_start, clock, (assign_s, store_s, detect_s)
    )


def _finish(
    report: ReplayReport,
    detector: HotTopics,
    first: float | None,
    last_tick: float | None,
    t_start: float,
    clock: Callable[[], float],
    seconds: tuple[float, float, float],
) -> ReplayReport:
    report.incidents = len(detector.engine.incidents)
    if first is not None:
        report.first = datetime.fromtimestamp(first, UTC)
        report.last = datetime.fromtimestamp(last_tick or first, UTC)
    assign_s, store_s, detect_s = seconds
    report.seconds = {
        "assign": round(assign_s, 3),
        "store": round(store_s, 3),
        "detect": round(detect_s, 3),
        "total": round(clock() - t_start, 3),
    }
    return report


def merge_streams(*streams: list[Item]) -> list[Item]:
    """One time-ordered stream from several (e.g. two datasets replayed together)."""
    return list(heapq.merge(*streams, key=lambda item: (item[0], item[1])))
