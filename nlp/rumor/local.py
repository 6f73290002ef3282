"""Labelled local posts: the project's own fictional cities, for training and checking the
rumor model where an office works (forums, news portals, message boards, Weibo; with and
without author profiles), not only on CED.

A set is a tab-separated file (``nlp/data/local/*.tsv``; lines starting with ``#`` are
comments) with the columns::

    topic  shape  kind  label  author  title  text

* ``topic``: posts about the same happening share it (``-``: a post of its own); grouped
  cross-validation keeps a topic in one fold;
* ``shape``: ``weibo``, ``forum``, ``news`` or ``board`` (a government message board);
* ``kind``: ``notice``, ``news``, ``complaint``, ``consult``, ``claim``, ``doubt``,
  ``rebuttal``, ``ad`` or ``chatter``;
* ``label``: 1 when the post spreads an unverified or false claim (asserting it, or
  passing it on as a question), else 0;
* ``author``: ``-`` nothing known, ``name`` a user name only (forums), ``u`` an ordinary
  Weibo user, ``new`` a days-old account, ``v`` a verified person, ``gov`` / ``media`` a
  verified government / media account, ``office`` one of the office's own accounts;
* ``title``: a thread's or article's title (``-``: none); ``text``: the post (``\\n`` for a
  line break).

Only Weibo-shaped posts carry a profile (followers, friends, posts, account age); the other
shapes carry at most a name, as the crawler stores them. Profiles, times and ids are
derived deterministically from the file name and line, so a set always loads the same.

``python -m nlp.rumor.local [--model FILE] SET.tsv ...`` prints the evaluation as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models import Author, Post
from nlp.rumor.features import RumorInput, prepare, too_short

if TYPE_CHECKING:
    from nlp.rumor.model import RumorModel
    from nlp.rumor.training import Dataset

SHAPES = ("weibo", "forum", "news", "board")
KINDS = ("notice", "news", "complaint", "consult", "claim", "doubt", "rebuttal", "ad", "chatter")
AUTHORS = ("-", "name", "u", "new", "v", "gov", "media", "office")
_COLUMNS = 7
_CST = timezone(timedelta(hours=8))
_BASE = datetime(2026, 12, 1, 7, 30, tzinfo=_CST)
#: Every this-many-th forum or board post has no source time (pages without a date).
_NO_TIME_EVERY = 9


class LocalSetError(ValueError):
    """A local set that cannot be read: the file and line, and what is wrong."""


@dataclass
class LocalPost:
    """One labelled post of a local set."""

    city: str
    line: int
    topic: str | None
    shape: str
    kind: str
    label: bool
    author_kind: str
    post: Post
    input: RumorInput

    @property
    def id(self) -> str:
        return self.post.id

    @property
    def has_profile(self) -> bool:
        return self.author_kind in ("u", "new", "v", "gov", "media", "office")


@dataclass
class LocalSet:
    """The posts of one or more local set files."""

    posts: list[LocalPost] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.posts)

    def __add__(self, other: LocalSet) -> LocalSet:
        return LocalSet(self.posts + other.posts)

    @property
    def y(self) -> np.ndarray:
        return np.asarray([p.label for p in self.posts], dtype=np.int64)

    def groups(self) -> np.ndarray:
        """Posts of one topic share a group; a post of its own is a group by itself."""
        ids: dict[str, int] = {}
        keys = [f"{p.city}:{p.topic}" if p.topic else p.id for p in self.posts]
        return np.asarray([ids.setdefault(k, len(ids)) for k in keys])

    def subset(self, index: Sequence[int] | np.ndarray) -> LocalSet:
        return LocalSet([self.posts[i] for i in index])

    def dataset(self) -> Dataset:
        """As training events (lone posts) for :func:`nlp.rumor.training.train`; posts too
        short to be scored are left out, as scoring leaves them out."""
        from nlp.rumor.training import Dataset

        data = Dataset()
        for p in self.posts:
            if too_short(p.input.text):
                continue
            data.event_ids.append(p.id)
            data.labels.append(p.label)
            data.prepared.append(prepare(p.input))
        return data

    def office(self) -> dict[str, list[Any]]:
        """The ``office:`` section these cities' posts were written for."""
        cities = sorted({p.city for p in self.posts})
        return {
            "accounts": [f"{c}-office" for c in cities],
            "sources": [f"{c}-gov" for c in cities],
            "verified_types": [1, 3],
        }


