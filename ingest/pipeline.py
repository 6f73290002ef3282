"""Bulk import into a store: batching, counting, preparing posts in worker processes, and
scoring the imported threads while they are still in memory.

Reading, validating, tokenising and rumor scoring are CPU work that parallelises; SQLite
has one writer. So workers turn files into :class:`store.base.PreparedPost` rows (and,
with a scorer, score each thread where it is in memory) and the parent process only
writes posts and their scores. Results are consumed
in input order through a bounded window of pending work, so memory stays flat however
large the import.

Progress goes to an ``on_progress(phase, done, total)`` callback; :data:`PHASES` names the
phases for display. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from ingest.bounds import DateBounds
from ingest.ced import EventFiles, PreparedEvent, ThreadRow, event_files, prepare_event
from ingest.errors import check_inputs
from ingest.jsonl import iter_jsonl
from models import MetricSnapshot, Post
from nlp.tokenize import restore, snapshot
from store import PostFilter, Store
from store.base import PreparedPost, UpsertResult
from text.gazetteer import tagger_for
from text.report import ImportReport

Progress = Callable[[int], None]
Gazetteer = dict[str, list[str]]
#: ``(phase, done, total)``; ``total`` is None when not known in advance.
OnProgress = Callable[[str, int, int | None], None]
#: What each phase is called on screen (user-facing, so Chinese).
PHASES: dict[str, str] = {
    "import": "导入帖子",
    "index": "建立索引",
    "score": "谣言评分",
}
#: Groups of events a worker may have prepared ahead of the writer (each group is
#: ``EVENT_GROUP`` events, about 3,000 posts): enough to keep it busy while the writer
#: commits, few enough that the pending rows stay a few tens of megabytes. A worker scores
#: a group's threads in one model call: larger groups would make fewer, cheaper calls
#: (0.9 instead of 1.3 ms CPU a thread at 32), but 32 raised the import's peak RSS to
#: 688 MB (bench/README.md).
AHEAD_PER_WORKER = 4
EVENT_GROUP = 8


class WorkerScoring(Protocol):
    """Scoring in the worker processes (picklable; see ``nlp.rumor.thread.WorkerScoring``)."""

    #: Thread held in memory -> model row (called as ``ThreadRow`` is).
    row: ThreadRow

    def score(self, rows: list[Any]) -> tuple[list[float | None], str | None]:
        """The score of each row, and why none could be given (the model did not load)."""
        ...


class ThreadScorer(Protocol):
    """Scores threads (a source post and its reposts); see ``nlp.rumor.scoring``."""

    def rescore(self, store: Store, root_ids: Iterable[str]) -> int: ...


class ImportScorer(ThreadScorer, Protocol):
    """A CED import's scorer: threads are scored in the worker processes (``worker``),
    from the store (``rescore``) only when memory does not hold what is stored."""

    worker: WorkerScoring

    def unscored(self, reason: str) -> None:
        """A worker could not load the model: the threads got no score, for ``reason``."""
        ...


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _count(report: ImportReport, result: UpsertResult) -> None:
    report.inserted += result.inserted
    report.updated += result.updated
    report.unchanged += result.unchanged
    for post_id, why in result.failed:
        report.skip(f"store rejected ({why})", post_id)


def store_posts(
    store: Store,
    posts: Iterable[Post],
    report: ImportReport,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> None:
    """Upsert ``posts`` batch by batch; each batch is one transaction, so an interrupted
    import leaves only whole batches and re-running it adds no duplicates."""
    for chunk in _batched(posts, batch_size):
        _count(report, store.upsert_posts(chunk))
        if progress:
            progress(len(chunk))


def _rescore(
    store: Store,
    scorer: ThreadScorer,
    roots: Sequence[str],
    report: ImportReport,
    on_progress: OnProgress | None,
) -> None:
    """Score threads from the store, in chunks, reporting the ``score`` phase."""
    ids = list(dict.fromkeys(roots))
    chunk = 50
    for start in range(0, len(ids), chunk):
        report.scored += scorer.rescore(store, ids[start : start + chunk])
        if on_progress:
            on_progress("score", min(start + chunk, len(ids)), len(ids))


def import_jsonl(
    store: Store,
    paths: list[Path],
    *,
    default_source: str | None = None,
    progress: Progress | None = None,
    on_root: Callable[[str], None] | None = None,
    on_progress: OnProgress | None = None,
    scorer: ThreadScorer | None = None,
    bounds: DateBounds | None = None,
    gazetteer: Gazetteer | None = None,
) -> ImportReport:
    """Import JSON-lines files (and their metric snapshot lines).
    ``gazetteer``: tag posts with the districts they mention (:func:`tag_regions`).

    Every file is checked before anything is imported (:func:`ingest.errors.check_inputs`).
    ``on_root`` gets the source post of each imported post's thread (its ``root_id``, or its
    own id), once per thread. With ``scorer``, those threads are scored from the store after
    the import (a JSONL thread may be spread over files and over earlier imports).
    Progress: phase ``import`` counts bytes read of all files, ``score`` threads.
    """
    paths = check_inputs(paths)
    report = ImportReport()
    roots: dict[str, None] = {}
    total = sum(p.stat().st_size for p in paths)
    done_before = 0
    bounds = bounds or DateBounds.of()

    def noting(posts: Iterable[Post]) -> Iterator[Post]:
        for post in posts:
            root = post.root_id or post.id
            if root not in roots:
                roots[root] = None
                if on_root is not None:
                    on_root(root)
            yield post

    for path in paths:
        snapshots: list[MetricSnapshot] = []

        def tell(position: int, base: int = done_before) -> None:
            if on_progress:
                on_progress("import", base + position, total)

        posts = iter_jsonl(
            path,
            report,
            default_source=default_source,
            bounds=bounds,
            snapshots=snapshots,
            on_position=tell,
        )
        store_posts(store, noting(tag_regions(posts, gazetteer)), report, progress=progress)
        if snapshots:
            report.snapshots += store.add_snapshots(snapshots)
        done_before += path.stat().st_size
        if on_progress:
            on_progress("import", done_before, total)
    if scorer is not None and roots:
        _rescore(store, scorer, list(roots), report, on_progress)
    return report


def default_workers() -> int:
    """Worker processes for preparing posts: leave one core to the writer."""
    return max(1, (os.cpu_count() or 2) - 1)


def _prepare_events(
    group: list[EventFiles],
    bounds: DateBounds | None,
    scoring: WorkerScoring | None,
    gazetteer: Gazetteer | None = None,
) -> list[PreparedEvent]:
    """The group's events, ready for the store; with ``scoring`` each event's
    ``scoring_row`` is its thread's score (one model call for the group), and
    ``unscored`` says why there is none when the model could not be loaded."""
    thread_row = scoring.row if scoring is not None else None
    events = [prepare_event(files, bounds, thread_row, gazetteer) for files in group]
    if scoring is None:
        return events
    scored = [i for i, e in enumerate(events) if e.source_id is not None]
    scores, failed = scoring.score([events[i].scoring_row for i in scored])
    for i, score in zip(scored, scores, strict=True):
        events[i] = events[i]._replace(scoring_row=score, unscored=failed)
    return events


@contextlib.contextmanager
def _young_collections_only() -> Iterator[None]:
    """No automatic cyclic garbage collection inside: the caller runs ``gc.collect(0)``
    after each batch. A million posts are tens of millions of container allocations, and
    the automatic collector's passes over its older generations rescan everything alive
    (modules, the rumor model, the rows in flight) again and again: 5-7 % of an import's
    CPU. The import's own objects hold no reference cycles (they are freed by reference
    counting); a young-generation pass per batch still collects any cycle made there."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _packed(
    work: Callable[[list[EventFiles]], list[PreparedEvent]], group: list[EventFiles]
) -> bytes:
    """``work(group)`` pickled in the worker without pickle's memo (our rows hold no shared
    or recursive objects): half the pickling time of the pool's own pickler, which tracks
    every one of a million posts' dozen fields. The pool then sends plain bytes."""
    with _young_collections_only():
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True  # no memo
        pickler.dump(work(group))
        del pickler
        out = buffer.getvalue()
    gc.collect(0)
    return out


