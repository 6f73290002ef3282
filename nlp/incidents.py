"""Online incident detection: group posts about the same real-world happening.

* A repost, comment or reply joins the incident of its root (or parent) post: a dictionary
  look-up, no text work.
* A new root post is compared by TF-IDF cosine over :func:`nlp.tokenize.cut` tokens with the
  centroids of incidents active within ``window`` before or after it, multiplied by a time
  decay ``exp(-|Δt| / tau)``; it joins the best incident scoring at least ``threshold`` or
  starts a new one. Candidates come from an inverted index (term → incidents), so a root is
  compared only with incidents that share one of its strongest terms.
* A candidate is skipped when the words it shares with the root are only place and landmark
  names (plus generic words bringing less than ``min_event_similarity`` to the cosine), unless
  the root is a near-copy or says nothing but the place: see :func:`event_similarity`.
* IDF weights are jieba's bundled general-corpus table (static, so the same post always gets
  the same vector, whatever arrived before it).

Each incident keeps its keywords (top centroid terms), a title (the opening of its most
engaged root post), its district (most frequent region tag) and category (best lexicon match,
``nlp/categories.yaml``), and its :class:`~nlp.spread.SpreadStats`. Posts are placed by the
time they were written, so late posts update first/last seen and the velocity windows.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from models import Post
from nlp.hot_config import HotClusterConfig
from nlp.spread import SpreadStats
from nlp.tokenize import cut, is_place, office_stopwords

_URL = re.compile(r"https?:?/*[\w./?=&%#-]*|\bt\.cn/\w*|www\.[\w./-]+", re.IGNORECASE)
_REPOST_CHAIN = re.compile(r"//\s*@[^:：\s]{1,30}[:：].*", re.DOTALL)
_MENTION = re.compile(r"@[\w\u4e00-\u9fff-]{1,30}")
_EMOTICON = re.compile(r"\[[\w\u4e00-\u9fff]{1,8}\]")
_HASHTAG = re.compile(r"#([^#]{1,40})#")

STOPWORDS = frozenset(
    """
    一个 一些 一下 一直 一样 不是 不要 不会 不能 不过 也是 了解 什么 今天
    他们 以后 但是 你们 其实 出来 到底 可以 可能 可是 各位 因为 因此 大家
    如果 就是 已经 应该 我们 所以 所有 手机 把握 时候 明天 是不是 昨天 有人
    有没有 没有 现在 真的 知道 看看 看到 社会 自己 觉得 请问 转发 转给 转载
    这个 这些 这样 这种 那个 那些 还是 还有 还要 通过 需要 非常 微博 网友
    原文 评论 回复 视频 图片 链接 分享 全文 详情 关注 朋友 扩散 求扩散 紧急
    紧急扩散 帮忙 哈哈 哈哈哈 呵呵 她们 它们 这里 那里 这么 那么 怎么 为什么
    一定 只是 而且 然后
    今晚 今早 今晨 明晚 昨晚 晚上 早上 上午 中午 下午 傍晚 夜里 半夜 凌晨 刚刚 刚才
    最近 马上 周末 周一 周二 周三 周四 周五 周六 周日 周天 星期 星期天 星期六 礼拜
    """.split()  # noqa: SIM905 - a word list reads better as text
)
#: The last two lines above are words of *when* (tonight, Friday, this morning): every
#: evening's chatter says them, so two unrelated posts of one evening share them; counted
#: as topic, they glued a food vote and a shop's music night into one incident.


def clean_text(text: str) -> str:
    """A post's own words: without links, ``//@user:`` repost chains, mentions, emoticons."""
    text = _REPOST_CHAIN.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _EMOTICON.sub(" ", text)
    return _HASHTAG.sub(r" \1 ", text)


def content_tokens(text: str) -> list[str]:
    """Tokens that carry topic: two characters or more, not numbers, not stop words (these
    and the office's own, ``nlp.stopwords``)."""
    office = office_stopwords()
    return [
        t
        for t in cut(clean_text(text))
        if len(t) >= 2
        and t not in STOPWORDS
        and t not in office
        and not t.replace(".", "").isdigit()
    ]


