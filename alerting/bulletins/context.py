"""What a bulletin template may use: facts taken from the incident's posts, nothing else.

:func:`build_context` reads the incident and its posts from the store and returns a
:class:`BulletinContext`; :meth:`BulletinContext.sample` is the context every template is
rendered against when it is loaded, so a template naming a field that does not exist fails
at start-up, not while an incident is burning.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerting.responses import ANSWER_THRESHOLD, is_official
from alerting.summary import strip_noise, summarise
from models import SHANGHAI, Bulletin, BulletinStatus, Incident, Post, ensure_aware
from nlp.claims import ClaimIndex, ClaimItem, clean
from nlp.tokenize import normalise

#: Post kinds that carry a claim of their own (comments and replies react to one).
CLAIM_KINDS = frozenset({"post", "thread", "article", "message"})
QUOTE_CHARS = 60
TOPIC_CHARS = 24
_CLAUSE = re.compile(r"[，,。！？!?；;：:\s]")
_SENTENCE = re.compile(r"(?<=[。！？!?])")
_HEARSAY = re.compile(r"^(网传|听说|据说|有人说|有网友说|刚刚|突发|紧急扩散|扩散)[：:，,\s]*")
#: Labels of how earlier answers were given.
KIND_LABELS = {"bulletin": "通报", "official": "官方回应", "rumor": "类似谣言"}


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfficeFact(_Fact):
    name: str


class IncidentFact(_Fact):
    id: str
    title: str
    district: str | None = None
    category: str | None = None
    keywords: list[str] = Field(default_factory=list)
    rumor_score: float | None = None
    heat: float = 0.0


class PlaceFact(_Fact):
    """Where, as the posts say: the district first, then the other places they name."""

    main: str
    text: str
    tags: list[str] = Field(default_factory=list)
    #: Landmarks of the gazetteer the posts name (most named first).
    landmarks: list[str] = Field(default_factory=list)


class ClaimFact(_Fact):
    """One circulating claim: posts saying the same thing, grouped by claim matching."""

    text: str
    quote: str
    posts: int
    reposts: int
    first_at: datetime
    first_seen_text: str
    first_source: str
    first_url: str | None = None
    post_ids: list[str] = Field(default_factory=list)


class SpreadFact(_Fact):
    posts: int = 0
    reposts: int = 0
    comments: int = 0
    authors: int = 0
    peak_per_hour: int = 0
    peak_hour_text: str = ""


class EarlierAnswer(_Fact):
    """An earlier bulletin, official post or rumor saying something similar."""

    id: str
    kind: str
    kind_label: str
    date: datetime | None = None
    date_text: str
    text: str
    link: str | None = None
    similarity: float


class OfficialPost(_Fact):
    """What the office's accounts (or an official board's replies) already said."""

    author: str
    time_text: str
    quote: str
    url: str | None = None
    post_id: str


class SummaryLine(_Fact):
    text: str
    post_id: str


class PreviousBulletin(_Fact):
    id: str
    title: str
    subject: str
    kind: str
    date_text: str


class BulletinContext(_Fact):
    """Every name a template can use (plus the function ``gap(label)``)."""

    office: OfficeFact
    incident: IncidentFact
    place: PlaceFact
    first_seen_text: str
    last_seen_text: str
    now_text: str
    issued_on_text: str
    sources_text: str
    topic: str
    claims: list[ClaimFact] = Field(default_factory=list)
    spread: SpreadFact = Field(default_factory=SpreadFact)
    earlier: list[EarlierAnswer] = Field(default_factory=list)
    similar_rumors: list[EarlierAnswer] = Field(default_factory=list)
    summary: list[SummaryLine] = Field(default_factory=list)
    previous: list[PreviousBulletin] = Field(default_factory=list)
    #: The office's own posts and replies already in this incident, oldest first.
    official: list[OfficialPost] = Field(default_factory=list)

    @classmethod
    def sample(cls, *, full: bool = True) -> BulletinContext:
        """A context with every field set (``full``) or every list empty, for load checks."""
        at = datetime(2026, 3, 5, 14, 20, tzinfo=SHANGHAI)
        claim = ClaimFact(
            text="样例说法",
            quote="样例说法",
            posts=3,
            reposts=10,
            first_at=at,
            first_seen_text=time_text(at),
            first_source="微博",
            first_url="http://127.0.0.1/p/1",
            post_ids=["s:1"],
        )
        answer = EarlierAnswer(
            id="b0",
            kind="bulletin",
            kind_label="通报",
            date=at,
            date_text=date_text(at),
            text="样例通报",
            link="http://127.0.0.1/b/0",
            similarity=0.8,
        )
        return cls(
            office=OfficeFact(name="样例网信办"),
            incident=IncidentFact(id="inc-sample", title="样例事件", district="样例区"),
            place=PlaceFact(main="样例区", text="样例区", tags=["样例区"], landmarks=["样例路"]),
            first_seen_text=time_text(at),
            last_seen_text=time_text(at),
            now_text=time_text(at),
            issued_on_text=date_text(at),
            sources_text="微博",
            topic="样例说法",
            claims=[claim] if full else [],
            spread=SpreadFact(posts=3, reposts=10, authors=3, peak_per_hour=3),
            earlier=[answer] if full else [],
            similar_rumors=[answer] if full else [],
            summary=[SummaryLine(text="样例摘录。", post_id="s:1")] if full else [],
            official=(
                [
                    OfficialPost(
                        author="样例局",
                        time_text=time_text(at),
                        quote="样例答复",
                        url="http://127.0.0.1/r/1",
                        post_id="s:2",
                    )
                ]
                if full
                else []
            ),
            previous=(
                [
                    PreviousBulletin(
                        id="b0",
                        title="样例通报",
                        subject="样例",
                        kind="situation",
                        date_text="3月5日",
                    )
                ]
                if full
                else []
            ),
        )


def _local(when: datetime) -> datetime:
    return ensure_aware(when).astimezone(SHANGHAI)


def time_text(when: datetime | None) -> str:
    """``3月5日14时20分许`` (local time, as bulletins write it)."""
    if when is None:
        return "近日"
    t = _local(when)
    minute = f"{t.minute}分" if t.minute else ""
    return f"{t.month}月{t.day}日{t.hour}时{minute}许"


def date_text(when: datetime | date | None) -> str:
    """``2026年3月5日`` (Arabic numerals, GB/T 9704)."""
    if when is None:
        return "日期不详"
    d = _local(when).date() if isinstance(when, datetime) else when
    return f"{d.year}年{d.month}月{d.day}日"


def quote_of(text: str, limit: int = QUOTE_CHARS) -> str:
    """The post's own words (full-width punctuation kept; links, mentions, emoticon codes,
    hashtags and repost chains dropped), as many whole sentences as fit in ``limit``."""
    cleaned = re.sub(r"\s+", " ", strip_noise(text)).strip()
    out = ""
    for sentence in _SENTENCE.split(cleaned):
        if not sentence:
            continue
        if len(out) + len(sentence) > limit:
            break
        out += sentence
    if not out:
        out = cleaned[: limit - 2] + "……" if len(cleaned) > limit else cleaned
    return out.rstrip("。！!，, ")


def topic_of(text: str) -> str:
    """What a title names the claim by, in the posts' own words: the longest clause of its
    first sentence that fits (hearsay openers such as 网传/刚刚 dropped), e.g.
    ``四个城管把一个卖菜的老人活活打死了``."""
    sentences = [s for s in _SENTENCE.split(strip_noise(text).strip()) if s.strip()] or [""]
    longest = ""
    # The first sentence that says something: 「紧急扩散！北塘化工园刚刚爆炸泄漏了」 is named by
    # its second sentence (an empty 网传“” in the title otherwise).
    for sentence in sentences:
        clauses = [_HEARSAY.sub("", c).strip() for c in _CLAUSE.split(sentence)]
        # A clause carrying a long number (联系电话138…, an ID card) names nobody's claim.
        fitting = [c for c in clauses if 4 <= len(c) <= TOPIC_CHARS and not re.search(r"\d{7,}", c)]
        if fitting:
            return max(fitting, key=len)
        if not longest:
            longest = max(clauses, key=len, default="")
            if len(longest) < 4:
                longest = ""
    return longest[:TOPIC_CHARS]


def group_claims(
    roots: Iterable[Post],
    reposts_of: Mapping[str, int],
    *,
    source_titles: Mapping[str, str],
    threshold: float | None = None,
    limit: int = 500,
) -> list[ClaimFact]:
    """Group posts that make the same claim (first post in time founds a group), largest
    spread first. ``reposts_of`` maps a post id to the reposts counted for it."""
    index = ClaimIndex() if threshold is None else ClaimIndex(threshold)
    groups: dict[str, list[Post]] = {}
    for post in sorted(roots, key=lambda p: (p.created_at, p.id))[:limit]:
        text = f"{post.title or ''} {post.text}".strip()
        matches = index.match(text, top=1)
        if matches:
            groups[matches[0].id].append(post)
            continue
        if index.add([ClaimItem(post.id, text, post.created_at, "claim", post.url)]):
            groups[post.id] = [post]
    facts = []
    for members in groups.values():
        first = members[0]
        text = f"{first.title or ''} {first.text}".strip()
        facts.append(
            ClaimFact(
                text=clean(text),
                quote=quote_of(first.text or first.title or ""),
                posts=len(members),
                reposts=sum(reposts_of.get(p.id, 0) for p in members),
                first_at=first.created_at,
                first_seen_text=time_text(first.created_at),
                first_source=source_titles.get(first.source, first.source),
                first_url=first.url,
                post_ids=[p.id for p in members],
            )
        )
    facts.sort(key=lambda c: (-(c.posts + c.reposts), c.first_at))
    return facts


def incident_posts(store, incident: Incident) -> list[Post]:
    """The incident's posts: assigned to it, or in one of its threads."""
    from store import PostFilter

    seen: dict[str, Post] = {}
    for post in store.iter_posts(PostFilter(incident_ids=[incident.id])):
        seen[post.id] = post
    if incident.root_ids:
        for post in store.iter_posts(PostFilter(root_ids=list(incident.root_ids))):
            seen.setdefault(post.id, post)
        for post in store.get_posts(incident.root_ids):
            seen.setdefault(post.id, post)
    return sorted(seen.values(), key=lambda p: (p.created_at, p.id))


