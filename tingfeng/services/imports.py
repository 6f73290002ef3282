"""Imports: JSON lines and the CED research layout, followed by rumor scoring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from store import Store
from text.report import ImportReport
from tingfeng.config import Config
from tingfeng.services.errors import ServiceError
from tingfeng.services.score import ScoreOutcome, score_threads

Progress = Callable[[int], None]


@dataclass
class ImportOutcome:
    """An import's counts and the scoring that followed it."""

    report: ImportReport
    scoring: ScoreOutcome = field(default_factory=ScoreOutcome)

    @property
    def failed(self) -> bool:
        """Nothing could be imported although there was input (exit status 1)."""
        r = self.report
        return (r.imported == 0 and r.read > 0) or (r.read == 0 and bool(r.skipped))


def import_jsonl_files(
    settings: Config,
    store: Store,
    files: list[Path],
    *,
    default_source: str | None = None,
    progress: Progress | None = None,
    score: bool = True,
) -> ImportOutcome:
    """Import JSON-lines files (the format :func:`tingfeng.services.export.export_posts`
    writes); posts are region-tagged from the gazetteer, then their threads scored."""
    from ingest.pipeline import import_jsonl

    roots: list[str] = []
    report = import_jsonl(
        store,
        files,
        default_source=default_source,
        progress=progress,
        on_root=roots.append,
        gazetteer=settings.gazetteer,
    )
    scoring = score_threads(settings, store, roots) if score else ScoreOutcome()
    return ImportOutcome(report, scoring)


def import_ced_dir(
    settings: Config,
    store: Store,
    directory: Path,
    *,
    progress: Progress | None = None,
    score: bool = True,
    workers: int | None = None,
) -> ImportOutcome:
    """Import a CED-layout directory (source posts, reposts, derived metric snapshots);
    posts are region-tagged from the gazetteer, then every thread scored."""
    from ingest.pipeline import import_ced

    if not (directory / "original-microblog").is_dir():
        raise ServiceError(f"{directory}: not a CED directory (no original-microblog/ folder)")
    roots: list[str] = []
    report = import_ced(
        store,
        directory,
        progress=progress,
        on_root=roots.append,
        workers=workers,
        gazetteer=settings.gazetteer,
    )
    scoring = score_threads(settings, store, roots) if score else ScoreOutcome()
    return ImportOutcome(report, scoring)
