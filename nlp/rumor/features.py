"""Turning one source post and the reposts observed so far into model input.

Everything here looks only at what an office could have seen at the moment of scoring: the
source post, its author, and the reposts dated up to the scoring horizon. The wall-clock time
or date of posting is never a feature: in CED the non-rumors cluster around midnight, an
artifact of how the data was collected, and a model that learnt it would fail in production.

The work is split in two steps so that cross-validation over many horizons stays cheap:
:func:`prepare` does the per-event work once (tokenising nothing, just parsing reposts into
sorted arrays), :meth:`Prepared.row` cuts that at a horizon and computes the features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from models import Author, Post
from nlp.tokenize import DEFAULT_REPOST_TEXT

#: Reposts whose text enters the repost-text column; the cap bounds scoring time on events
#: with tens of thousands of reposts, and the earliest reposts are the ones that matter early.
MAX_REPOST_TEXTS = 400

#: Cue words in reposts and comments, by what they signal. Matched as substrings of the
#: normalised (NFKC, lower-case) text of the repost's own words.
CUES: dict[str, tuple[str, ...]] = {
    "doubt": (
        "真的吗",
        "真的假的",
        "是真的吗",
        "是不是真的",
        "真假",
        "求证",
        "求真相",
        "是否属实",
        "属实吗",
        "靠谱吗",
        "可信吗",
        "不会吧",
        "怀疑",
        "求辟谣",
        "谁能证实",
        "有没有人证实",
        "假的吧",
        "不信",
        "真的?",
        "真的?",
    ),
    "denial": (
        "谣言",
        "辟谣",
        "假的",
        "不实",
        "造谣",
        "谣传",
        "假新闻",
        "假消息",
        "旧闻",
        "老新闻",
        "传谣",
        "信谣",
        "别信",
        "不要信",
        "骗人",
        "忽悠",
        "p的",
        "ps的",
        "已证实",
        "是假",
        "虚假",
        "以讹传讹",
        "误传",
        "不是真的",
        "假图",
    ),
    "deleted": ("已删", "被删", "删了", "删帖", "已被删除", "已删除", "和谐了", "被和谐"),
}
_CUE_RE = {name: re.compile("|".join(map(re.escape, words))) for name, words in CUES.items()}
#: Matches where any of the kinds matches (a text without it has no cue of any kind).
_ANY_CUE = re.compile("|".join(re.escape(w) for words in CUES.values() for w in words))
_URL = re.compile(r"https?:|t\.cn/")
_MENTION = re.compile(r"@[\w\-]+")

#: Value used for "time to the k-th repost" when fewer than k reposts were observed.
NOT_REACHED = math.log1p(7 * 86400)
#: Repost counts at these offsets after the source (seconds) become features.
COUNT_WINDOWS = (600, 3600, 6 * 3600, 24 * 3600)
TIME_TO_K = (1, 10, 50)

#: Numeric features, in column order, with what each means for an analyst.
NUMERIC_FEATURES: tuple[str, ...] = (
    "n_reposts",
    "span_hours",
    "velocity",
    "acceleration",
    *(f"count_{w // 60}m" for w in COUNT_WINDOWS),
    *(f"time_to_{k}" for k in TIME_TO_K),
    *(f"reached_{k}" for k in TIME_TO_K),
    "max_depth",
    "mean_depth",
    "share_deep",
    "breadth",
    "share_direct",
    "share_text",
    "unique_users",
    *(f"share_{c}" for c in CUES),
    *(f"n_{c}" for c in CUES),
    "verified",
    "followers",
    "friends",
    "statuses",
    "account_age_days",
    "follower_ratio",
    "author_missing",
    "followers_missing",
    "account_age_missing",
    "text_length",
    "has_url",
    "n_mentions",
    "has_hashtag",
    "has_brackets",
    "n_question",
    "n_exclaim",
    "text_missing",
    "time_missing",
)
NUMERIC_INDEX = {name: i for i, name in enumerate(NUMERIC_FEATURES)}
#: The features read from the reposts besides their count (from "span_hours" up to the cue
#: counts): with no reposts observed they are all zero and say nothing of their own.
FROM_REPOSTS = frozenset(NUMERIC_FEATURES[1 : NUMERIC_INDEX["verified"]])

# Column positions used on every input (prepare and row run ten thousand times a second).
_I = NUMERIC_INDEX
_I_N_REPOSTS, _I_VERIFIED, _I_FOLLOWERS = _I["n_reposts"], _I["verified"], _I["followers"]
_I_FRIENDS, _I_STATUSES, _I_FOLLOWER_RATIO = _I["friends"], _I["statuses"], _I["follower_ratio"]
_I_ACCOUNT_AGE, _I_ACCOUNT_AGE_MISSING = _I["account_age_days"], _I["account_age_missing"]
_I_AUTHOR_MISSING, _I_FOLLOWERS_MISSING = _I["author_missing"], _I["followers_missing"]
_I_TEXT_MISSING, _I_TIME_MISSING = _I["text_missing"], _I["time_missing"]
_I_TEXT_LENGTH, _I_HAS_URL, _I_MENTIONS = _I["text_length"], _I["has_url"], _I["n_mentions"]
_I_HASHTAG, _I_BRACKETS = _I["has_hashtag"], _I["has_brackets"]
_I_QUESTION, _I_EXCLAIM = _I["n_question"], _I["n_exclaim"]
_AUTHOR_COLUMNS = (
    _I_VERIFIED,
    _I_FOLLOWERS,
    _I_FRIENDS,
    _I_STATUSES,
    _I_ACCOUNT_AGE,
    _I_FOLLOWER_RATIO,
)
_TIME_TO_K_INDEX = tuple((k, _I[f"time_to_{k}"], _I[f"reached_{k}"]) for k in TIME_TO_K)

#: Column layout of a model input row (a numpy object array): three text/categorical
#: columns, the propagation stage, then the numeric features.
COL_SOURCE, COL_REPOSTS, COL_VTYPE, COL_STAGE = 0, 1, 2, 3
N_TEXT_COLS = 4

#: Propagation stages. The model learns weights shared by all stages plus a correction per
#: stage, because what predicts a rumor changes as an event unfolds: with no reposts yet
#: only the source and its author speak, later the crowd's doubt dominates. In grouped CV
#: one shared weight vector lost 1–1.5 accuracy points at 1h and with all reposts.
STAGES = ("none", "early", "late")
#: Reposts spanning at most this long after the source are the "early" stage.
EARLY_STAGE_HOURS = 3.0


def stage_of(n_reposts: int, span_seconds: float) -> str:
    """Stage from what was observed (never from the clock): no reposts, early or late."""
    if n_reposts == 0:
        return "none"
    return "early" if span_seconds <= EARLY_STAGE_HOURS * 3600 else "late"


@dataclass
class RepostLite:
    """The part of a repost or comment the classifier uses."""

    id: str | None
    parent_id: str | None
    created_at: datetime | None
    text: str = ""
    author_id: str | None = None


@dataclass
class RumorInput:
    """One thing to score: a source post as far as it is known, with its reposts.

    Any field may be missing (``None`` / empty); the features say which ones were.
    """

    source_id: str | None
    text: str | None
    created_at: datetime | None
    author: Author | None
    reposts: list[RepostLite] = field(default_factory=list)

    @classmethod
    def from_posts(cls, source: Post, reposts: Iterable[Post] = ()) -> RumorInput:
        return cls(
            source_id=source.id,
            text=post_text(source),
            created_at=source.created_at,
            author=source.author,
            reposts=[
                RepostLite(r.id, r.parent_id, r.created_at, r.text or "", r.author.id)
                for r in reposts
            ],
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RumorInput:
        """Lenient reader for loosely structured records (API payloads, broken exports):
        ``text``, ``created_at`` or ``time``, ``author`` or ``user``, ``reposts``."""
        from text.timeparse import parse_time

        def _time(value: Any) -> datetime | None:
            if isinstance(value, datetime):
                return value
            try:
                return parse_time(value)
            except (ValueError, TypeError, OverflowError):
                return None

        user = raw.get("author", raw.get("user"))
        author: Author | None = None
        if isinstance(user, Author):
            author = user
        elif isinstance(user, dict):
            author = _lenient_author(user, _time)
        reposts = []
        for item in raw.get("reposts") or []:
            if not isinstance(item, dict):
                continue
            text = item.get("text")
            reposts.append(
                RepostLite(
                    id=_str_or_none(item.get("id", item.get("mid"))),
                    parent_id=_str_or_none(item.get("parent_id", item.get("parent"))),
                    created_at=_time(item.get("created_at", item.get("date"))),
                    text=text if isinstance(text, str) else "",
                    author_id=_str_or_none(item.get("author_id", item.get("uid"))),
                )
            )
        text = raw.get("text")
        return cls(
            source_id=_str_or_none(raw.get("id")),
            text=text if isinstance(text, str) else None,
            created_at=_time(raw.get("created_at", raw.get("time"))),
            author=author,
            reposts=reposts,
        )


def post_text(post: Post) -> str:
    """The words a reader sees: a forum thread's or an article's title, then its text (a
    title the text already starts with is not repeated)."""
    title = (post.title or "").strip()
    text = post.text or ""
    if not title or text.lstrip().startswith(title):
        return text
    return f"{title}\n{text}" if text.strip() else title


#: Below this many letters, digits or Han characters (links, @-mentions, emoticon codes and
#: quoted repost chains not counted) a post is not scored: "哈哈", "转发微博" or an empty
#: text say nothing about a claim, and the model would only echo its prior.
MIN_TEXT_CHARS = 5
TOO_SHORT = "文本过短"
_NOT_WORDS = re.compile(r"https?://[!-~]+|t\.cn/[0-9A-Za-z]+|@[\w\-]+|\[[^\[\]]{1,8}\]|//@.*", re.S)
_WORD = "0-9A-Za-z\u3400-\u9fff\uf900-\ufaff"
_WORD_CHAR = re.compile(f"[{_WORD}]")
_ENOUGH_WORDS = re.compile(f"(?:[^{_WORD}]*[{_WORD}]){{{MIN_TEXT_CHARS}}}")


def meaningful_length(text: str | None) -> int:
    """Letters, digits and Han characters of a text, without links, @-mentions, emoticon
    codes like ``[doge]`` and the quoted ``//@user:`` chain of a repost."""
    if not text:
        return 0
    return len(_WORD_CHAR.findall(_NOT_WORDS.sub(" ", text)))


