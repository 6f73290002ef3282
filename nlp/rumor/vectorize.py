"""A TF-IDF vectoriser whose fitted transform runs in numpy instead of a Python loop.

scikit-learn's ``TfidfVectorizer.transform`` builds every n-gram as a Python string and looks
it up in the vocabulary one at a time, raising and catching a ``KeyError`` for each unknown
one. For short posts scored one batch at a time that loop is three quarters of the rumor
model's scoring time (≈ 2,100 source posts/s). No library offers a fixed-vocabulary n-gram
transform for a fitted sklearn vocabulary, so this one is hand-written:

* text is cut into *units* (characters, or the tokeniser's words) exactly as sklearn's
  analyser does, and each unit becomes an integer id (characters via one table lookup of
  their code points, words via one dict lookup each; -1 when the unit occurs in no
  vocabulary term, and between documents). A batch's documents are analysed joined by NUL
  (:data:`JOINER`), which no analysis step carries across, so lower-casing, whitespace
  squeezing and jieba run once per batch instead of once per post; with the tokeniser
  :func:`nlp.tokenize.cut`, its punctuation filter and the vocabulary lookup are one
  remembered dict lookup per raw token;
* n-grams of the whole batch become integer codes, computed with array arithmetic and
  grown one unit at a time only while they are still the prefix of some term, and are
  looked up in a hash table of the vocabulary's codes (a trie in a table);
* the hits become the count matrix, which the inherited TF-IDF step weights and normalises.

Fitting is sklearn's, untouched, and ``transform`` returns exactly what sklearn's would
(``tests/nlp/test_rumor_vectorize.py`` compares them on real posts). Configurations outside
the fast path (custom analysers, stop words, a vocabulary too large for 64-bit codes) fall
back to sklearn's own transform.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from nlp import tokenize

#: Table values besides columns: a prefix of some term (not a term itself), and no entry.
PREFIX, ABSENT = -2, -1
#: Unit ids besides known words, for raw tokens of :func:`nlp.tokenize.raw_cut`: a token
#: ``cut`` drops, and a kept token containing a space (sklearn would join it into n-grams
#: ambiguously, so such a batch takes sklearn's own transform).
DROPPED, SPACED = -2, -3
#: Documents of a batch are joined by this character and analysed in one pass when none
#: contains it: it changes no document's lower case, NFKC form, whitespace runs or jieba
#: cut (a single non-word, non-space character is a token of its own), and its unit id
#: is SEPARATOR in word mode.
JOINER, SEPARATOR = "\0", -4
#: n-gram codes must stay below this (signed 64-bit, with room for the per-n offset).
_CODE_LIMIT = 2**62


@dataclass(frozen=True)
class _Index:
    """The fitted vocabulary as integer n-gram codes."""

    vocabulary: dict[str, int]  # the dict this index was built from (identity check)
    table: _CodeTable  # n-gram code (n >= 2) -> column or PREFIX
    unigrams: np.ndarray  # unit id -> column or PREFIX or ABSENT (n = 1, no hashing)
    radix: int  # number of distinct units + 1
    chars: np.ndarray | None  # char mode: unit id of every code point up to the largest known
    words: dict[str, int] | None  # word mode: unit id of each known word
    raw_ids: _WordIds | None  # word mode: unit ids of raw tokens (tokenizer nlp.tokenize.cut)


class _WordIds(dict[str, int]):
    """Unit id of each raw token of :func:`nlp.tokenize.raw_cut`, remembered: one dict
    lookup per token does both ``cut``'s filtering and the vocabulary lookup."""

    LIMIT = 200_000  # distinct tokens remembered before starting over (≈ 25 MB at most)

    def __init__(self, words: dict[str, int]) -> None:
        super().__init__()
        self.words = words
        self[JOINER] = SEPARATOR

    def __missing__(self, token: str) -> int:
        if not tokenize.kept(token):
            unit = DROPPED
        else:
            unit = self.words.get(token, ABSENT)
            if unit == ABSENT and " " in token:
                unit = SPACED
        if len(self) >= self.LIMIT:
            self.clear()
            self[JOINER] = SEPARATOR
        self[token] = unit
        return unit


