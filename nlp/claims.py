"""Claim matching: find earlier rumors and bulletins that say the same thing as a new text.

:class:`ClaimIndex` is a pure in-memory index fed with ``(id, text, date, kind, link)``
items, so it is testable without a store or a clock; :func:`index_from_store` fills it from
stored rumors (high rumor score or labelled rumor) and bulletins.

Similarity is the cosine of TF-IDF vectors over ``nlp.tokenize.cut`` tokens (stopwords,
links, @-mentions, emoticon codes and quoted repost chains removed), which tolerates
rewording and reordering; a near-duplicate flag is set from the overlap of character
3-grams, which catches copies with a changed link or a prefix. The default threshold was
tuned on CED (see ``python -m nlp.rumor.claims_tuning`` and docs/rumor.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nlp.tokenize import cut, normalise, stopwords

if TYPE_CHECKING:
    from store.base import Store

#: Cosine similarity at or above which two texts are taken to make the same claim.
#: Tuned on CED (2721 source texts): F1 0.927 at 0.51 between rewrites of a text and each
#: text's closest other event, flat (≥ 0.925) from 0.35 to 0.60.
DEFAULT_THRESHOLD = 0.5
#: Character-3-gram containment at or above which a match is flagged as a near-duplicate.
NEAR_DUPLICATE = 0.8

_NOISE = re.compile(r"https?://\S*|t\.cn/\S*|@[\w\-]+|\[[^\]\s]{1,8}\]|//@.*$", re.DOTALL)
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """The claim part of a post: without links, mentions, emoticon codes, repost chains."""
    return _SPACES.sub(" ", _NOISE.sub(" ", normalise(text or ""))).strip()


def claim_tokens(text: str) -> list[str]:
    stop = stopwords()
    return [t for t in cut(clean(text)) if t not in stop and not t.isdigit()]


def _shingles(text: str, n: int = 3) -> set[str]:
    compact = re.sub(r"\W+", "", clean(text))
    if len(compact) <= n:
        return {compact} if compact else set()
    return {compact[i : i + n] for i in range(len(compact) - n + 1)}


@dataclass(frozen=True)
class ClaimItem:
    """Something already said: a rumor post or a bulletin."""

    id: str
    text: str
    date: datetime | None
    kind: str  # "rumor" | "bulletin" | anything the caller uses
    link: str | None = None


@dataclass
class ClaimMatch:
    id: str
    kind: str
    date: datetime | None
    link: str | None
    similarity: float
    near_duplicate: bool
    text: str

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["date"] = self.date.isoformat() if self.date else None
        return out

    def sentence(self) -> str:
        """What an officer reads, e.g. 「2013-05-02 已有类似谣言（相似度 0.82）: <link>」."""
        when = self.date.date().isoformat() if self.date else "日期不详"
        what = "辟谣/通报" if self.kind == "bulletin" else "类似谣言"
        return f"{when} 已有{what}（相似度 {self.similarity:.2f}）：{self.link or self.id}"


class ClaimIndex:
    """Inverted index of earlier claims with TF-IDF cosine search.

    Parameters
    ----------
    threshold : float
        Minimum cosine similarity for a match.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._items: list[ClaimItem] = []
        self._tf: list[Counter[str]] = []
        self._shingles: list[set[str]] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._df: Counter[str] = Counter()
        self._norms: list[float] | None = None
        self._ids: set[str] = set()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, items: Iterable[ClaimItem]) -> int:
        """Add items (an id already present is skipped); returns how many were added."""
        added = 0
        for item in items:
            if item.id in self._ids or not (item.text or "").strip():
                continue
            tf = Counter(claim_tokens(item.text))
            if not tf:
                continue
            index = len(self._items)
            self._ids.add(item.id)
            self._items.append(item)
            self._tf.append(tf)
            self._shingles.append(_shingles(item.text))
            for token in tf:
                self._postings[token].append(index)
                self._df[token] += 1
            added += 1
        if added:
            self._norms = None
        return added

    def _idf(self, token: str) -> float:
        return math.log((1 + len(self._items)) / (1 + self._df.get(token, 0))) + 1.0

    def _weights(self, tf: Counter[str]) -> dict[str, float]:
        return {t: (1 + math.log(c)) * self._idf(t) for t, c in tf.items()}

    def _norm(self, index: int) -> float:
        if self._norms is None:
            self._norms = [
                math.sqrt(sum(w * w for w in self._weights(tf).values())) or 1.0 for tf in self._tf
            ]
        return self._norms[index]

    def match(
        self,
        text: str,
        *,
        top: int = 5,
        before: datetime | None = None,
        exclude_ids: Iterable[str] = (),
        threshold: float | None = None,
    ) -> list[ClaimMatch]:
        """Earlier claims similar to ``text``, best first.

        ``before`` keeps only items dated before it (items without a date are kept), so
        a post is matched against what was said earlier, not against itself.
        """
        threshold = self.threshold if threshold is None else threshold
        query = self._weights(Counter(claim_tokens(text)))
        if not query or not self._items:
            return []
        q_norm = math.sqrt(sum(w * w for w in query.values()))
        dots: dict[int, float] = defaultdict(float)
        for token, weight in query.items():
            for index in self._postings.get(token, ()):
                doc_weight = (1 + math.log(self._tf[index][token])) * self._idf(token)
                dots[index] += weight * doc_weight
        skip = set(exclude_ids)
        query_shingles = _shingles(text)
        matches = []
        for index, dot in dots.items():
            similarity = dot / (q_norm * self._norm(index))
            item = self._items[index]
            if similarity < threshold or item.id in skip:
                continue
            if before is not None and item.date is not None and item.date >= before:
                continue
            matches.append(
                ClaimMatch(
                    id=item.id,
                    kind=item.kind,
                    date=item.date,
                    link=item.link,
                    similarity=round(min(similarity, 1.0), 4),
                    near_duplicate=_containment(query_shingles, self._shingles[index])
                    >= NEAR_DUPLICATE,
                    text=item.text,
                )
            )
        # Equal similarity: the earliest claim first, it is the one an answer referred to.
        matches.sort(key=lambda m: (-m.similarity, m.date.timestamp() if m.date else math.inf))
        return matches[:top]


def _containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set's shingles found in the other: a copy with a prefix or an
    appended link still scores near 1."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def index_from_store(
    store: Store, *, min_rumor_score: float = 0.8, limit: int = 100_000
) -> ClaimIndex:
    """Index stored rumors (score ≥ ``min_rumor_score`` or labelled rumor) and published
    bulletins."""
    from models import Bulletin
    from store.base import PostFilter

    index = ClaimIndex()
    items: list[ClaimItem] = []
    for post in store.iter_posts(PostFilter(min_rumor_score=min_rumor_score, kinds=["post"])):
        items.append(ClaimItem(post.id, post.text, post.created_at, "rumor", post.url))
        if len(items) >= limit:
            break
    for bulletin in store.list_records(Bulletin, limit=limit):
        # A draft (with its [待核实] gaps) is nobody's answer yet: only what was published.
        if bulletin.status != "published":
            continue
        when = bulletin.published_at or bulletin.created_at
        text = f"{bulletin.title} {bulletin.body}"
        items.append(ClaimItem(bulletin.id, text, when, "bulletin", bulletin.published_url))
    index.add(items)
    return index
