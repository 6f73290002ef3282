"""Tune the claim-matching threshold on CED source texts.

Run: ``python -m nlp.rumor.claims_tuning ../shared/datasets/ced``

Positives are pairs that make the same claim in different words, as they reappear on Weibo:
each source text against (a) a copy with its link, @-mentions and emoticons removed and a
"转发/扩散" prefix, and (b) a copy with a quarter of its words dropped. Negatives are the
hardest ones available: each text against its most similar *other* event (a different
source text). The threshold with the best F1 over both is printed; it is the default in
:mod:`nlp.claims`.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence

from nlp.claims import ClaimIndex, ClaimItem, clean
from nlp.tokenize import cut


def _variants(text: str, rng: random.Random) -> list[str]:
    prefixed = "扩散！" + clean(text)
    tokens = cut(text)
    kept = [t for t in tokens if rng.random() >= 0.25] or tokens
    return [prefixed, "".join(kept)]


def tune(texts: Sequence[str], seed: int = 0) -> tuple[float, float, list[tuple[float, float]]]:
    """Returns (best threshold, its F1, [(threshold, F1)...])."""
    rng = random.Random(seed)
    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    index = ClaimIndex(threshold=0.0)
    index.add(ClaimItem(str(i), t, None, "rumor") for i, t in enumerate(distinct))
    positives: list[float] = []
    negatives: list[float] = []
    for i, text in enumerate(distinct):
        for variant in _variants(text, rng):
            hit = [m for m in index.match(variant, top=3) if m.id == str(i)]
            positives.append(hit[0].similarity if hit else 0.0)
        others = index.match(text, top=2, exclude_ids=[str(i)])
        negatives.append(others[0].similarity if others else 0.0)
    curve = []
    for step in range(10, 95):
        threshold = step / 100
        tp = sum(s >= threshold for s in positives)
        fp = sum(s >= threshold for s in negatives)
        fn = len(positives) - tp
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        curve.append((threshold, f1))
    best = max(curve, key=lambda c: c[1])
    return best[0], best[1], curve


def main(argv: list[str]) -> None:
    from ingest.ced import iter_events

    texts = [e.source.text for e in iter_events(argv[0])]
    threshold, f1, curve = tune(texts)
    for t, f in curve[::5]:
        print(f"threshold {t:.2f}  F1 {f:.3f}")
    print(f"best threshold {threshold:.2f} (F1 {f1:.3f}) over {len(texts)} texts")


if __name__ == "__main__":
    main(sys.argv[1:])