def too_short(text: str | None) -> bool:
    """Whether a source text is too short to be scored (:data:`MIN_TEXT_CHARS`).

    Runs on every scored post, so one match stops at the fifth character found, and links,
    mentions, emoticon codes and repost chains are stripped only from a text where they
    may be among those five."""
    if not text or len(text) < MIN_TEXT_CHARS:
        return True
    found = _ENOUGH_WORDS.match(text)
    if found is None:
        return True
    # The five characters found (and a few after them, to catch "…http://") are plain
    # text unless a link, mention or emoticon code starts among them: the common case.
    window = text[: found.end() + 8]
    if "/" not in window and "@" not in window and "[" not in window:
        return False
    return meaningful_length(text) < MIN_TEXT_CHARS


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _lenient_author(user: dict[str, Any], parse: Any) -> Author:
    def _count(key: str, *alts: str) -> int | None:
        for k in (key, *alts):
            value = user.get(k)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return int(value)
        return None

    vtype = user.get("verified_type")
    return Author(
        id=_str_or_none(user.get("id")),
        verified=bool(user.get("verified")),
        verified_type=vtype if isinstance(vtype, int) and not isinstance(vtype, bool) else None,
        followers=_count("followers"),
        friends=_count("friends"),
        posts=_count("posts", "messages"),
        created_at=parse(user.get("created_at", user.get("time"))),
    )