@lru_cache(maxsize=1)
def _idf_table() -> tuple[dict[str, float], float]:
    """jieba's bundled IDF table and its median (the weight of unknown words)."""
    # Located without importing jieba.analyse, whose import leaves this file open.
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return {}, 10.0
    text = (Path(spec.origin).parent / "analyse" / "idf.txt").read_text("utf-8")
    table: dict[str, float] = {}
    for line in text.splitlines():
        word, _, value = line.rpartition(" ")
        if word:
            table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2] if values else 10.0


def tfidf_vector(tokens: Iterable[str], top: int = 30) -> dict[str, float]:
    """L2-normalised TF-IDF weights of the ``top`` strongest terms."""
    table, median = _idf_table()
    counts = Counter(tokens)
    weights = {t: (1.0 + math.log(c)) * table.get(t, median) for t, c in counts.items()}
    if len(weights) > top:
        weights = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:top])
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items()}


# -- categories ------------------------------------------------------------------------------
DEFAULT_CATEGORIES = "categories.yaml"


@lru_cache(maxsize=8)
def load_categories(path: str | None = None) -> dict[str, tuple[str, ...]]:
    """Category lexicon: ``{category: (keyword, ...)}`` in priority order.

    ``path`` is a YAML mapping of category to keyword list; ``None`` is the shipped
    ``nlp/categories.yaml``.
    """
    if path is None:
        raw = resources.files("nlp").joinpath(DEFAULT_CATEGORIES).read_text("utf-8")
    else:
        raw = Path(path).read_text("utf-8")
    data = yaml.safe_load(raw) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path or DEFAULT_CATEGORIES}: must map category to keyword list")
    out: dict[str, tuple[str, ...]] = {}
    for name, words in data.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"{path or DEFAULT_CATEGORIES}: {name}: must be a list of words")
        out[str(name)] = tuple(words)
    return out


def category_hits(text: str, lexicon: dict[str, tuple[str, ...]]) -> Counter[str]:
    """Keyword occurrences per category in one text."""
    hits: Counter[str] = Counter()
    for name, words in lexicon.items():
        n = sum(text.count(w) for w in words)
        if n:
            hits[name] = n
    return hits


def best_category(hits: Counter[str], lexicon: dict[str, tuple[str, ...]]) -> str | None:
    """The category with most hits; on a tie the one listed first in the lexicon."""
    best, best_hits = None, 0
    for name in lexicon:
        if hits.get(name, 0) > best_hits:
            best, best_hits = name, hits[name]
    return best


def categorise(texts: Iterable[str], lexicon: dict[str, tuple[str, ...]]) -> str | None:
    """The category whose keywords occur most often in ``texts`` (first listed wins ties)."""
    hits: Counter[str] = Counter()
    for text in texts:
        hits.update(category_hits(text, lexicon))
    return best_category(hits, lexicon)


# -- the engine ------------------------------------------------------------------------------
MAX_TEXTS = 20


def incident_id_for(post_id: str) -> str:
    """Deterministic incident id from the post that opened it (idempotent replays)."""
    return "inc-" + hashlib.sha1(post_id.encode("utf-8")).hexdigest()[:16]