def load_local(*paths: str | Path) -> LocalSet:
    """Read local set files; raises :class:`LocalSetError` naming the file and line."""
    out = LocalSet()
    for path in paths:
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise LocalSetError(f"{path}: 无法读取（{exc}）") from None
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            out.posts.append(_parse(path, number, line))
    return out


def _parse(path: Path, number: int, line: str) -> LocalPost:
    where = f"{path}:{number}"
    cols = line.split("\t")
    if len(cols) != _COLUMNS:
        raise LocalSetError(f"{where}: 应有 {_COLUMNS} 列（以制表符分隔），实有 {len(cols)} 列")
    topic, shape, kind, label, author_kind, title, text = (c.strip() for c in cols)
    for name, value, allowed in (
        ("shape", shape, SHAPES),
        ("kind", kind, KINDS),
        ("author", author_kind, AUTHORS),
        ("label", label, ("0", "1")),
    ):
        if value not in allowed:
            raise LocalSetError(f"{where}: {name} 的值 {value!r} 应为 {'、'.join(allowed)} 之一")
    city = path.stem
    text = text.replace("\\n", "\n")
    rng = random.Random(zlib.crc32(f"{city}:{number}".encode()))
    created = _BASE + timedelta(minutes=17 * number + rng.randrange(17))
    source = f"{city}-gov" if shape == "news" and author_kind in ("gov", "office") else None
    post = Post(
        source=source or f"{city}-{shape}",
        native_id=str(number),
        kind={"weibo": "post", "forum": "thread", "news": "article", "board": "message"}[shape],
        author=_author(city, number, shape, author_kind, rng, created),
        title=None if title == "-" else title,
        text=text,
        created_at=created,
    )
    inp = RumorInput.from_posts(post)
    if shape in ("forum", "board") and number % _NO_TIME_EVERY == 0:
        inp.created_at = None
    return LocalPost(
        city, number, None if topic == "-" else topic, shape, kind, label == "1", author_kind,
        post, inp,
    )  # fmt: skip


def _author(
    city: str, number: int, shape: str, kind: str, rng: random.Random, at: datetime
) -> Author:
    uid = f"{city}-{kind}-{number}"
    if kind == "-":
        return Author()
    if kind == "office":
        uid = f"{city}-office"
    if shape != "weibo" or kind == "name":
        # Forums, portals and boards show a name at most, never counts.
        return Author(id=uid, name=f"用户{number}")

    def count(lo: int, hi: int) -> int:
        return round(10 ** rng.uniform(np.log10(lo), np.log10(hi)))

    def since(lo: int, hi: int) -> datetime:
        return at - timedelta(days=rng.uniform(lo, hi))

    if kind == "u":
        return Author(
            id=uid, followers=count(20, 5000), friends=count(50, 1500),
            posts=count(30, 8000), created_at=since(200, 4000), verified_type=-1,
        )  # fmt: skip
    if kind == "new":
        return Author(
            id=uid, followers=count(1, 40), friends=count(5, 300), posts=count(1, 40),
            created_at=since(1, 25), verified_type=-1,
        )  # fmt: skip
    if kind == "v":
        return Author(
            id=uid, verified=True, verified_type=0, followers=count(20_000, 800_000),
            friends=count(100, 2000), posts=count(1000, 20_000), created_at=since(900, 4000),
        )  # fmt: skip
    vtype = 3 if kind == "media" else 1
    return Author(
        id=uid, verified=True, verified_type=vtype, followers=count(50_000, 3_000_000),
        friends=count(50, 1500), posts=count(3000, 60_000), created_at=since(1500, 4500),
    )  # fmt: skip


