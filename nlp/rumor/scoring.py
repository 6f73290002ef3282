"""Scoring stored posts: the step ``tingfeng import`` runs after new posts land.

A source post's score is recomputed from all of its reposts and comments stored so far, so
the score follows the spread as later imports bring more of them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models import Post
from nlp.rumor.features import RumorInput, to_matrix
from nlp.rumor.incident import OfficeAccounts
from nlp.rumor.model import RumorModel, load_model
from nlp.rumor.thread import thread_row

if TYPE_CHECKING:
    from store.base import Store

log = logging.getLogger(__name__)
#: Roots scored per store round-trip: bounds memory on imports of millions of posts.
BATCH = 500


@lru_cache(maxsize=4)
def cached_model(path: str | None = None) -> RumorModel:
    """The model at ``path`` (shipped model when None), loaded once per process."""
    return load_model(Path(path) if path else None)


def score_roots(
    store: Store,
    root_ids: Iterable[str],
    model: RumorModel | None = None,
    *,
    office: OfficeAccounts | Any | None = None,
) -> int:
    """Score source posts from their stored reposts and save ``rumor_score``.

    Ids that are not stored, or that are themselves reposts, are ignored. A post too short
    to score is saved with no score; so is, when ``office`` is given (the ``office:``
    configuration section or :class:`nlp.rumor.incident.OfficeAccounts`), a post of an
    official account: it is never a rumor. Without ``office`` every post is scored (a CED
    import keeps the scores of its government and media accounts' posts); the incident
    score sets official posts apart either way. Returns the number of posts updated.
    """
    from store.base import PostFilter

    model = model or cached_model()
    ids = list(dict.fromkeys(root_ids))
    updated = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        sources = [p for p in store.get_posts(chunk) if p.root_id in (None, p.id)]
        if not sources:
            continue
        children: dict[str, list[Post]] = defaultdict(list)
        wanted = {p.id for p in sources}
        for post in store.iter_posts(PostFilter(root_ids=sorted(wanted))):
            if post.root_id in wanted and post.id != post.root_id:
                children[post.root_id].append(post)
        accounts = None if office is None else OfficeAccounts.of(office)
        official = {s.id for s in sources if accounts and accounts.is_official(s)}
        rest = [s for s in sources if s.id not in official]
        scores = model.score(RumorInput.from_posts(s, children.get(s.id, [])) for s in rest)
        updates: dict[str, dict[str, Any]] = {i: {"rumor_score": None} for i in official}
        for s, sc in zip(rest, scores, strict=True):
            value = None if sc.probability is None else round(sc.probability, 4)
            updates[s.id] = {"rumor_score": value}
        updated += store.set_post_fields(updates)
    return updated


class ThreadScorer:
    """What ``ingest.pipeline`` needs to score threads while it imports them.

    ``thread_row`` runs in the import's worker processes; :meth:`score_rows` turns rows into
    the stored ``rumor_score`` (rounded as :func:`score_roots` rounds it); :meth:`rescore`
    scores threads from the store when memory does not hold all of them.
    """

    def __init__(self, model: RumorModel, office: OfficeAccounts | Any | None = None) -> None:
        self.model = model
        # The same rules as score_roots: with ``office`` an official account's thread is
        # not scored; a text too short is not scored either way (thread_row gives None).
        self.thread_row = (
            thread_row
            if office is None
            else partial(thread_row, official=OfficeAccounts.of(office))
        )
        self._office = office

    def score_rows(self, rows: list[list[Any] | None]) -> list[float | None]:
        kept = [row for row in rows if row is not None]
        probabilities = iter(self.model.predict_proba(to_matrix(kept)) if kept else ())
        return [None if row is None else round(float(next(probabilities)), 4) for row in rows]

    def rescore(self, store: Store, root_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(root_ids))
        # Small chunks: score_roots holds a chunk's whole threads in memory.
        return sum(
            score_roots(store, ids[i : i + RESCORE_CHUNK], model=self.model, office=self._office)
            for i in range(0, len(ids), RESCORE_CHUNK)
        )


#: Roots per store round-trip when rescoring from the store (bounds memory: CED threads
#: average ~400 posts, the largest tens of thousands).
RESCORE_CHUNK = 50
