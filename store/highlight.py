"""Snippets with highlighted query words, computed the same way for every backend.

Backends index space-joined jieba tokens, so their own highlighters would return spaced-out
text; instead the page of hits is highlighted here on the original text.
"""

from __future__ import annotations

import re

from nlp.tokenize import cut, normalise

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def query_terms(text: str) -> list[str]:
    return sorted({t for t in cut(text) if t}, key=len, reverse=True)


def snippet(text: str, terms: list[str], width: int = 80) -> str:
    """A window of ``text`` around the first query term, terms wrapped in ``<mark>``.

    The text is HTML-escaped first, so snippets are safe to show in a page.
    """
    import html

    if not text:
        return ""
    folded = normalise(text)
    if len(folded) != len(text):  # NFKC changed the length: match on the original instead
        folded = text.lower()
    first = min((i for i in (folded.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, first - width // 4)
    end = min(len(text), start + width)
    piece, low = text[start:end], folded[start:end]
    spans: list[tuple[int, int]] = []
    for term in terms:
        for m in re.finditer(re.escape(term), low):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    out, pos = [], 0
    for s, e in sorted(spans):
        out += [html.escape(piece[pos:s]), MARK_OPEN, html.escape(piece[s:e]), MARK_CLOSE]
        pos = e
    out.append(html.escape(piece[pos:]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")