@dataclass
class IncidentCluster:
    """The live state of one incident inside :class:`IncidentEngine`."""

    id: str
    root_ids: list[str] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)
    term_counts: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    title: str = ""
    title_score: float = -1.0
    #: the first few root texts (for people and later stages; not needed for scoring)
    texts: list[str] = field(default_factory=list)
    stats: SpreadStats = field(default_factory=SpreadStats)
    category: str | None = None
    category_hits: Counter[str] = field(default_factory=Counter)
    district: str | None = None
    #: Set whenever a post joins; the detection pass clears it after saving the incident.
    dirty: bool = True

    @property
    def first_seen(self) -> float | None:
        return self.stats.first

    @property
    def last_seen(self) -> float | None:
        return self.stats.last

    def keywords(self, n: int = 8) -> list[str]:
        return [t for t, _ in sorted(self.centroid.items(), key=lambda kv: -kv[1])[:n]]

    def to_state(self) -> dict:
        return {
            "id": self.id,
            "roots": self.root_ids,
            "centroid": self.centroid,
            "terms": dict(self.term_counts),
            "regions": dict(self.regions),
            "title": self.title,
            "title_score": self.title_score,
            "texts": self.texts,
            "stats": self.stats.to_state(),
            "category": self.category,
            "category_hits": dict(self.category_hits),
            # posts joined since the incident was last saved (a detection pass saves and
            # clears it; a backlog chunk or an import hook stores the detector before that)
            **({"dirty": True} if self.dirty else {}),
        }

    @classmethod
    def from_state(cls, data: dict) -> IncidentCluster:
        return cls(
            id=data["id"],
            root_ids=list(data.get("roots", [])),
            centroid=dict(data.get("centroid", {})),
            term_counts=Counter(data.get("terms", {})),
            regions=Counter(data.get("regions", {})),
            title=data.get("title", ""),
            title_score=data.get("title_score", -1.0),
            texts=list(data.get("texts", [])),
            stats=SpreadStats.from_state(data.get("stats", {})),
            category=data.get("category"),
            category_hits=Counter(data.get("category_hits", {})),
            district=Counter(data.get("regions", {})).most_common(1)[0][0]
            if data.get("regions")
            else None,
            dirty=bool(data.get("dirty", False)),
        )


def _place_terms(vector: dict[str, float], regions: list[str]) -> set[str]:
    """Terms of ``vector`` that name one of the post's places (江北 of 江北区)."""
    if not regions:
        return set()
    return {t for t in vector if any(t in r or r in t for r in regions)}


#: A root at least this similar to an incident is a copy of its posts: it joins on its
#: words whatever they are (a re-posted notice that names only the road).
NEAR_DUPLICATE = 0.8
#: A root whose words besides place names weigh less than this (of its unit vector) says
#: nothing but the place: there is no other story in it to keep apart.
PLACE_ONLY = 0.3


def event_similarity(
    vector: dict[str, float], centroid: dict[str, float], places: set[str]
) -> tuple[float, float]:
    """(the part of the cosine owed to shared words that are not place or landmark names,
    the weight of the root's own words that are not), for :meth:`IncidentEngine._place_root`.

    Place names are rare words, so their IDF makes them a post's strongest terms: two posts
    that only name the same street (a lost cat near 锦绣小区, the heating complaint of
    锦绣小区) had a cosine of 0.37. Names are :func:`nlp.tokenize.is_place` (the gazetteer's
    names and their parts, words with a place ending) and the root's region names.
    """
    shared = own = 0.0
    for term, weight in vector.items():
        if term in places or is_place(term):
            continue
        own += weight * weight
        if term in centroid:
            shared += weight * centroid[term]
    return shared, math.sqrt(own)


#: Openers that say "spread this" or "urgent", not what happened: never a title alone.
_URGENCY = re.compile(
    r"^(?:紧急|扩散|紧急扩散|求扩散|转发|求转|急|急急急|重磅|突发|注意|提醒|速看|刚刚|快看|"
    r"大家注意|紧急通知|重要通知|震惊|出大事了|出事了)+[!！。，,\s]*$"
)
TITLE_CHARS = 40