def own_words(text: str) -> str:
    """The reposter's own words: the part before the quoted ``//@user:`` chain."""
    if not text:
        return ""
    head = text.split("//@", 1)[0].strip()
    return "" if DEFAULT_REPOST_TEXT.match(head) else head


@dataclass
class Prepared:
    """An event parsed once; :meth:`row` gives its features at any horizon."""

    source_text: str
    missing: list[str]
    static: list[float]  # author and source-text features, independent of the horizon
    vtype: str
    offsets: np.ndarray  # seconds after the source, sorted; undated reposts excluded
    texts: list[str]  # own words, in the order of ``offsets``
    cue_flags: np.ndarray  # (n, len(CUES)) booleans
    ids: list[str | None]
    parents: list[str | None]
    authors: list[str | None]
    source_id: str | None
    undated: int = 0

    def masked(self, *, author: bool = True, time: bool = False) -> Prepared:
        """This event as if its author's profile (``author``) or its source time (``time``)
        were unknown, everything else unchanged: the training rows that teach the model what
        a forum, news or imported post without them looks like (nlp.rumor.training)."""
        static = self.static.copy()
        missing = list(self.missing)
        vtype = self.vtype
        if author:
            for i in _AUTHOR_COLUMNS:
                static[i] = 0.0
            static[_I_AUTHOR_MISSING] = static[_I_FOLLOWERS_MISSING] = 1.0
            static[_I_ACCOUNT_AGE_MISSING] = 1.0
            vtype = "none"
            missing = [m for m in missing if m not in ("author", "account age")]
            missing.insert(1 if missing[:1] == ["text"] else 0, "author")
        if time:
            static[_I_ACCOUNT_AGE] = 0.0
            static[_I_ACCOUNT_AGE_MISSING] = static[_I_TIME_MISSING] = 1.0
            if "source time" not in missing:
                missing.append("source time")
            if "author" not in missing and "account age" not in missing:
                missing.append("account age")
        return replace(self, static=static, missing=missing, vtype=vtype)

    def unscorable(self, horizon: timedelta | None = None) -> bool:
        """Too little to score: a source text too short (:func:`too_short`) and no repost
        or comment with words of its own observed by ``horizon``."""
        if not too_short(self.source_text):
            return False
        return not any(self.texts[: self.count_until(horizon)])

    def count_until(self, horizon: timedelta | None) -> int:
        if horizon is None:
            return len(self.offsets)
        return int(np.searchsorted(self.offsets, horizon.total_seconds(), side="right"))

    def row(self, horizon: timedelta | None = None) -> tuple[list[Any], list[str]]:
        """Model input row (text columns + numeric features) and the missing-feature list."""
        n = self.count_until(horizon)
        nums = self.static.copy()
        _propagation(self, n, nums)
        if not n:
            return [self.source_text, "", self.vtype, "none", *nums], self.missing
        repost_text = " ".join(t for t in self.texts[: min(n, MAX_REPOST_TEXTS)] if t)
        stage = stage_of(n, float(self.offsets[n - 1]))
        return [self.source_text, repost_text, self.vtype, stage, *nums], self.missing