def spread_of(posts: list[Post]) -> tuple[SpreadFact, dict[str, int]]:
    """Spread figures, and reposts per claim-carrying post (stored reposts or the count the
    platform reported, whichever is larger: crawls see a sample of reposts)."""
    stored: Counter[str] = Counter()
    for p in posts:
        if p.kind == "repost":
            stored[p.root_id or p.parent_id or ""] += 1
    reposts_of = {p.id: max(stored.get(p.id, 0), p.reposts) for p in posts if p.kind != "repost"}
    hours: Counter[datetime] = Counter(
        _local(p.created_at).replace(minute=0, second=0, microsecond=0) for p in posts
    )
    peak_hour, peak = max(
        hours.items(), key=lambda kv: (kv[1], -kv[0].timestamp()), default=(None, 0)
    )
    spread = SpreadFact(
        posts=sum(1 for p in posts if p.kind in CLAIM_KINDS),
        reposts=sum(reposts_of.get(p.id, 0) for p in posts if p.kind in CLAIM_KINDS),
        comments=sum(1 for p in posts if p.kind in ("comment", "reply"))
        or sum(p.comments for p in posts if p.kind in CLAIM_KINDS),
        authors=len({p.author.id for p in posts if p.author.id}),
        peak_per_hour=peak,
        peak_hour_text=(
            f"{time_text(peak_hour).removesuffix('许')}至{peak_hour.hour + 1}时"
            if peak_hour
            else ""
        ),
    )
    return spread, reposts_of


