"""The tokeniser's NFKC shortcut gives exactly what unicodedata gives."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest

from nlp import tokenize
from nlp.tokenize import _NOISE, _keep, _nfkc, _Verdicts, cut, normalise

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


ODD_TOKENS = [
    ",",
    "。",
    " ",
    "\u3000",
    "...",
    "t.cn",
    "3.5",
    "_",
    "a_b",
    "c++",
    "…",
    "😀",
    "#",
    "5%",
]


def _reference_keep(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t.isalnum() or (t.strip() and not _NOISE.match(t))]


def test_keep_remembers_verdicts_without_changing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = ["东城区", "abc", "123", *ODD_TOKENS]
    expected = _reference_keep(tokens)
    assert expected == ["东城区", "abc", "123", "t.cn", "3.5", "a_b", "c++", "5%"]
    monkeypatch.setattr(_Verdicts, "LIMIT", 4)
    monkeypatch.setattr(tokenize, "_VERDICTS", _Verdicts())
    for _ in range(3):  # first verdicts, remembered ones, and after the memory was cleared
        assert _keep(tokens) == expected
    assert len(tokenize._VERDICTS) <= 4


def test_cut_drops_the_same_tokens_as_the_plain_rule(ced_dir: Path) -> None:
    from ingest.ced import iter_events

    texts = [e.source.text or "" for e in itertools.islice(iter_events(ced_dir), 300)]
    raw = [tokenize._jieba().cut(normalise(t)) for t in texts]
    assert [cut(t) for t in texts] == [_reference_keep(r) for r in raw]


def test_joined_cut_equals_cutting_each_text(ced_dir: Path) -> None:
    # One tokeniser call for a batch: NUL between texts is a token of its own and changes
    # nothing around it (a trailing "\r", a leading combining mark, Latin runs).
    from ingest.ced import iter_events

    texts = [e.source.text or "" for e in itertools.islice(iter_events(ced_dir), 300)]
    texts += ["", "结尾\r", "\n开头", "\u0301ΣΑ", "abc", "def火灾", "", "ΟΔΟΣ"]
    expected: list[str] = []
    for text in texts:
        expected += [*tokenize.raw_cut(text), "\0"]
    assert tokenize.raw_cut_joined(texts) == expected[:-1]


def test_office_stopwords_reach_claims_and_incident_topics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp.claims import claim_tokens
    from nlp.incidents import content_tokens

    monkeypatch.setattr(tokenize, "_office_stopwords", frozenset())
    monkeypatch.setattr(tokenize, "_stopword_files", set())
    tokenize.stopwords.cache_clear()
    try:
        text = "东城发布：化工厂爆炸系谣言"
        assert "东城" in claim_tokens(text) and "东城" in content_tokens(text)
        words = tmp_path / "stop.txt"
        words.write_text("# sign-offs of the district's account\n东城\nＸＹ\n", "utf-8")
        assert tokenize.load_stopwords(words) == 2
        assert tokenize.load_stopwords(words) == 0  # idempotent
        assert {"东城", "xy"} <= tokenize.stopwords()  # normalised like tokens
        assert "的" in tokenize.stopwords()  # the bundled list stays
        assert "东城" not in claim_tokens(text) and "东城" not in content_tokens(text)
        assert "化工厂" in claim_tokens(text) and "化工厂" in content_tokens(text)
    finally:
        tokenize.stopwords.cache_clear()
