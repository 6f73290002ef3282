"""The model input row of a thread held in memory, for import worker processes.

Apart from :mod:`nlp.rumor.scoring` so that a worker imports only the feature code (numpy),
not scikit-learn and the model: every worker of an import stays small.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