def tag_regions(posts: Iterable[Post], gazetteer: Gazetteer | None) -> Iterator[Post]:
    """Region tags from the gazetteer (as the crawler's region pipeline gives them): a post
    that names no place inherits the tags of its thread's source post. Posts that already
    carry tags (an export of tagged posts) keep them."""
    tagger = tagger_for(gazetteer)
    by_root: dict[str, list[str]] = {}
    for post in posts:
        if tagger is not None and not post.region_tags:
            tags = tagger.tag(post.title, post.text)
            if not tags and post.root_id:
                tags = by_root.get(post.root_id, [])
            post.region_tags = tags
        if post.root_id is None and post.region_tags:
            by_root[post.id] = post.region_tags
        yield post


def _in_order(
    groups: list[list[EventFiles]], workers: int, work: Callable[[list[EventFiles]], Any]
) -> Iterator[PreparedEvent]:
    """Prepared events in input order, with at most ``AHEAD_PER_WORKER * workers + 1``
    groups pending."""
    if workers <= 1 and len(groups) <= 1:
        for group in groups:
            yield from work(group)
        return
    # spawn, not fork: forking a process that runs threads (progress bars) is unsafe.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=restore, initargs=(snapshot(),)
    ) as pool:
        pending: deque[Future[list[PreparedEvent]]] = deque()
        queue = iter(groups)
        packed = functools.partial(_packed, work)
        for group in islice(queue, AHEAD_PER_WORKER * workers + 1):
            pending.append(pool.submit(packed, group))
        while pending:
            results = pickle.loads(pending.popleft().result())  # our own workers' rows
            for group in islice(queue, 1):
                pending.append(pool.submit(packed, group))
            yield from results