def landmarks_of(
    posts: list[Post], gazetteer: Mapping[str, list[str]], limit: int = 2000
) -> list[str]:
    """Landmarks of the gazetteer (towns, roads, markets) the posts name, most named first.

    Matched as substrings of three characters or more: drafting must not add words to the
    shared tokeniser (that would change index tokens in a serving process), and a two-
    character name inside a longer word ("东城" in "广东城市") is too often no mention.
    """
    names = {n.strip() for ns in gazetteer.values() for n in ns if len(n.strip()) >= 3}
    if not names:
        return []
    counts: Counter[str] = Counter()
    for post in posts[:limit]:
        text = normalise(f"{post.title or ''} {post.text}")
        counts.update(n for n in names if normalise(n) in text)
    return [name for name, _ in counts.most_common()]


def place_of(
    incident: Incident, posts: list[Post], gazetteer: Mapping[str, list[str]] | None = None
) -> PlaceFact:
    tags: Counter[str] = Counter(t for p in posts for t in p.region_tags)
    ordered = [t for t, _ in tags.most_common()]
    if incident.district and incident.district not in ordered:
        ordered.insert(0, incident.district)
    elif incident.district:
        ordered.remove(incident.district)
        ordered.insert(0, incident.district)
    main = ordered[0] if ordered else ""
    text = "、".join(ordered[:3]) if ordered else "本地"
    landmarks = landmarks_of(posts, gazetteer or {})
    # The most named landmark of the main district makes the place precise: 北塘区东门菜市场.
    local = [n for n in landmarks if n in (gazetteer or {}).get(main, [])]
    if local:
        text = main + local[0]
    return PlaceFact(main=main, text=text, tags=ordered, landmarks=landmarks[:5])