class _CodeTable:
    """An open-addressing hash table from int64 codes to columns, probed for a whole array
    of codes at once (a sorted-array ``searchsorted`` was 4× slower: every probe a cache
    miss)."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, codes: np.ndarray, columns: np.ndarray) -> None:
        bits = max(4, int(len(codes) * 4 - 1).bit_length())  # load factor <= 1/4
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self.keys = np.full(1 << bits, -1, dtype=np.int64)
        self.values = np.full(1 << bits, -1, dtype=np.int64)
        slots = self._slots(codes)
        pending = np.arange(len(codes))
        while len(pending):
            # Of the pending codes whose slot is free, the first per slot takes it.
            free = self.keys[slots[pending]] == -1
            candidates = pending[free]
            _, first = np.unique(slots[candidates], return_index=True)
            placed = candidates[first]
            self.keys[slots[placed]] = codes[placed]
            self.values[slots[placed]] = columns[placed]
            taken = np.ones(len(pending), dtype=bool)
            taken[np.flatnonzero(free)[first]] = False
            pending = pending[taken]
            slots[pending] = (slots[pending] + 1) & self._mask

    def _slots(self, codes: np.ndarray) -> np.ndarray:
        hashed = codes.view(np.uint64) * self._MULTIPLIER  # modulo 2**64
        hashed >>= self._shift
        return hashed.view(np.int64)

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """The value stored for each code (codes >= 0), ABSENT where there is none."""
        slots = self._slots(codes)
        keys = self.keys[slots]
        hit = keys == codes
        found = np.where(hit, self.values[slots], ABSENT)
        # Collisions (rare at load factor 1/4): probe the next slots for the rest.
        active = np.flatnonzero(~hit & (keys != ABSENT))
        while len(active):
            slots[active] = (slots[active] + 1) & self._mask
            keys = self.keys[slots[active]]
            hit = keys == codes[active]
            found[active[hit]] = self.values[slots[active[hit]]]
            active = active[~hit & (keys != ABSENT)]
        return found


# Built lazily from ``vocabulary_`` and kept outside the estimator, so it is never saved
# into a model file and is rebuilt when the vocabulary is replaced (as loading does).
_INDEXES: weakref.WeakKeyDictionary[FastTfidfVectorizer, _Index] = weakref.WeakKeyDictionary()


class FastTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` with a vectorised transform for a fitted vocabulary.

    Same parameters, same fit, same output; see the module docstring.
    """

    def transform(self, raw_documents):  # type: ignore[no-untyped-def]
        check_is_fitted(self, msg="The TF-IDF vectorizer is not fitted")
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        index = self._index()
        counts = None if index is None else self._counts(list(raw_documents), index)
        if counts is None:
            return super().transform(raw_documents)
        if self.binary:
            counts.data.fill(1)
        return self._tfidf.transform(counts, copy=False)

    # -- fast path -----------------------------------------------------------------------
    def _fast_mode(self) -> str | None:
        if self.preprocessor is not None or self.strip_accents or self.input != "content":
            return None
        if self.analyzer == "char":
            return "char"
        if self.analyzer == "word" and self.get_stop_words() is None:
            return "word"
        return None

    def _index(self) -> _Index | None:
        vocabulary = getattr(self, "vocabulary_", None)
        mode = self._fast_mode()
        if not vocabulary or mode is None:
            return None
        cached = _INDEXES.get(self)
        if cached is not None and cached.vocabulary is vocabulary:
            return cached
        index = _build_index(vocabulary, mode, self.ngram_range)
        if index is not None:
            _INDEXES[self] = index
        return index

    def _counts(self, docs: list, index: _Index) -> sp.csr_matrix | None:
        high = self.ngram_range[1]
        found = self._joined_units(docs, index) if _joinable(docs) else None
        if found is None:
            found = self._units(docs, index)
        if found is None:
            return None
        units, doc_of = found
        # -1 padding at the end, so every n-gram window stays inside the array.
        units = np.concatenate([units, np.full(high, -1, dtype=units.dtype)])
        starts, cols = _match_ngrams(units, index, self.ngram_range)
        return _count_matrix(doc_of[starts], cols, (len(docs), len(self.vocabulary_)), self.dtype)

    def _joined_units(self, docs: list[str], index: _Index) -> tuple[np.ndarray, np.ndarray] | None:
        """Unit ids (-1 between documents) and the document of each, from the documents
        joined by :data:`JOINER`: one analysis call for the batch instead of one per post
        (a quarter of jieba's time is per call). None when that path does not apply."""
        if index.chars is not None:
            joined = JOINER.join(docs)
            text = self._white_spaces.sub(" ", joined.lower() if self.lowercase else joined)
            points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            chars = index.chars
            units = chars[np.minimum(points, len(chars) - 1)]  # the last entry is -1
            between = points == 0
        elif self.tokenizer is tokenize.cut and not self.lowercase:
            # cut's own filtering folds into the id lookup (no preprocessing to apply).
            assert index.raw_ids is not None
            # Normalised one by one: a post needing the full NFKC algorithm would make
            # the whole batch take it.
            tokens = tokenize.raw_cut_joined(docs, JOINER)
            ids = np.fromiter(map(index.raw_ids.__getitem__, tokens), np.int64, len(tokens))
            if (ids == SPACED).any():
                return None
            units = ids[ids != DROPPED]
            between = units == SEPARATOR
        else:
            return None
        if int(np.count_nonzero(between)) != len(docs) - 1:
            return None  # cannot happen by the reasoning above; never trust it blindly
        units[between] = -1
        return units, np.cumsum(between)

    def _units(self, docs: list, index: _Index) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`_joined_units` document by document, for any input (a post containing
        NUL, or a tokeniser other than :func:`nlp.tokenize.cut`)."""
        preprocess = self.build_preprocessor()
        decode = self.decode
        high = self.ngram_range[1]
        if index.chars is not None:
            white = self._white_spaces
            texts = [white.sub(" ", preprocess(decode(d))) for d in docs]
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            # One NUL between documents (its id forced to -1 below), so no n-gram spans two.
            points = np.frombuffer(
                JOINER.join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32
            )
            chars = index.chars
            units = chars[np.minimum(points, len(chars) - 1)]  # the last entry is -1
        else:
            tokenize_doc = self.build_tokenizer()
            token_lists = [tokenize_doc(preprocess(decode(d))) for d in docs]
            tokens = list(chain.from_iterable(token_lists))
            if high > 1 and " " in "\n".join(tokens):
                return None  # a token with a space would be confused with an n-gram
            words = index.words
            assert words is not None
            lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(docs))
            ids = np.fromiter(map(words.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
            units = np.insert(ids, np.cumsum(lengths)[:-1], -1)
        if len(docs) > 1:
            units[np.cumsum(lengths + 1)[:-1] - 1] = -1
        return units, np.repeat(np.arange(len(docs)), lengths + 1)[: len(units)]


def _joinable(docs: list) -> bool:
    """Whether the documents can be analysed joined: all strings, none containing
    :data:`JOINER`."""
    return bool(docs) and all(type(d) is str and JOINER not in d for d in docs)


def _count_matrix(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], dtype: type
) -> sp.csr_matrix:
    """CSR counts of (row, column) pairs, duplicates summed, indices sorted.

    One integer sort of the pairs (numpy's SIMD sort) is 3-4x faster than building a COO
    matrix and letting scipy sum the duplicates row by row."""
    n_rows, n_cols = shape
    # 32-bit keys (and indices) when they fit, as for a chunk of a few thousand rows: they
    # sort twice as fast as 64-bit ones.
    index_type = np.int32 if n_rows * n_cols < 2**31 else np.int64
    keys = (rows * n_cols + cols).astype(index_type)
    keys.sort()
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(keys))).astype(dtype)
    unique = keys[starts]
    row_of = unique // n_cols
    indptr = np.zeros(n_rows + 1, dtype=index_type)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    matrix = sp.csr_matrix((counts, unique - row_of * n_cols, indptr), shape=shape)
    matrix.has_canonical_format = True
    return matrix


def _build_index(
    vocabulary: dict[str, int], mode: str, ngram_range: tuple[int, int]
) -> _Index | None:
    low, high = ngram_range
    terms = list(vocabulary)
    if mode == "char":
        units = [list(term) for term in terms]
    else:
        units = [term.split(" ") for term in terms]
    if any(not low <= len(u) <= high for u in units):
        return None  # not produced by this n-gram range (a token containing a space)
    distinct = sorted({unit for u in units for unit in u})
    radix = len(distinct) + 1
    if (high + 1) * radix**high >= _CODE_LIMIT:
        return None
    unit_id = {unit: i for i, unit in enumerate(distinct)}
    offset = radix**high
    # Every term, plus every shorter prefix of a term as a node of value PREFIX: matching
    # extends an n-gram only while it is still the prefix of some term (a trie in a table).
    nodes: dict[int, int] = {}
    for term, u in zip(terms, units, strict=True):
        code = 0
        for m, unit in enumerate(u, start=1):
            code = code * radix + unit_id[unit]
            key = code + m * offset
            if m == len(u):
                nodes[key] = vocabulary[term]
            else:
                nodes.setdefault(key, PREFIX)
    unigrams = np.full(radix, ABSENT, dtype=np.int64)
    for i in unit_id.values():
        unigrams[i] = nodes.pop(i + offset, ABSENT)
    codes = np.fromiter(nodes.keys(), dtype=np.int64, count=len(nodes))
    columns = np.fromiter(nodes.values(), dtype=np.int64, count=len(nodes))
    chars = words = None
    if mode == "char":
        points = [ord(c) for c in distinct]
        chars = np.full(max(points) + 2, -1, dtype=np.int64)
        chars[points] = np.arange(len(points))
    else:
        words = unit_id
    raw_ids = None if words is None else _WordIds(words)
    return _Index(vocabulary, _CodeTable(codes, columns), unigrams, radix, chars, words, raw_ids)


def _match_ngrams(
    units: np.ndarray, index: _Index, ngram_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(start position, column) of every n-gram that is a vocabulary term.

    ``units`` holds unit ids, -1 for unknown units, between documents and as ``high``
    trailing padding. No n-gram containing a -1 can match, so none is filtered out: as a
    unigram -1 indexes the last entry of ``unigrams`` (id ``radix - 1``, which no unit
    has: ABSENT), and inside a longer code ``c * radix - 1`` is the code of a sequence
    ending in that same unused id, absent from the table.
    """
    low, high = ngram_range
    radix, offset = index.radix, index.radix**high
    starts: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    found = index.unigrams[units]
    # Start positions whose n-gram is still a term or the prefix of one, and its code.
    alive = np.flatnonzero(found != ABSENT)
    if low <= 1:
        found = found[alive]
        hit = found >= 0
        starts.append(alive[hit])
        cols.append(found[hit])
    code = units[alive]
    for n in range(2, high + 1):
        if not len(alive):
            break
        code = code * radix + units[alive + n - 1]
        found = index.table.lookup(code + n * offset)
        if n >= low:
            hit = found >= 0
            starts.append(alive[hit])
            cols.append(found[hit])
        if n < high:
            present = found != ABSENT
            alive, code = alive[present], code[present]
    if not starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(starts), np.concatenate(cols)
