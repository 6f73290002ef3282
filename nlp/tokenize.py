"""The one tokenisation function every layer uses (index, search, classifiers, clustering).

The backend is rjieba, a Rust port of jieba with the same dictionary (≈190k short texts/s
against ≈17k for pure-Python jieba), so that tokenising is not the bottleneck of a
million-post import. Every caller goes through :func:`cut` / :func:`cut_for_index`, so the
index and the query side always agree.

Text is NFKC-normalised (full-width letters and digits become half-width) and lower-cased
before cutting; whitespace and punctuation tokens are dropped.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import rjieba

_lock = threading.Lock()
_loaded_dicts: set[str] = set()
#: Words added at run time (:func:`add_words`), in order: worker processes replay them.
_added_words: dict[str, None] = {}
#: The same words as a set read without the lock (replaced, never mutated): place names.
_place_words: frozenset[str] = frozenset()

#: A token made only of punctuation, symbols or spaces carries no meaning for search.
_NOISE = re.compile(r"^[\W_]+$", re.UNICODE)

#: Texts Weibo fills in for a repost that has no words of its own. Such a repost says
#: nothing a search could find: it is stored, counted and filterable, but gets no index
#: tokens (in CED 33,000 of the 37,800 posts containing 微博 were exactly 转发微博).
DEFAULT_REPOST_TEXT = re.compile(
    r"^\s*(转发微博|轉發微博|转发|轉發|repost)[\s。.!！]*$", re.IGNORECASE
)


@lru_cache(maxsize=1)
def _jieba() -> rjieba.Jieba:
    instance = rjieba.Jieba()
    _add_dict_lines(
        instance, resources.files("nlp.data").joinpath("userdict.txt").read_text("utf-8")
    )
    return instance


#: Endings of place and landmark names, longest first: a name that ends in one also adds
#: the part before it (望湖 of 望湖街道) and the ending itself, so search mode indexes both and
#: a search for 望湖 finds 望湖街道 (jieba's search mode only emits the parts of a long word
#: that are words of its dictionary).
PLACE_ENDINGS = tuple(
    sorted(
        [
            "街道",
            "社区",
            "小区",
            "大道",
            "大街",
            "路口",
            "路",
            "街",
            "巷",
            "镇",
            "乡",
            "村",
            "新区",
            "开发区",
            "区",
            "县",
            "市",
            "工业园",
            "化工园",
            "产业园",
            "科技园",
            "园区",
            "公园",
            "园",
            "广场",
            "菜市场",
            "农贸市场",
            "市场",
            "夜市",
            "商场",
            "医院",
            "卫生院",
            "学校",
            "小学",
            "中学",
            "大学",
            "幼儿园",
            "车站",
            "汽车站",
            "火车站",
            "站",
            "码头",
            "大桥",
            "桥",
            "水库",
            "湖",
            "河",
            "山",
            "景区",
            "小镇",
        ],
        key=len,
        reverse=True,
    )
)


def name_parts(word: str) -> list[str]:
    """The parts of a place or landmark name worth indexing on their own: ``北塘化工园`` →
    ``北塘``, ``化工园``; ``望湖街道`` → ``望湖``, ``街道``. Nothing for a name without a known
    ending or whose remaining part would be a single character."""
    for ending in PLACE_ENDINGS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 2:
            return [stem, *([ending] if len(ending) >= 2 else [])]
    return []


@lru_cache(maxsize=65536)
def _named_place(word: str) -> bool:
    return bool(name_parts(word))


def is_place(word: str) -> bool:
    """Whether a token names a place or landmark: a gazetteer name or a part of one (望湖街道,
    望湖, 化工园 of 望湖化工园, added with :func:`add_words`), or a word with a place ending
    and a stem of two characters or more (锦绣小区, 滨河路, 市二医院). Incident clustering
    weighs these less than the words that say what happened."""
    return word in _place_words or _named_place(word)


def _add_dict_lines(instance: rjieba.Jieba, text: str) -> int:
    added = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[2] if len(parts) > 2 else None
        instance.add_word(parts[0], freq, tag)
        for part in name_parts(parts[0]):
            instance.add_word(part, None, None)
        added += 1
    return added


def load_user_dict(path: str | Path) -> int:
    """Add a user dictionary (jieba format: ``word [freq] [tag]`` per line); idempotent.

    Offices add their districts, towns, landmarks, official account names and local slang.
    Returns the number of words added (0 if this file was already loaded).
    """
    key = str(Path(path).resolve())
    with _lock:
        if key in _loaded_dicts:
            return 0
        added = _add_dict_lines(_jieba(), Path(path).read_text("utf-8"))
        _loaded_dicts.add(key)
    return added


_office_stopwords: frozenset[str] = frozenset()  # replaced, never mutated: read without lock
_stopword_files: set[str] = set()


def load_stopwords(path: str | Path) -> int:
    """Add an office's stopwords (one per line, ``#`` comments; idempotent per file): words
    that say nothing about what a post claims or what an incident is about, such as an
    account's sign-off. Claim matching and incident topics drop them on top of their own
    lists. Returns the number of words added."""
    global _office_stopwords
    key = str(Path(path).resolve())
    with _lock:
        if key in _stopword_files:
            return 0
        words = _word_lines(Path(path).read_text("utf-8"))
        before = len(_office_stopwords)
        _office_stopwords = _office_stopwords.union(words)
        _stopword_files.add(key)
        stopwords.cache_clear()
        return len(_office_stopwords) - before


def _word_lines(text: str) -> list[str]:
    lines = (line.strip() for line in text.splitlines())
    return [normalise(line) for line in lines if line and not line.startswith("#")]


def office_stopwords() -> frozenset[str]:
    """The stopwords added with :func:`load_stopwords` (``nlp.stopwords``)."""
    return _office_stopwords


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Function words and Weibo boilerplate (``nlp/data/stopwords.txt``) plus the office's
    own: what claim matching ignores when comparing what posts say."""
    bundled = resources.files("nlp.data").joinpath("stopwords.txt").read_text("utf-8")
    return frozenset(_word_lines(bundled)) | office_stopwords()