def _answers(
    store,
    incident: Incident,
    claims: list[ClaimFact],
    office,
    before: datetime,
    own_ids: set[str],
) -> tuple[list[EarlierAnswer], list[EarlierAnswer]]:
    """Earlier answers (published bulletins, the office's own posts) and earlier rumors
    similar to this incident's claims."""
    from store import PostFilter

    items: list[ClaimItem] = []
    for b in store.list_records(Bulletin, limit=10_000):
        if b.status != BulletinStatus.PUBLISHED or b.incident_id == incident.id:
            continue
        items.append(
            ClaimItem(b.id, f"{b.title} {b.body}", b.published_at, "bulletin", b.published_url)
        )
    filters = []
    if office.accounts:
        filters.append(PostFilter(authors=list(office.accounts), until=before))
    if office.sources:
        filters.append(PostFilter(sources=list(office.sources), until=before))
    for flt in filters:
        for n, post in enumerate(store.iter_posts(flt, order="time_desc")):
            if n >= 5000:
                break
            if post.id not in own_ids and post.kind in CLAIM_KINDS and is_official(post, office):
                text = f"{post.title or ''} {post.text}"
                items.append(ClaimItem(post.id, text, post.created_at, "official", post.url))
    for other in store.list_records(Incident, limit=10_000):
        if other.id == incident.id or (other.rumor_score or 0) < 0.8:
            continue
        if other.first_seen and other.first_seen >= before:
            continue
        text = " ".join([other.title, *other.keywords])
        items.append(ClaimItem(f"incident:{other.id}", text, other.first_seen, "rumor", None))
    # A bulletin quotes the claim among many words of its own: a lower bar than
    # rumor-to-rumor matching, as for linking answers (alerting.responses).
    index = ClaimIndex(ANSWER_THRESHOLD)
    index.add(items)
    best: dict[str, tuple[float, Any]] = {}
    for text in [incident.title, *(c.text for c in claims)]:
        for m in index.match(text, top=5, before=before):
            if m.id not in best or best[m.id][0] < m.similarity:
                best[m.id] = (m.similarity, m)
    answers, rumors = [], []
    for _, m in sorted(best.values(), key=lambda v: -v[0]):
        fact = EarlierAnswer(
            id=m.id,
            kind=m.kind,
            kind_label=KIND_LABELS.get(m.kind, m.kind),
            date=m.date,
            date_text=date_text(m.date),
            text=quote_of(m.text, 80),
            link=m.link,
            similarity=m.similarity,
        )
        (rumors if m.kind == "rumor" else answers).append(fact)
    return answers[:3], rumors[:3]


