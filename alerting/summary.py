"""Extractive summary of an incident: TextRank over sentences of its own posts.

Nothing here writes a sentence: the summary is a few sentences that residents or
official accounts posted, chosen by how central they are among all the incident's
sentences (a sentence that shares words with many others describes the common core).

Sentences are compared by the TextRank overlap measure (shared content tokens over the
log of both lengths, Mihalcea & Tarau 2004) and ranked by a damped power iteration on
that weighted graph; near-identical sentences (copies, reposts) are kept once, so a
rumor copied 200 times does not fill the summary with itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.tokenize import cut, stopwords

_NOISE = re.compile(
    r"https?://\S*|t\.cn/\S*|@[\w\-]+|\[[^\]\s]{1,8}\]|//@.*$|#[^#\s]{1,30}#", re.DOTALL
)
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|\n+")
#: Sentences shorter than this (characters) carry no fact worth quoting ("求证！", "转发").
MIN_CHARS = 8
MAX_CHARS = 120
#: Jaccard overlap of token sets above which a sentence is a copy of one already chosen.
COPY_OVERLAP = 0.7


@dataclass(frozen=True)
class Sentence:
    """One sentence, with the post it came from."""

    text: str
    post_id: str
    position: int  # order of appearance over the whole incident


def strip_noise(text: str) -> str:
    """The post's own words, as written (full-width punctuation kept): without links,
    mentions, emoticon codes, hashtags and quoted repost chains."""
    return re.sub(r"[ \t]+", " ", _NOISE.sub(" ", text or "")).strip()


def split_sentences(text: str) -> list[str]:
    out = []
    for part in _SENTENCE_END.split(strip_noise(text)):
        part = part.strip(" ，,、")
        if MIN_CHARS <= len(part) <= MAX_CHARS:
            out.append(part)
    return out


def _tokens(text: str) -> frozenset[str]:
    stop = stopwords()
    return frozenset(t for t in cut(text) if t not in stop and not t.isdigit() and len(t) > 1)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    if not shared or len(a) < 2 or len(b) < 2:
        return 0.0
    return shared / (math.log(len(a)) + math.log(len(b)))


def pagerank(
    weights: Sequence[Sequence[float]],
    damping: float = 0.85,
    iterations: int = 100,
    tol: float = 1e-6,
) -> list[float]:
    """Scores of a weighted graph by power iteration (dense: n is a few hundred sentences).

    A node without edges keeps the teleport share only; scores sum to 1.
    """
    n = len(weights)
    if n == 0:
        return []
    w = np.asarray(weights, dtype=float)
    out = w.sum(axis=1)
    # column-stochastic transition: node j passes its score along its edges
    transition = np.divide(w, out[:, None], out=np.zeros_like(w), where=out[:, None] > 0).T
    dangling = out == 0
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        spread = damping * (transition @ scores + scores[dangling].sum() / n)
        new = (1 - damping) / n + spread
        done = np.abs(new - scores).sum() < tol
        scores = new
        if done:
            break
    return (scores / scores.sum()).tolist()


def summarise(
    posts: Iterable[tuple[str, str]], *, sentences: int = 3, max_input: int = 200
) -> list[Sentence]:
    """The ``sentences`` most central sentences of ``(post_id, text)`` pairs, in the order
    they first appeared. At most ``max_input`` distinct sentences are ranked (the earliest),
    which bounds the quadratic graph."""
    pool: list[Sentence] = []
    token_sets: list[frozenset[str]] = []
    seen: set[str] = set()
    for post_id, text in posts:
        for sentence in split_sentences(text):
            if sentence in seen:
                continue
            seen.add(sentence)
            tokens = _tokens(sentence)
            if len(tokens) < 2:
                continue
            pool.append(Sentence(sentence, post_id, len(pool)))
            token_sets.append(tokens)
            if len(pool) >= max_input:
                break
        if len(pool) >= max_input:
            break
    if not pool:
        return []
    weights = [
        [0.0 if i == j else _similarity(token_sets[i], token_sets[j]) for j in range(len(pool))]
        for i in range(len(pool))
    ]
    scores = pagerank(weights)
    ranked = sorted(range(len(pool)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    for i in ranked:
        if any(_jaccard(token_sets[i], token_sets[j]) >= COPY_OVERLAP for j in chosen):
            continue
        chosen.append(i)
        if len(chosen) >= sentences:
            break
    return [pool[i] for i in sorted(chosen)]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0