_NO_AUTHOR = Author()
# Shared by every lone post's Prepared; never written to.
_NO_OFFSETS = np.zeros(0)
_NO_OFFSETS.flags.writeable = False
_NO_FLAGS = np.zeros((0, len(CUES)), dtype=bool)
_NO_FLAGS.flags.writeable = False


def prepare(inp: RumorInput, *, offsets: Sequence[float] | None = None) -> Prepared:
    """Parse an input once; the expensive per-repost work happens here.

    ``offsets``: ``(r.created_at - inp.created_at).total_seconds()`` of every repost, in
    order, as the caller already knows them exactly (the CED importer, from whole-second
    times); they are then not computed here. Only used when the source time and every
    repost time are known. (Subtracting times of two zones asks both for their offset, a
    microsecond a repost.)"""
    missing: list[str] = []
    text = inp.text or ""
    static = [0.0] * len(NUMERIC_FEATURES)
    author = inp.author
    # A profile is what a Weibo-like platform shows: counts or a verification. A forum
    # user name, a news desk or a message board's poster has none, and is "no author
    # data", never a zero-follower account (the placeholders below are then masked the
    # way the model saw them masked in training: nlp.rumor.training masks profiles).
    if author is None or (author.followers is None and not author.verified):
        missing.append("author")
        static[_I_AUTHOR_MISSING] = 1.0
        author = _NO_AUTHOR
    static[_I_VERIFIED] = float(author.verified)
    if author.followers is None:
        static[_I_FOLLOWERS_MISSING] = 1.0
    followers, friends = math.log1p(author.followers or 0), math.log1p(author.friends or 0)
    static[_I_FOLLOWERS] = followers
    static[_I_FRIENDS] = friends
    static[_I_STATUSES] = math.log1p(author.posts or 0)
    static[_I_FOLLOWER_RATIO] = followers - friends
    if author.created_at is not None and inp.created_at is not None:
        days = max((inp.created_at - author.created_at).total_seconds() / 86400, 0.0)
        static[_I_ACCOUNT_AGE] = math.log1p(days)
    else:
        static[_I_ACCOUNT_AGE_MISSING] = 1.0
        if "author" not in missing:
            missing.append("account age")
    vtype = "none" if author.verified_type is None else str(author.verified_type)
    _text_stats(text, static)
    if not text.strip():
        missing.insert(0, "text")
        static[_I_TEXT_MISSING] = 1.0

    origin = inp.created_at
    if origin is None:
        missing.append("source time")
        static[_I_TIME_MISSING] = 1.0
    if not inp.reposts:  # a lone post: nothing more to parse
        return Prepared(
            text, missing, static, vtype, _NO_OFFSETS, [], _NO_FLAGS, [], [], [], inp.source_id
        )
    dated = [r for r in inp.reposts if r.created_at is not None]
    undated = len(inp.reposts) - len(dated)
    if origin is None:
        # Without the source time, the first repost is the best guess of when it started.
        origin = min((r.created_at for r in dated), default=None)  # type: ignore[assignment]
    if undated:
        missing.append(f"time of {undated} reposts")
    if origin is not None and dated:
        if offsets is not None and not undated and origin is inp.created_at:
            if len(offsets) != len(dated):
                raise ValueError(f"{len(offsets)} offsets for {len(dated)} reposts")
            raw = np.array(offsets, dtype=np.float64)
        else:
            raw = np.fromiter(
                ((r.created_at - origin).total_seconds() for r in dated),  # type: ignore[operator]
                dtype=np.float64,
                count=len(dated),
            )
        # Reposts "before" the source are clock noise in the data; they count as instant.
        raw = np.maximum(raw, 0.0)
        order = np.argsort(raw, kind="stable")
        offsets = raw[order]
        ordered = [dated[i] for i in order]
    else:
        offsets = np.zeros(0)
        ordered = []
    texts = [own_words(r.text) for r in ordered]
    cue_flags = np.zeros((len(texts), len(CUES)), dtype=bool)
    patterns = list(enumerate(_CUE_RE.values()))
    any_cue = _ANY_CUE.search
    for j, words in enumerate(texts):
        if words:
            low = words.lower()
            if any_cue(low) is None:  # most reposts: one scan instead of one per kind
                continue
            for c, pattern in patterns:
                if pattern.search(low):
                    cue_flags[j, c] = True
    return Prepared(
        source_text=text,
        missing=missing,
        static=static,
        vtype=vtype,
        offsets=offsets,
        texts=texts,
        cue_flags=cue_flags,
        ids=[r.id for r in ordered],
        parents=[r.parent_id for r in ordered],
        authors=[r.author_id for r in ordered],
        source_id=inp.source_id,
        undated=undated,
    )


