"""FastTfidfVectorizer: the same matrix as scikit-learn's transform, on real and odd text."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.rumor.vectorize import FastTfidfVectorizer
from nlp.tokenize import cut

ODD = [
    "",
    "   ",
    "a  b\t\tc\n\nd",  # whitespace runs are squeezed before char n-grams
    "ＡＢＣ全角　文字",
    "表情😀🇨🇳和罕见字𠮷",  # outside the BMP
    "x",
    "转发微博",
    "【突发】某地发生火灾？！真的吗",
    "完全没见过的字龘靐齉",
    "，。！？……",  # only tokens that cut drops
    "t.cn/abc 3.5% c++ a_b",  # tokens that are kept though not alphanumeric
    # Documents are analysed joined by NUL: neighbours must not change each other's
    # lower case (final sigma), NFKC form (a combining mark after a letter), whitespace
    # runs or jieba cut ("\r" then "\n" would be one token).
    "ΟΔΟΣ",
    "İSTANBUL İ",  # lower() makes İ two characters: boundaries must follow
    "\u0301ΣΑ全角",
    "结尾\r",
    "\n开头  空格",
    "abc",
    "def火灾",
]
WITH_NUL = ["文档里\0有NUL字符", "火灾"]  # cannot be joined: analysed one by one

TRAIN = [
    "某地发生火灾，消防已到场",
    "网传某地发生爆炸，官方辟谣：假的",
    "真的吗？求证！",
    "表情😀很多😀",
    "a  b c d",
    "火灾现场视频",
    "辟谣：网传视频为旧闻",
    "某某小区停水通知",
] * 2

CONFIGS = {
    "char 1-4": dict(analyzer="char", ngram_range=(1, 4), sublinear_tf=True),
    "char 2-3 binary": dict(analyzer="char", ngram_range=(2, 3), binary=True),
    "char 1-4 no lowercase": dict(analyzer="char", ngram_range=(1, 4), lowercase=False),
    "words 1-2": dict(tokenizer=cut, token_pattern=None, lowercase=False, ngram_range=(1, 2)),
    "words 1": dict(tokenizer=cut, token_pattern=None, sublinear_tf=True),
    "words 2 only": dict(tokenizer=cut, token_pattern=None, ngram_range=(2, 2)),
    "default word pattern": dict(ngram_range=(1, 2)),
}


def _pair(**params: object) -> tuple[TfidfVectorizer, FastTfidfVectorizer]:
    reference = TfidfVectorizer(dtype=np.float32, **params).fit(TRAIN)
    fast = FastTfidfVectorizer(dtype=np.float32, **params).fit(TRAIN)
    return reference, fast


def _same(a: object, b: object) -> None:
    a, b = a.tocsr(), b.tocsr()  # type: ignore[attr-defined]
    assert a.shape == b.shape
    assert (a != b).nnz == 0


@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_matrix_as_sklearn(name: str) -> None:
    reference, fast = _pair(**CONFIGS[name])
    docs = TRAIN + ODD
    _same(reference.transform(docs), fast.transform(docs))
    _same(reference.transform(docs + WITH_NUL), fast.transform(docs + WITH_NUL))
    for doc in ODD:  # alone, so that no neighbour could hide a difference
        _same(reference.transform([doc]), fast.transform([doc]))
    # Fitting is inherited untouched.
    assert reference.vocabulary_ == fast.vocabulary_
    _same(reference.fit_transform(docs), fast.fit_transform(docs))


def test_same_matrix_on_real_posts(ced_dir) -> None:
    from ingest.ced import iter_events

    events = list(itertools.islice(iter_events(ced_dir), 400))
    sources = [e.source.text or "" for e in events]
    reposts = [" ".join(r.text or "" for r in e.reposts[:200]) for e in events]
    train, test = sources[:300], sources[300:] + reposts[300:]
    for params in (CONFIGS["char 1-4"], CONFIGS["words 1-2"], CONFIGS["words 1"]):
        reference = TfidfVectorizer(min_df=2, max_features=5000, **params).fit(train)
        fast = FastTfidfVectorizer(min_df=2, max_features=5000, **params).fit(train)
        _same(reference.transform(test), fast.transform(test))


def test_errors_match_sklearn() -> None:
    reference, fast = _pair(**CONFIGS["char 1-4"])
    for vectorizer in (reference, fast):
        with pytest.raises(ValueError, match="0 sample"):
            vectorizer.transform([])
        with pytest.raises(ValueError, match="string object received"):
            vectorizer.transform("一个字符串")
    with pytest.raises(Exception, match="not fitted"):
        FastTfidfVectorizer().transform(["文本"])


def test_replaced_vocabulary_is_reindexed() -> None:
    # Loading a model assigns vocabulary_ after construction; the index must follow it.
    reference, fast = _pair(**CONFIGS["char 1-4"])
    fast.transform(["火灾"])  # builds the index for the first vocabulary
    terms = sorted(fast.vocabulary_, reverse=True)
    for vectorizer in (reference, fast):
        old = vectorizer.vocabulary_
        vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
        vectorizer.idf_ = vectorizer.idf_[[old[t] for t in terms]]
    _same(reference.transform(TRAIN + ODD), fast.transform(TRAIN + ODD))


def test_tokens_with_spaces_fall_back_to_sklearn() -> None:
    # A tokenizer that keeps spaces inside tokens cannot be told apart from an n-gram by
    # code; the fast path must step aside and sklearn's transform answer.
    def spaced(text: str) -> list[str]:
        return [text[i : i + 3] for i in range(0, len(text), 3)]

    params = dict(tokenizer=spaced, token_pattern=None, ngram_range=(1, 2))
    docs = ["a b c d e f", "ab cd ef", "a b"]
    reference = TfidfVectorizer(**params).fit(docs)
    fast = FastTfidfVectorizer(**params).fit(docs)
    docs.append("b c d")
    _same(reference.transform(docs), fast.transform(docs))