def evaluate_local(model: RumorModel, local: LocalSet, threshold: float = 0.5) -> dict[str, Any]:
    """ROC-AUC and false-rumor rate (share of non-rumors scored ≥ ``threshold``) of the
    model on the posts it scores, with the same per shape, profile and kind.

    Posts too short to be scored are counted in ``unscored`` and left out."""
    scores = model.score(p.input for p in local.posts)
    kept = [(p, s.probability) for p, s in zip(local.posts, scores, strict=True)]
    scored = [(p, prob) for p, prob in kept if prob is not None]
    out = _metrics(scored, threshold)
    out["unscored"] = len(kept) - len(scored)
    out["by_shape"] = {
        shape: _metrics([x for x in scored if x[0].shape == shape], threshold)
        for shape in SHAPES
        if any(x[0].shape == shape for x in scored)
    }
    out["by_profile"] = {
        name: _metrics([x for x in scored if x[0].has_profile == flag], threshold)
        for name, flag in (("with profile", True), ("without profile", False))
    }
    out["incidents"] = _incidents(local, [s.probability for s in scores], threshold)
    totals = Counter(p.kind for p, _ in scored if not p.label)
    high = Counter(p.kind for p, s in scored if not p.label and s >= threshold)
    out["false_rumors_by_kind"] = {kind: f"{high[kind]}/{n}" for kind, n in totals.items()}
    return out


def _incidents(local: LocalSet, probs: list[float | None], threshold: float) -> dict[str, Any]:
    """Each topic as one incident (a rumor incident when any of its posts spreads a claim):
    how many reach ``threshold`` under :func:`nlp.rumor.incident.score_incident` (with the
    set's office accounts), and under the maximum over the posts that was used before."""
    from nlp.rumor.incident import score_incident

    topics: dict[str, list[tuple[LocalPost, float | None]]] = {}
    for p, prob in zip(local.posts, probs, strict=True):
        if p.topic:
            topics.setdefault(f"{p.city}:{p.topic}", []).append((p, prob))
    office = local.office()
    counts = {
        kind: {"incidents": 0, "score_at_least": 0, "max_at_least": 0}
        for kind in ("rumor", "other")
    }
    for members in topics.values():
        kind = "rumor" if any(p.label for p, _ in members) else "other"
        posts = [p.post.model_copy(update={"rumor_score": prob}) for p, prob in members]
        score = score_incident(posts, office).score
        highest = max((prob for _, prob in members if prob is not None), default=None)
        entry = counts[kind]
        entry["incidents"] += 1
        entry["score_at_least"] += int(score is not None and score >= threshold)
        entry["max_at_least"] += int(highest is not None and highest >= threshold)
    return counts


def _metrics(scored: list[tuple[LocalPost, float]], threshold: float) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    y = np.asarray([p.label for p, _ in scored], dtype=np.int64)
    s = np.asarray([prob for _, prob in scored], dtype=np.float64)
    negatives, positives = s[y == 0], s[y == 1]
    both = len(negatives) and len(positives)
    return {
        "n": len(y),
        "rumors": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, s)), 4) if both else None,
        "false_rumor_rate": round(float((negatives >= threshold).mean()), 4)
        if len(negatives)
        else None,
        "recall": round(float((positives >= threshold).mean()), 4) if len(positives) else None,
    }


def cross_validate_local(
    base: Dataset,
    local: LocalSet,
    *,
    folds: int = 4,
    random_state: int = 0,
    params: dict[str, Any] | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Grouped k-fold CV over a local set (topics kept in one fold): each fold trains on
    ``base`` (CED) plus the other folds' local posts and scores the held-out posts. Pooled
    out-of-fold figures as :func:`evaluate_local` gives them."""
    from sklearn.model_selection import StratifiedGroupKFold

    from nlp.rumor.training import train

    y, groups = local.y, local.groups()
    probs: list[float | None] = [None] * len(local)
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    for tr, te in splitter.split(np.zeros(len(y)), y, groups):
        model = train(base + local.subset(tr).dataset(), random_state=random_state, params=params)
        held = local.subset(te)
        for i, score in zip(te, model.score(p.input for p in held.posts), strict=True):
            probs[i] = score.probability
    scored = [(p, s) for p, s in zip(local.posts, probs, strict=True) if s is not None]
    out = _metrics(scored, threshold)
    out["folds"] = folds
    out["groups"] = len(set(groups.tolist()))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlp.rumor.local", description="Evaluate a rumor model on local sets."
    )
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    args = parser.parse_args(argv)
    from nlp.rumor.model import ModelError, load_model

    try:
        model = load_model(args.model)
        local = load_local(*args.sets)
    except (ModelError, LocalSetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = evaluate_local(model, local)
    result["model_version"] = model.version
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