def _text_stats(text: str, out: list[float]) -> None:
    out[_I_TEXT_LENGTH] = math.log1p(len(text))
    out[_I_HAS_URL] = float(_URL.search(text) is not None)
    out[_I_MENTIONS] = math.log1p(len(_MENTION.findall(text))) if "@" in text else 0.0
    out[_I_HASHTAG] = float(text.count("#") >= 2)
    out[_I_BRACKETS] = float("【" in text)
    out[_I_QUESTION] = math.log1p(text.count("?") + text.count("？"))
    out[_I_EXCLAIM] = math.log1p(text.count("!") + text.count("！"))


def _propagation(p: Prepared, n: int, out: list[float]) -> None:
    idx = NUMERIC_INDEX
    out[_I_N_REPOSTS] = math.log1p(n)
    for k, at_time, at_reached in _TIME_TO_K_INDEX:
        if n >= k:
            out[at_time] = math.log1p(p.offsets[k - 1])
            out[at_reached] = 1.0
        else:
            out[at_time] = NOT_REACHED
    if n == 0:
        return
    offs = p.offsets[:n]
    span = float(offs[-1])
    hours = max(span / 3600, 1 / 60)
    out[idx["span_hours"]] = math.log1p(span / 3600)
    out[idx["velocity"]] = math.log1p(n / hours)
    half = span / 2
    first = int(np.searchsorted(offs, half, side="right"))
    out[idx["acceleration"]] = math.log((n - first + 1) / (first + 1))
    for w in COUNT_WINDOWS:
        out[idx[f"count_{w // 60}m"]] = math.log1p(int(np.searchsorted(offs, w, side="right")))
    depth = _depths(p.ids[:n], p.parents[:n], p.source_id)
    levels = np.bincount(depth)
    out[idx["max_depth"]] = float(depth.max())
    out[idx["mean_depth"]] = float(depth.mean())
    out[idx["share_deep"]] = float((depth >= 2).mean())
    out[idx["breadth"]] = math.log1p(int(levels.max()))
    out[idx["share_direct"]] = float((depth == 1).mean())
    out[idx["share_text"]] = sum(1 for t in p.texts[:n] if t) / n
    authors = [a for a in p.authors[:n] if a]
    out[idx["unique_users"]] = len(set(authors)) / len(authors) if authors else 1.0
    flags = p.cue_flags[:n]
    counts = flags.sum(axis=0)
    for c, name in enumerate(CUES):
        out[idx[f"share_{name}"]] = counts[c] / n
        out[idx[f"n_{name}"]] = math.log1p(int(counts[c]))