def add_words(words: Iterable[str]) -> None:
    """Add words (a gazetteer's place names: its only caller) so they are never split; they
    and their parts are place names for :func:`is_place`."""
    global _place_words
    instance = _jieba()
    with _lock:
        for word in words:
            if word:
                word = normalise(word)
                for one in (word, *name_parts(word)):
                    instance.add_word(one, None, None)
                    _added_words[one] = None
        _place_words = frozenset(_added_words)


TokenizerState = tuple[tuple[str, ...], tuple[str, ...]]


def snapshot() -> TokenizerState:
    """What this process added to the tokeniser (user dictionaries, words).

    A worker process starts with the bundled dictionary only; :func:`restore` with this
    snapshot makes it cut exactly as its parent does (index and query tokens, a model's
    vocabulary), whatever the parent loaded before (a gazetteer's place names, say).
    """
    with _lock:
        return tuple(sorted(_loaded_dicts)), tuple(_added_words)


def restore(state: TokenizerState | None) -> None:
    """Bring this process's tokeniser to a :func:`snapshot` (idempotent)."""
    if not state:
        return
    dicts, words = state
    for path in dicts:
        load_user_dict(path)
    missing = [w for w in words if w not in _added_words]
    if missing:
        add_words(missing)


def _nfkc_table() -> dict[int, str]:
    # Blocks where Chinese posts carry compatibility characters: Latin-1, general
    # punctuation, enclosed numbers, CJK symbols and compatibility, full/half-width forms.
    blocks = [(0x00A0, 0x0100), (0x2000, 0x2070), (0x2460, 0x2500), (0x3000, 0x3040)]
    blocks += [(0x3200, 0x3400), (0xFE30, 0xFE70), (0xFF00, 0xFFF0)]
    table = {}
    for start, stop in blocks:
        for point in range(start, stop):
            char = chr(point)
            normal = unicodedata.normalize("NFKC", char)
            if normal != char:
                table[point] = normal
    return table


