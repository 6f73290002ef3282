"""The tokeniser's NFKC shortcut gives exactly what unicodedata gives."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest

from nlp.tokenize import _nfkc, cut, normalise

TRICKY = [
    "",
    "纯中文没有全角标点",
    "全角标点，句号。问号？叹号！",
    "ＡＢＣ１２３　全角字母和空格",
    "ｅ\u0301",  # a full-width letter followed by a combining accent: composes after mapping
    "Ａ\u0300",
    "\u00a8\u0301",  # a compatibility character whose NFKC itself combines
    "ｶﾞ",  # half-width katakana + voiced mark: two characters compose into one
    "①②③㈱㍿",
    "ﬁ ﬂ",  # ligatures outside the mapped blocks
    "가\u11a8",  # Hangul composition
    "A\u030a Å",
    "😀🇨🇳𠮷",
]


@pytest.mark.parametrize("text", TRICKY)
def test_nfkc_shortcut_is_exact(text: str) -> None:
    assert _nfkc(text) == unicodedata.normalize("NFKC", text)


def test_nfkc_shortcut_on_real_posts(ced_dir: Path) -> None:
    from ingest.ced import iter_events

    texts = []
    for event in itertools.islice(iter_events(ced_dir), 300):
        texts.append(event.source.text or "")
        texts.extend(r.text or "" for r in event.reposts[:20])
    assert [_nfkc(t) for t in texts] == [unicodedata.normalize("NFKC", t) for t in texts]


def test_cut_normalises_width_and_case() -> None:
    assert normalise("ＡＢＣ，Ｄｅｆ") == "abc,def"
    assert cut("ＡＢＣ和abc") == cut("abc和abc")
