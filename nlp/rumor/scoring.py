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
from nlp.rumor.features import RumorInput
from nlp.rumor.incident import OfficeAccounts
from nlp.rumor.model import RumorModel, load_model

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
