"""Scoring a thread held in memory, in an import's worker processes.

Apart from :mod:`nlp.rumor.scoring` so that the process that builds a
:class:`WorkerScoring` (the import's writer) imports only the feature code (numpy), not
scikit-learn and the model: the model is loaded in the worker that scores, on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from models import Post
from nlp.rumor.features import RumorInput, prepare


def thread_row(
    source: Post,
    reposts: Iterable[Any],
    official: Any | None = None,
    *,
    offsets: Sequence[float] | None = None,
) -> list[Any] | None:
    """Exactly the row :func:`nlp.rumor.scoring.score_roots` builds from the stored thread,
    given the reposts in stored order (time, then insertion) as objects with the
    attributes of :class:`nlp.rumor.features.RepostLite` (``text`` never None; the
    importer passes its own rows, not copies); None where score_roots stores no score (a
    text too short to judge, or an official account's post when ``official`` is given).
    ``offsets``: see :func:`nlp.rumor.features.prepare`."""
    if official is not None and official.is_official(source):
        return None
    inp = RumorInput.from_posts(source)
    inp.reposts = list(reposts)
    prepared = prepare(inp, offsets=offsets)
    if prepared.unscorable(None):
        return None
    return prepared.row(None)[0]


#: Why the model could not be loaded in this process, by model path (a failed load is
#: not retried for every batch of threads).
_LOAD_FAILED: dict[str | None, str] = {}


@dataclass(frozen=True)
class WorkerScoring:
    """What an import's worker process needs to score the threads it prepares: picklable,
    and light to build (nothing here imports scikit-learn until :meth:`score` runs).

    ``model_path`` is the file the writer would load (``nlp.rumor_model``, None for the
    shipped model); the worker loads it with :func:`nlp.rumor.scoring.cached_model`, as
    the writer does, so the probabilities are the ones scoring in the writer gave."""

    model_path: str | None = None

    def row(
        self, source: Post, reposts: Iterable[Any], *, offsets: Sequence[float] | None = None
    ) -> list[Any] | None:
        """The thread's model row (:func:`thread_row`); None when it gets no score."""
        return thread_row(source, reposts, offsets=offsets)

    def score(self, rows: list[list[Any] | None]) -> tuple[list[float | None], str | None]:
        """The stored ``rumor_score`` of each row (rounded as ``score_roots`` rounds it), and
        None; or, when the model cannot be loaded, no score for any row and the reason."""
        failed = _LOAD_FAILED.get(self.model_path)
        if failed is None:
            from nlp.rumor.model import ModelError
            from nlp.rumor.scoring import ThreadScorer, cached_model

            try:
                return ThreadScorer(cached_model(self.model_path)).score_rows(rows), None
            except ModelError as exc:
                failed = _LOAD_FAILED[self.model_path] = str(exc)
        return [None] * len(rows), failed


class ImportScoring:
    """A CED import's thread scorer (``ingest.pipeline.ImportScorer``): the import's worker
    processes load the model and score the threads they prepare (:attr:`worker`), so the
    writer neither imports scikit-learn nor loads the model. Only a re-import (threads
    already stored, scored from the store by :meth:`rescore`) loads it in this process. A
    model that cannot be loaded scores nothing: the posts are imported, and
    :meth:`skipped_reason` says why."""

    def __init__(self, model_path: str | None = None) -> None:
        self.worker = WorkerScoring(model_path)
        self._reason: str | None = None

    def unscored(self, reason: str) -> None:
        self._reason = self._reason or reason

    def skipped_reason(self) -> str | None:
        return self._reason

    def rescore(self, store: Any, root_ids: Iterable[str]) -> int:
        from nlp.rumor.model import ModelError
        from nlp.rumor.scoring import ThreadScorer, cached_model

        try:
            model = cached_model(self.worker.model_path)
        except ModelError as exc:
            self.unscored(str(exc))
            return 0
        return ThreadScorer(model).rescore(store, root_ids)
