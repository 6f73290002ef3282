"""Bulk import into a store: batching, counting and the hooks later stages add."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from ingest.ced import CedEvent, iter_events
from ingest.jsonl import iter_jsonl
from ingest.report import ImportReport
from models import MetricSnapshot, Post
from store import Store

Progress = Callable[[int], None]


def _batched(items: Iterable[Post], size: int) -> Iterator[list[Post]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


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
        result = store.upsert_posts(chunk)
        report.inserted += result.inserted
        report.updated += result.updated
        report.unchanged += result.unchanged
        for post_id, why in result.failed:
            report.skip(f"store rejected ({why})", post_id)
        if progress:
            progress(len(chunk))


def import_jsonl(
    store: Store,
    paths: list[Path],
    *,
    default_source: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    report = ImportReport()
    for path in paths:
        store_posts(
            store,
            iter_jsonl(path, report, default_source=default_source),
            report,
            progress=progress,
        )
    return report


def import_ced(
    store: Store,
    root: Path,
    *,
    progress: Progress | None = None,
    on_event: Callable[[CedEvent], None] | None = None,
) -> ImportReport:
    """Import a CED-layout directory: source posts, reposts, derived metric snapshots."""
    report = ImportReport()
    snapshots: list[MetricSnapshot] = []

    def posts() -> Iterator[Post]:
        for event in iter_events(root, report):
            snapshots.extend(event.snapshots())
            if on_event:
                on_event(event)
            yield from event.posts()

    store_posts(store, posts(), report, progress=progress)
    report.snapshots = store.add_snapshots(snapshots)
    return report
