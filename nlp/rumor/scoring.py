"""Scoring stored posts: the step ``tingfeng import`` runs after new posts land.

A source post's score is recomputed from all of its reposts and comments stored so far, so
the score follows the spread as later imports bring more of them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models import Post
from nlp.rumor.features import RumorInput, to_matrix
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


def score_roots(store: Store, root_ids: Iterable[str], model: RumorModel | None = None) -> int:
    """Score source posts from their stored reposts and save ``rumor_score``.

    Ids that are not stored, or that are themselves reposts, are ignored. Returns the
    number of posts updated.
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
        scores = model.score(RumorInput.from_posts(s, children.get(s.id, [])) for s in sources)
        updates = {
            s.id: {"rumor_score": round(sc.probability, 4)}
            for s, sc in zip(sources, scores, strict=True)
        }
        updated += store.set_post_fields(updates)
    return updated


class ThreadScorer:
    """What ``ingest.pipeline`` needs to score threads while it imports them.

    ``thread_row`` runs in the import's worker processes; :meth:`score_rows` turns rows into
    the stored ``rumor_score`` (rounded as :func:`score_roots` rounds it); :meth:`rescore`
    scores threads from the store when memory does not hold all of them.
    """

    thread_row = staticmethod(thread_row)

    def __init__(self, model: RumorModel) -> None:
        self.model = model

    def score_rows(self, rows: list[list[Any]]) -> list[float]:
        probabilities = self.model.predict_proba(to_matrix(rows))
        return [round(float(p), 4) for p in probabilities]

    def rescore(self, store: Store, root_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(root_ids))
        # Small chunks: score_roots holds a chunk's whole threads in memory.
        return sum(
            score_roots(store, ids[i : i + RESCORE_CHUNK], model=self.model)
            for i in range(0, len(ids), RESCORE_CHUNK)
        )


#: Roots per store round-trip when rescoring from the store (bounds memory: CED threads
#: average ~400 posts, the largest tens of thousands).
RESCORE_CHUNK = 50