def _depths(
    ids: Sequence[str | None], parents: Sequence[str | None], root: str | None
) -> np.ndarray:
    """Depth of each repost in the repost tree (1 = reposted the source directly).

    Reposts are in time order, so a parent seen earlier already has its depth. A parent that
    was not observed (deleted, not crawled, or later than the horizon) puts the repost at
    depth 2: it answers somebody, not the source.
    """
    known: dict[str, int] = {}
    out = np.ones(len(ids), dtype=np.int64)
    for j, (rid, parent) in enumerate(zip(ids, parents, strict=True)):
        d = 1 if parent is None or parent == root else known.get(parent, 1) + 1
        out[j] = min(d, 50)
        if rid is not None:
            known[rid] = d
    return out


def to_matrix(rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """Rows from :meth:`Prepared.row` as the object array the pipeline takes."""
    matrix = np.empty((len(rows), N_TEXT_COLS + len(NUMERIC_FEATURES)), dtype=object)
    for i, row in enumerate(rows):
        matrix[i, :] = row
    return matrix


def numeric_block(x: np.ndarray) -> np.ndarray:
    """The numeric columns of an input matrix as floats (a FunctionTransformer step)."""
    return np.asarray(x, dtype=np.float64)


__all__ = [
    "CUES",
    "MIN_TEXT_CHARS",
    "NUMERIC_FEATURES",
    "TOO_SHORT",
    "Prepared",
    "RepostLite",
    "RumorInput",
    "meaningful_length",
    "own_words",
    "post_text",
    "prepare",
    "to_matrix",
    "too_short",
]