def import_ced(
    store: Store,
    root: Path,
    *,
    progress: Progress | None = None,
    on_root: Callable[[str], None] | None = None,
    on_progress: OnProgress | None = None,
    scorer: ImportScorer | None = None,
    bounds: DateBounds | None = None,
    workers: int | None = None,
    batch_size: int = 5000,
    gazetteer: Gazetteer | None = None,
) -> ImportReport:
    """Import a CED-layout directory: source posts, reposts, derived metric snapshots, and
    (with ``scorer``) the rumor score of every source post.

    Threads are scored from memory, in the worker that prepared them; their scores are
    stored right after their batch is written, for a thread whose
    stored copy holds exactly what was just written (every post of the batch new, and no
    other post stored under its root) gets the score scoring the stored thread would give.
    Otherwise (a re-import, or posts of the thread already stored by another import) the
    threads are scored from the store after the import, as ``nlp.rumor.scoring`` does.
    Progress: phase ``import`` counts events (files) out of the total.
    """
    report = ImportReport()
    files = event_files(root, report)
    total = len(files)
    groups = list(_batched(files, EVENT_GROUP))
    bounds = bounds or DateBounds.of()
    work = functools.partial(
        _prepare_events,
        bounds=bounds,
        scoring=scorer.worker if scorer else None,
        gazetteer=gazetteer or None,
    )
    seen_roots: dict[str, None] = {}
    buffer: list[PreparedPost] = []
    snapshots: list[MetricSnapshot] = []
    in_batch: list[tuple[str, Any, int]] = []  # root, score, posts under that root
    ready: list[tuple[str, Any]] = []  # root, score: verified in memory, to be stored
    unscored: str | None = None  # why the workers gave no scores (the model did not load)
    from_store = False  # memory no longer agrees with the store: score from the store
    # Nothing stored yet: every thread stored under a root is the one this import wrote
    # (each source post is imported once), so memory needs no check against the store.
    fresh = scorer is not None and store.count_posts() == 0

    def score_ready() -> None:
        if scorer is None or not ready:
            return
        updates = {root_id: {"rumor_score": score} for root_id, score in ready}
        report.scored += store.set_post_fields(updates)
        ready.clear()

    def flush() -> None:
        nonlocal from_store
        if buffer:
            result = store.upsert_prepared(buffer)
            _count(report, result)
            if progress:
                progress(len(buffer))
            if scorer is not None and not from_store:
                roots = [r for r, _, _ in in_batch]
                expected = sum(n for _, _, n in in_batch)
                if result.inserted == len(buffer) and (
                    fresh or store.count_posts(PostFilter(root_ids=roots)) == expected
                ):
                    ready.extend((r, row) for r, row, _ in in_batch)
                else:
                    from_store = True
            in_batch.clear()
            buffer.clear()
        if snapshots:
            report.snapshots += store.add_snapshots(snapshots)
            snapshots.clear()
        score_ready()
        gc.collect(0)  # see _young_collections_only

    prepared = _in_order(groups, workers or default_workers(), work)

    def on_index(done: int, total: int) -> None:
        if on_progress:
            on_progress("index", done, total)

    with store.bulk_load(on_index), _young_collections_only():  # indexes built on leaving
        for done, event in enumerate(prepared, 1):
            report.merge(event.report)
            if event.source_id is not None:
                if event.source_id in seen_roots:
                    report.skip("duplicate id", event.source_id)
                else:
                    seen_roots[event.source_id] = None
                    if on_root:
                        on_root(event.source_id)
                    # Plain tuples in PreparedPost's field order.
                    buffer.extend(event.rows())  # type: ignore[arg-type]
                    snapshots.extend(event.snapshots)
                    in_batch.append((event.source_id, event.scoring_row, len(event.reposts)))
                    if event.unscored is not None and unscored is None:
                        unscored = event.unscored
                        scorer.unscored(unscored)  # type: ignore[union-attr]
                    if len(buffer) >= batch_size:
                        flush()
            if on_progress:
                on_progress("import", done, total)
        flush()
    if scorer is not None:
        if from_store:
            ready.clear()
            _rescore(store, scorer, list(seen_roots), report, on_progress)
        else:
            score_ready()
    return report