_NFKC_TABLE = _nfkc_table()
#: The characters of the table, found by one regex scan: ``str.translate`` looks every
#: character of a non-ASCII string up in the dict (9 µs a post against 3.5 µs).
_NFKC_CHARS = re.compile("[" + "".join(map(re.escape, map(chr, _NFKC_TABLE))) + "]")
#: The ten most frequent of them in Weibo posts (99 % of occurrences in CED), replaced
#: first by plain ``str.replace`` scans, which cost less than a regex callback each.
_NFKC_COMMON = [(c, _NFKC_TABLE[ord(c)]) for c in "，！？…：；（～）＂"]


def _nfkc_char(match: re.Match[str]) -> str:
    return _NFKC_TABLE[ord(match.group())]


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, about four times as fast on Chinese posts.

    Most posts are not NFKC only because of full-width punctuation. Replacing characters by
    their own NFKC form never changes a string's NFKD, hence never its NFKC; so when the
    replaced string is already normalised it *is* the NFKC of the original. Otherwise the
    full algorithm runs.
    """
    if unicodedata.is_normalized("NFKC", text):
        return text
    fast = text
    for char, normal in _NFKC_COMMON:
        if char in fast:
            fast = fast.replace(char, normal)
    if _NFKC_CHARS.search(fast):
        fast = _NFKC_CHARS.sub(_nfkc_char, fast)
    return fast if unicodedata.is_normalized("NFKC", fast) else unicodedata.normalize("NFKC", text)


def normalise(text: str) -> str:
    """NFKC + lower case: the form every token is produced from."""
    return _nfkc(text).lower()


class _Verdicts(dict[str, bool]):
    """Whether a token that is not purely alphanumeric is kept, computed once per distinct
    token: a fifth of a post's tokens are punctuation, and the regex costs 0.5 µs each."""

    LIMIT = 100_000  # distinct odd tokens remembered (URLs and numbers make it grow)

    def __missing__(self, token: str) -> bool:
        keep = bool(token.strip()) and not _NOISE.match(token)
        if len(self) >= self.LIMIT:
            self.clear()
        self[token] = keep
        return keep


_VERDICTS = _Verdicts()


def _keep(tokens: list[str]) -> list[str]:
    # isalnum() is true for CJK words; only the other tokens need a verdict.
    verdicts = _VERDICTS
    return [t for t in tokens if t.isalnum() or verdicts[t]]


def kept(token: str) -> bool:
    """Whether :func:`cut` keeps this token of :func:`raw_cut`."""
    return token.isalnum() or _VERDICTS[token]


def raw_cut(text: str) -> list[str]:
    """Every precise-mode token of ``text`` (non-empty), the dropped ones included:
    ``cut(text) == [t for t in raw_cut(text) if kept(t)]``. For callers that look tokens
    up anyway and can fold the filter into that lookup."""
    return _jieba().cut(normalise(text))


def raw_cut_joined(texts: Iterable[str], joiner: str = "\0") -> list[str]:
    """:func:`raw_cut` of each text with ``joiner`` as one token between them, in a single
    call of the tokeniser (a quarter of its time on short posts is per call). ``joiner``
    must be a single character that is neither a word character nor whitespace, which
    jieba always cuts as a token of its own, and the texts must not contain it."""
    return _jieba().cut(joiner.join(map(normalise, texts)))


def cut(text: str | None) -> list[str]:
    """Precise-mode tokens of ``text``, without whitespace and punctuation."""
    if not text:
        return []
    return _keep(raw_cut(text))


def cut_for_index(text: str | None) -> list[str]:
    """Search-mode tokens: long words plus the shorter words inside them.

    Indexing with these and querying with :func:`cut` lets ``抢救`` find ``抢救无效``.
    """
    if not text:
        return []
    return _keep(_jieba().cut_for_search(normalise(text)))


def index_text(*parts: str | None) -> str:
    """Space-joined index tokens of several fields: what full-text backends store.

    A field holding only Weibo's default repost text (:data:`DEFAULT_REPOST_TEXT`) adds
    nothing.
    """
    return " ".join(
        t
        for part in parts
        if part and not DEFAULT_REPOST_TEXT.match(part)
        for t in cut_for_index(part)
    )