_SUBJECT = re.compile(r"^关于(.*?)(的?(情况通报|进展通报|情况说明|辟谣声明|回应|答复))?$")


def _previous(store, incident: Incident) -> list[PreviousBulletin]:
    out = []
    done = (BulletinStatus.APPROVED, BulletinStatus.PUBLISHED)
    for b in store.list_records(Bulletin, limit=1000, incident_id=incident.id):
        if b.status not in done:
            continue
        m = _SUBJECT.match(b.title)
        when = b.published_at or b.approved_at or b.created_at
        out.append(
            (
                when,
                PreviousBulletin(
                    id=b.id,
                    title=b.title,
                    subject=m.group(1) if m and m.group(1) else b.title,
                    kind=b.template,
                    date_text=time_text(when),
                ),
            )
        )
    return [p for _, p in sorted(out, key=lambda x: x[0])]


def build_context(
    store,
    incident: Incident,
    *,
    office,
    now: datetime,
    source_titles: Mapping[str, str] | None = None,
    gazetteer: Mapping[str, list[str]] | None = None,
    summary_sentences: int = 3,
    max_claims: int = 3,
) -> BulletinContext:
    """Fill a :class:`BulletinContext` from the incident's own posts at ``now``."""
    titles = dict(source_titles or {})
    posts = [p for p in incident_posts(store, incident) if p.created_at <= now]
    public = [p for p in posts if not is_official(p, office)]
    spread, reposts_of = spread_of(public)
    roots = [p for p in public if p.kind in CLAIM_KINDS and (p.text or p.title)]
    # Posts of one incident are about one happening already: a lower bar groups rewordings.
    claims = group_claims(roots, reposts_of, source_titles=titles, threshold=ANSWER_THRESHOLD)
    first = min((p.created_at for p in public), default=incident.first_seen)
    last = max((p.created_at for p in public), default=incident.last_seen)
    source_counts: Counter[str] = Counter(titles.get(p.source, p.source) for p in public)
    sources = [s for s, _ in source_counts.most_common(3)]
    answers, rumors = _answers(store, incident, claims, office, first or now, {p.id for p in posts})
    weights: defaultdict[str, int] = defaultdict(int)
    for p in roots:
        weights[p.id] = reposts_of.get(p.id, 0)
    ordered = sorted(roots, key=lambda p: (-weights[p.id], p.created_at))
    summary = summarise(
        ((p.id, f"{p.title or ''}。{p.text}" if p.title else p.text) for p in ordered),
        sentences=summary_sentences,
    )
    topic_source = claims[0].text if claims else incident.title
    return BulletinContext(
        office=OfficeFact(name=office.name),
        incident=IncidentFact(
            id=incident.id,
            title=incident.title,
            district=incident.district,
            category=incident.category,
            keywords=list(incident.keywords),
            rumor_score=incident.rumor_score,
            heat=incident.heat,
        ),
        place=place_of(incident, public, gazetteer),
        first_seen_text=time_text(first),
        last_seen_text=time_text(last),
        now_text=time_text(now),
        issued_on_text=date_text(now),
        sources_text="、".join(sources) if sources else "网络",
        topic=(topic_of(topic_source) if topic_source else "")
        or topic_of(incident.title or "")
        or "相关信息",
        claims=claims[:max_claims],
        spread=spread,
        earlier=answers,
        similar_rumors=rumors,
        summary=[SummaryLine(text=s.text, post_id=s.post_id) for s in summary],
        previous=_previous(store, incident),
        official=[
            OfficialPost(
                author=p.author.name or p.author.id or titles.get(p.source, p.source),
                time_text=time_text(p.created_at),
                quote=quote_of(p.text or p.title or "", 80),
                url=p.url,
                post_id=p.id,
            )
            for p in posts
            if is_official(p, office) and (p.text or p.title)
        ][:10],
    )
