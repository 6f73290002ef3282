"""Bulk import into a store: batching, counting, and preparing posts in worker processes.

Reading, validating and tokenising are CPU work that parallelises; SQLite has one writer.
So workers turn files into :class:`store.base.PreparedPost` rows and the parent process
only writes. Results are consumed in input order through a bounded window of pending
work, so memory stays flat however large the import.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

from ingest.ced import EventFiles, event_files, load_event
from ingest.jsonl import iter_jsonl
from models import MetricSnapshot, Post
from nlp.tokenize import restore, snapshot
from store import Store
from store.base import PreparedPost, UpsertResult
from text.gazetteer import RegionTagger
from text.report import ImportReport

Progress = Callable[[int], None]
Gazetteer = dict[str, list[str]]


def tag_regions(posts: Iterable[Post], tagger: RegionTagger | None) -> Iterator[Post]:
    """Region tags from the gazetteer (as the crawler's region pipeline gives them): a post
    that names no place inherits the tags of its thread's source post. Posts that already
    carry tags (an export of tagged posts) keep them."""
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


_taggers: dict[str, RegionTagger] = {}


def _tagger(gazetteer: Gazetteer | None) -> RegionTagger | None:
    """One tagger per gazetteer per process (workers build theirs once)."""
    if not gazetteer:
        return None
    key = repr(sorted(gazetteer.items()))
    if key not in _taggers:
        _taggers[key] = RegionTagger(gazetteer)
    return _taggers[key]


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


def import_jsonl(
    store: Store,
    paths: list[Path],
    *,
    default_source: str | None = None,
    progress: Progress | None = None,
    on_root: Callable[[str], None] | None = None,
    gazetteer: Gazetteer | None = None,
) -> ImportReport:
    """Import JSON-lines files. ``on_root`` gets the source post of each imported post's
    thread (its ``root_id``, or its own id), once per thread, for scoring after import.
    ``gazetteer``: tag posts with the districts they mention (:func:`tag_regions`)."""
    report = ImportReport()
    roots: set[str] = set()

    def noting(posts: Iterable[Post]) -> Iterator[Post]:
        for post in posts:
            root = post.root_id or post.id
            if on_root is not None and root not in roots:
                roots.add(root)
                on_root(root)
            yield post

    for path in paths:
        posts = tag_regions(
            iter_jsonl(path, report, default_source=default_source), _tagger(gazetteer)
        )
        store_posts(store, noting(posts), report, progress=progress)
    return report


def default_workers() -> int:
    """Worker processes for preparing posts: leave one core to the writer."""
    return max(1, (os.cpu_count() or 2) - 1)


EventResult = tuple[ImportReport, str | None, list[tuple[Any, ...]], list[MetricSnapshot]]


def _prepare_events(
    group: list[EventFiles], gazetteer: Gazetteer | None = None
) -> list[EventResult]:
    out = []
    tagger = _tagger(gazetteer)
    for files in group:
        report = ImportReport()
        event = load_event(files, report)
        if event is None:
            out.append((report, None, [], []))
            continue
        posts = tag_regions(event.posts(), tagger)
        prepared = [tuple(PreparedPost.of(p)) for p in posts]
        out.append((report, event.source.id, prepared, event.snapshots()))
    return out


def _in_order(
    groups: list[list[EventFiles]], workers: int, gazetteer: Gazetteer | None = None
) -> Iterator[EventResult]:
    """Prepared events in input order, with at most ``2 * workers + 1`` groups pending."""
    if workers <= 1 and len(groups) <= 1:
        for group in groups:
            yield from _prepare_events(group, gazetteer)
        return
    # spawn, not fork: forking a process that runs threads (progress bars) is unsafe.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=restore, initargs=(snapshot(),)
    ) as pool:
        pending: deque[Future[list[EventResult]]] = deque()
        queue = iter(groups)
        for group in islice(queue, 2 * workers + 1):
            pending.append(pool.submit(_prepare_events, group, gazetteer))
        while pending:
            results = pending.popleft().result()
            for group in islice(queue, 1):
                pending.append(pool.submit(_prepare_events, group, gazetteer))
            yield from results


def import_ced(
    store: Store,
    root: Path,
    *,
    progress: Progress | None = None,
    on_root: Callable[[str], None] | None = None,
    workers: int | None = None,
    batch_size: int = 5000,
    gazetteer: Gazetteer | None = None,
) -> ImportReport:
    """Import a CED-layout directory: source posts, reposts, derived metric snapshots.
    ``gazetteer``: tag posts with the districts they mention (:func:`tag_regions`)."""
    report = ImportReport()
    files = event_files(root, report)
    groups = list(_batched(files, 8))
    seen_roots: set[str] = set()
    buffer: list[PreparedPost] = []
    snapshots: list[MetricSnapshot] = []

    def flush() -> None:
        if buffer:
            _count(report, store.upsert_prepared(buffer))
            if progress:
                progress(len(buffer))
            buffer.clear()
        if snapshots:
            report.snapshots += store.add_snapshots(snapshots)
            snapshots.clear()

    for part, root_id, prepared, snaps in _in_order(
        groups, workers or default_workers(), gazetteer
    ):
        report.merge(part)
        if root_id is None:
            continue
        if root_id in seen_roots:
            report.skip("duplicate id", root_id)
            continue
        seen_roots.add(root_id)
        if on_root:
            on_root(root_id)
        buffer.extend(PreparedPost._make(p) for p in prepared)
        snapshots.extend(snaps)
        if len(buffer) >= batch_size:
            flush()
    flush()
    return report
