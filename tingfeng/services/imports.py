"""Imports: JSON lines and the CED research layout, with rumor scoring of the threads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store import Store
from text.report import ImportReport
from tingfeng.config import Config
from tingfeng.services.errors import ServiceError
from tingfeng.services.score import ScoreOutcome, import_scorer

#: ``(phase, done, total)``: see ``ingest.pipeline.PHASES`` for the phase names.
OnProgress = Callable[[str, int, int | None], None]


@dataclass
class ImportOutcome:
    """An import's counts and the scoring done with it."""

    report: ImportReport
    scoring: ScoreOutcome = field(default_factory=ScoreOutcome)

    @property
    def failed(self) -> bool:
        """Nothing could be imported although there was input (exit status 1)."""
        r = self.report
        return (r.imported == 0 and r.read > 0) or (r.read == 0 and bool(r.skipped))


def check_jsonl_inputs(files: list[Path]) -> list[Path]:
    """Every input file is readable, before a store is opened (``IngestError`` otherwise)."""
    from ingest.errors import check_inputs

    return check_inputs(files)


def check_ced_dir(directory: Path) -> None:
    """``directory`` is in the CED layout, before a store is opened."""
    if not (directory / "original-microblog").is_dir():
        raise ServiceError(f"{directory}: 不是 CED 数据目录（没有 original-microblog/ 文件夹）")


def import_jsonl_files(
    settings: Config,
    store: Store,
    files: list[Path],
    *,
    default_source: str | None = None,
    on_progress: OnProgress | None = None,
    score: bool = True,
) -> ImportOutcome:
    """Import JSON-lines files (the format :func:`tingfeng.services.export.export_posts`
    writes, metric snapshot lines included); posts are region-tagged from the gazetteer and
    their threads scored. Dates outside ``ingest:`` bounds are refused and counted."""
    from ingest.bounds import DateBounds
    from ingest.pipeline import import_jsonl

    scorer, skipped = import_scorer(settings) if score else (None, None)
    report = import_jsonl(
        store,
        files,
        default_source=default_source,
        on_progress=on_progress,
        scorer=scorer,  # type: ignore[arg-type]
        bounds=DateBounds.of(settings.ingest),
        gazetteer=settings.gazetteer,
    )
    return ImportOutcome(report, ScoreOutcome(scored=report.scored, skipped_reason=skipped))


def _import_scoring(settings: Config) -> Any:
    """Scoring in the import's worker processes with the model :func:`import_scorer`
    loads (``nlp.rumor_model``, else the shipped one): the writer never loads it unless
    it has to score threads from the store (a re-import)."""
    from nlp.rumor.thread import ImportScoring

    path = settings.nlp.rumor_model
    return ImportScoring(str(path) if path else None)


def import_ced_dir(
    settings: Config,
    store: Store,
    directory: Path,
    *,
    on_progress: OnProgress | None = None,
    score: bool = True,
    workers: int | None = None,
) -> ImportOutcome:
    """Import a CED-layout directory (source posts, reposts, derived metric snapshots);
    source posts are region-tagged from the gazetteer, every thread scored in memory."""
    from ingest.bounds import DateBounds
    from ingest.pipeline import import_ced

    check_ced_dir(directory)
    scorer = _import_scoring(settings) if score else None
    report = import_ced(
        store,
        directory,
        on_progress=on_progress,
        scorer=scorer,  # type: ignore[arg-type]
        bounds=DateBounds.of(settings.ingest),
        workers=workers,
        gazetteer=settings.gazetteer,
    )
    skipped = scorer.skipped_reason() if scorer is not None else None
    return ImportOutcome(report, ScoreOutcome(scored=report.scored, skipped_reason=skipped))