def _clip(text: str, limit: int = TITLE_CHARS) -> str:
    """``text`` within ``limit`` characters, cut after the last clause that fits (，；：、)
    with an ellipsis, never in the middle of a phrase when a clause boundary exists
    (「…被打后送医、已无生命」 read as a death; 「…被打后送医…」 does not)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max(head.rfind(mark) for mark in "，,；;：:、 ")
    if cut >= limit // 2:
        head = head[:cut]
    return head.rstrip("，,；;：:、 ") + "…"


def title_of(post: Post) -> str:
    if post.title and post.title.strip():
        return _clip(post.title)
    # A short leading 【...】 is the account's tag (【青川消防】), not a headline.
    text = re.sub(r"^\s*【[^】]{1,12}】", "", clean_text(post.text)).strip()
    sentences = [s.strip() for s in re.split(r"[。！？!?\n]", text) if s.strip()]
    # 「紧急扩散！北塘化工园刚刚爆炸泄漏了」 is titled by what happened, not by the opener.
    told = [s for s in sentences if not _URGENCY.match(s) and len(s) >= 4]
    first = (told or sentences or [text])[0]
    return _clip(re.sub(r"\s+", " ", first))


@dataclass
class Assignment:
    """Where one post went: its incident, whether that incident is new, and why."""

    post_id: str
    incident_id: str
    new_incident: bool
    how: str
    score: float | None = None


class IncidentArchive:
    """Incidents that left the live engine, kept so a late post rejoins them whole.

    This in-memory archive is what a replay without a store uses; the detection pass uses
    :class:`nlp.detect.StoreArchive` (the same three methods over the store), so both give
    the same incidents.
    """

    def __init__(self) -> None:
        self.clusters: dict[str, dict] = {}
        self.posts: dict[str, str] = {}
        #: incidents brought back so far (for figures and tests)
        self.revived = 0

    def put(self, cluster: IncidentCluster, posts: dict[str, str]) -> None:
        self.clusters[cluster.id] = cluster.to_state()
        self.posts.update(posts)

    def get(self, incident_id: str) -> IncidentCluster | None:
        data = self.clusters.pop(incident_id, None)
        return IncidentCluster.from_state(data) if data is not None else None

    def incident_of(self, post_id: str) -> str | None:
        return self.posts.get(post_id)


class IncidentEngine:
    """Assigns posts to incidents as they arrive (any order; placed at their written time).

    ``archive`` is asked for the incident of a parent post the engine no longer holds and
    for that incident's state (the detection pass passes the store), so a repost days
    after its incident left the engine joins it with everything it had, never an empty
    incident under the same id.
    """

    def __init__(
        self,
        config: HotClusterConfig | None = None,
        lexicon: dict[str, tuple[str, ...]] | None = None,
        archive: IncidentArchive | None = None,
    ) -> None:
        self.config = config or HotClusterConfig()
        self.lexicon = lexicon if lexicon is not None else load_categories()
        self.archive = archive if archive is not None else IncidentArchive()
        self.incidents: dict[str, IncidentCluster] = {}
        #: root or parent post id -> incident id (every post that can be answered)
        self.post_incident: dict[str, str] = {}
        #: roots answered before they arrived -> the incident opened for them
        self.pending_roots: dict[str, str] = {}
        self._index: dict[str, set[str]] = {}

    # -- assignment -----------------------------------------------------------------------
    def assign(self, post: Post) -> Assignment:
        known = self.post_incident.get(post.id)
        if known is not None:
            # The same post again (re-crawl): refresh counts without counting it twice.
            cluster = self.incidents[known]
            if post.root_id is None or post.root_id == post.id:
                cluster.stats.engagement[post.id] = (post.reposts, post.comments, post.likes)
                cluster.dirty = True
            return Assignment(post.id, known, False, "seen")
        anchor = None
        if post.root_id and post.root_id != post.id:
            anchor = post.root_id
        elif post.parent_id:
            anchor = post.parent_id
        if anchor is not None:
            return self._join_thread(post, anchor)
        waiting = self.pending_roots.pop(post.id, None)
        if waiting is not None and waiting in self.incidents:
            return self._place_root(post, self.incidents[waiting])
        return self._place_root(post)

    def assign_many(self, posts: Iterable[Post]) -> list[Assignment]:
        return [self.assign(p) for p in posts]

    def _join_thread(self, post: Post, anchor: str) -> Assignment:
        inc_id = self.post_incident.get(anchor) or self.pending_roots.get(anchor)
        if inc_id is None and post.parent_id and post.parent_id != anchor:
            inc_id = self.post_incident.get(post.parent_id)
        if inc_id is None:
            inc_id = self.archive.incident_of(anchor)
            if inc_id is None and post.parent_id and post.parent_id != anchor:
                inc_id = self.archive.incident_of(post.parent_id)
        if inc_id is not None and inc_id not in self.incidents:
            self._revive(inc_id)
        new = False
        if inc_id is None:
            # The root has not arrived (yet): open its incident now; the root joins it later.
            inc_id = incident_id_for(anchor)
            if not self._revive(inc_id):
                self.incidents[inc_id] = IncidentCluster(id=inc_id)
                new = True
        if anchor not in self.post_incident:
            self.pending_roots[anchor] = inc_id
        self.post_incident[post.id] = inc_id
        cluster = self.incidents[inc_id]
        self._add(cluster, post, root=False)
        return Assignment(post.id, inc_id, new, "thread")

    def _place_root(self, post: Post, joined: IncidentCluster | None = None) -> Assignment:
        cfg = self.config
        tokens = content_tokens(f"{post.title or ''}\n{post.text}")
        vector = tfidf_vector(tokens, cfg.top_terms)
        ts = post.created_at.timestamp()
        best_id, best_score = None, 0.0
        places = _place_terms(vector, post.region_tags)
        if vector and joined is None:
            probes = sorted(vector.items(), key=lambda kv: -kv[1])[: cfg.probe_terms]
            candidates: set[str] = set()
            for term, _ in probes:
                candidates.update(self._index.get(term, ()))
            window = cfg.window.total_seconds()
            tau = cfg.tau.total_seconds()
            for inc_id in candidates:
                cluster = self.incidents[inc_id]
                first, last = cluster.first_seen, cluster.last_seen
                if first is None or last is None:
                    continue
                gap = 0.0 if first <= ts <= last else min(abs(ts - first), abs(ts - last))
                if gap > window:
                    continue
                centroid = cluster.centroid
                topical = sum(1 for t in vector if t in centroid and t not in places)
                if topical < cfg.min_shared:
                    # One shared word besides place names (the city's, the district's) is
                    # not the same story: 江北夜市 米线 and 江北夜市 城管打人 are two.
                    continue
                sim = sum(w * centroid[t] for t, w in vector.items() if t in centroid)
                if sim < NEAR_DUPLICATE and cfg.min_event_similarity > 0:
                    event, own = event_similarity(vector, centroid, places)
                    if event < cfg.min_event_similarity and own >= PLACE_ONLY:
                        # A place and landmark in common, nothing of what happened: the
                        # repair shop moving off 望湖路 is not the crash on 望湖路.
                        continue
                score = sim * math.exp(-gap / tau)
                if score > best_score:
                    best_id, best_score = inc_id, score
        if joined is not None:
            cluster, new, how = joined, False, "thread"
        elif best_id is not None and best_score >= cfg.threshold:
            cluster, new, how = self.incidents[best_id], False, "similar"
        else:
            inc_id = incident_id_for(post.id)
            new, how = True, "new"
            if inc_id not in self.incidents and self._revive(inc_id):
                new = False
            cluster = self.incidents.get(inc_id) or IncidentCluster(id=inc_id)
            self.incidents[inc_id] = cluster
        self.post_incident[post.id] = cluster.id
        cluster.root_ids.append(post.id)
        self._merge_vector(cluster, vector)
        cluster.term_counts.update(tokens)
        if len(cluster.texts) < MAX_TEXTS:
            cluster.texts.append(post.text[:500])
        if self.lexicon:
            hits = category_hits(f"{post.title or ''}\n{post.text}", self.lexicon)
            if hits:
                cluster.category_hits.update(hits)
                cluster.category = best_category(cluster.category_hits, self.lexicon)
        self._add(cluster, post, root=True)
        score = round(best_score, 4) if best_id is not None else None
        return Assignment(post.id, cluster.id, new, how, score)

    def _revive(self, inc_id: str) -> bool:
        """Bring an incident back from the archive (whole: posts, terms, spread)."""
        cluster = self.archive.get(inc_id)
        if cluster is None:
            # Unknown to the archive too (an archive from before it kept states): start it
            # empty; the record keeps what it had (see nlp.detect.Evaluation.to_incident).
            self.incidents[inc_id] = IncidentCluster(id=inc_id)
            return False
        self.incidents[inc_id] = cluster
        self.archive.revived += 1
        for term in cluster.centroid:
            self._index.setdefault(term, set()).add(inc_id)
        for root in cluster.root_ids:
            self.post_incident.setdefault(root, inc_id)
        cluster.dirty = True
        return True

    def _merge_vector(self, cluster: IncidentCluster, vector: dict[str, float]) -> None:
        if not vector:
            return
        n = len(cluster.root_ids)
        merged = {t: w * (n - 1) for t, w in cluster.centroid.items()}
        for term, weight in vector.items():
            merged[term] = merged.get(term, 0.0) + weight
        top = sorted(merged.items(), key=lambda kv: -kv[1])[: self.config.centroid_terms]
        norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
        old_terms = set(cluster.centroid)
        cluster.centroid = {t: w / norm for t, w in top}
        for term in old_terms - set(cluster.centroid):
            bucket = self._index.get(term)
            if bucket is not None:
                bucket.discard(cluster.id)
        for term in cluster.centroid:
            self._index.setdefault(term, set()).add(cluster.id)

    def _add(self, cluster: IncidentCluster, post: Post, root: bool) -> None:
        cluster.stats.add(post)
        if post.region_tags:
            cluster.regions.update(post.region_tags)
            cluster.district = cluster.regions.most_common(1)[0][0]
        if root or not cluster.title:
            engaged = post.reposts + post.comments + post.likes + (1e6 if root else 0)
            if engaged > cluster.title_score and (post.text.strip() or post.title):
                cluster.title, cluster.title_score = title_of(post), engaged
        cluster.dirty = True

    # -- maintenance ----------------------------------------------------------------------
    def prune(self, before: datetime | float) -> list[str]:
        """Move incidents whose last post is older than ``before`` from the live engine to
        the archive (their records stay in the store). Returns their ids."""
        ts = before.timestamp() if isinstance(before, datetime) else float(before)
        old = [i for i, c in self.incidents.items() if (c.last_seen or ts) < ts]
        gone = set(old)
        by_incident: dict[str, dict[str, str]] = {i: {} for i in old}
        if old:
            for p, i in self.post_incident.items():
                if i in gone:
                    by_incident[i][p] = i
        for inc_id in old:
            cluster = self.incidents.pop(inc_id)
            self.archive.put(cluster, by_incident[inc_id])
            for term in cluster.centroid:
                bucket = self._index.get(term)
                if bucket is not None:
                    bucket.discard(inc_id)
                    if not bucket:
                        del self._index[term]
        if old:
            self.post_incident = {p: i for p, i in self.post_incident.items() if i not in gone}
            self.pending_roots = {p: i for p, i in self.pending_roots.items() if i not in gone}
        return old

    def to_state(self, include_posts: bool = False) -> dict:
        """Plain-JSON state. Only root ids are kept in ``posts`` unless ``include_posts``:
        the store holds every post's incident id for the rest."""
        roots = {p: c.id for c in self.incidents.values() for p in c.root_ids}
        if include_posts:
            roots = dict(self.post_incident)
        return {
            "incidents": [c.to_state() for c in self.incidents.values()],
            "posts": roots,
            "pending": self.pending_roots,
        }

    @classmethod
    def from_state(
        cls,
        state: dict | None,
        config: HotClusterConfig | None = None,
        lexicon: dict[str, tuple[str, ...]] | None = None,
        archive: IncidentArchive | None = None,
    ) -> IncidentEngine:
        engine = cls(config, lexicon, archive)
        if not state:
            return engine
        for data in state.get("incidents", []):
            cluster = IncidentCluster.from_state(data)
            engine.incidents[cluster.id] = cluster
            for term in cluster.centroid:
                engine._index.setdefault(term, set()).add(cluster.id)
        engine.post_incident = {
            p: i for p, i in state.get("posts", {}).items() if i in engine.incidents
        }
        engine.pending_roots = {
            p: i for p, i in state.get("pending", {}).items() if i in engine.incidents
        }
        return engine


def epoch_to_dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)
