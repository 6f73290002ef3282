"""Rumor scoring of threads after they were stored (imports, crawls)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from store import Store
from tingfeng.config import Config


@dataclass
class ScoreOutcome:
    """What scoring did: how many source posts got a score, or why none did."""

    scored: int = 0
    #: Set when scoring was skipped (a broken or missing model): the posts stay stored.
    skipped_reason: str | None = None


def import_scorer(settings: Config) -> tuple[object | None, str | None]:
    """The scorer an import hands to ``ingest.pipeline`` (threads scored while in memory),
    or ``(None, reason)`` when the configured model cannot be loaded: the posts are
    imported either way."""
    from nlp.rumor.model import ModelError
    from nlp.rumor.scoring import ThreadScorer, cached_model

    path = settings.nlp.rumor_model
    try:
        return ThreadScorer(cached_model(str(path) if path else None)), None
    except ModelError as exc:
        return None, str(exc)


def score_threads(settings: Config, store: Store, root_ids: Iterable[str]) -> ScoreOutcome:
    """Score the threads whose source posts are ``root_ids`` with the configured model
    (``nlp.rumor_model``, else the shipped one)."""
    roots = list(root_ids)
    if not roots:
        return ScoreOutcome()
    from nlp.rumor.model import ModelError
    from nlp.rumor.scoring import cached_model, score_roots

    path = settings.nlp.rumor_model
    try:
        model = cached_model(str(path) if path else None)
    except ModelError as exc:
        # The posts are stored; a broken model must not undo the import, only be reported.
        return ScoreOutcome(skipped_reason=str(exc))
    return ScoreOutcome(scored=score_roots(store, roots, model=model))
