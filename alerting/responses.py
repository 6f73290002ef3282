"""Response tracking: the office's own posts that answer an incident, and whether it worked.

An official post (by an account of ``office.accounts`` or from a site of
``office.sources``) answers an incident when detection put it in the incident, or when it
says the same thing as the incident's claims (claim matching, like an earlier rebuttal).
Each link is a :class:`models.OfficialResponse` record with the time it took and, for every
deadline given (the alert's clocks), whether it came in time.

:func:`spread_effect` compares the claim's spread in a window before and after the first
answer: claim posts and reposts per hour, and the share of posts doubting or rebutting it
(a small lexicon stance, :func:`stance`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from models import Alert, Bulletin, BulletinStatus, Incident, OfficialResponse, Post, ensure_aware
from nlp.claims import claim_tokens

#: Posts whose words are the claim (comments and replies react to one).
CLAIM_KINDS = frozenset({"post", "thread", "article", "message"})
#: Share of a claim's words an official post must contain to answer it (a rebuttal
#: restates the claim among many words of its own, so containment, not cosine, is used).
ANSWER_SHARE = 0.5
#: A claim must have at least this many content words to be matched by containment.
MIN_SHARED = 3
#: Cosine threshold for claim matching between an incident's own posts and earlier
#: bulletins (lower than the rumor-to-rumor default: a bulletin quotes the claim).
ANSWER_THRESHOLD = 0.3


def answer_score(claims: list[set[str]], text: str) -> float:
    """The largest share of one claim's content words found in ``text``."""
    words = set(claim_tokens(text))
    best = 0.0
    for claim in claims:
        shared = len(claim & words)
        if shared >= MIN_SHARED:
            best = max(best, shared / len(claim))
    return round(best, 3)


Stance = Literal["rebut", "doubt", "other"]
_REBUT = re.compile(
    r"辟谣|不实|假的|假消息|谣言|造谣|官方通报|官方回应|警方通报|情况通报|已澄清|澄清|别信|不要信|"
    r"与事实不符|不属实|没有这回事|并非"
)
_DOUBT = re.compile(
    r"求证|真的吗|真的假的|是真的吗|靠谱吗|可信吗|有没有人知道|谁知道|不会吧|吗[？?]|[？?]\s*$|[？?]{2,}"
)


def stance(text: str) -> Stance:
    """``rebut`` (says the claim is false or cites an official answer), ``doubt`` (asks
    whether it is true) or ``other``. A question about a rebuttal ("是谣言吗？") is doubt."""
    text = text or ""
    doubt = bool(_DOUBT.search(text))
    if _REBUT.search(text) and not doubt:
        return "rebut"
    if doubt:
        return "doubt"
    return "other"


def is_official(post: Post, office: Any) -> bool:
    """Whether the post speaks for the office: one of its accounts, or an official site.
    A message on an official message board is a resident's, not the office's: only the
    board's replies speak for it."""
    if post.author.id and post.author.id in office.accounts:
        return True
    return post.source in office.sources and post.kind != "message"


def alert_deadlines(store: Any, incident_id: str) -> dict[str, datetime]:
    """The deadlines of the incident's alert(s), read tolerantly: every datetime field named
    ``*_due``, and a ``deadlines`` field holding a mapping or a list of items with a name
    (``name``/``kind``) and a due time (``due``/``due_at``)."""
    out: dict[str, datetime] = {}
    for alert in store.list_records(Alert, limit=100, incident_id=incident_id):
        data = alert.model_dump()
        for key, value in data.items():
            if key.endswith("_due") and isinstance(value, datetime):
                out.setdefault(key.removesuffix("_due"), value)
        deadlines = data.get("deadlines")
        if isinstance(deadlines, Mapping):
            items: Iterable[Any] = [{"name": k, "due": v} for k, v in deadlines.items()]
        elif isinstance(deadlines, list):
            items = deadlines
        else:
            items = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            name = item.get("name") or item.get("kind")
            due = item.get("due") or item.get("due_at")
            if isinstance(due, str):
                try:
                    due = datetime.fromisoformat(due)
                except ValueError:
                    continue
            if name and isinstance(due, datetime):
                out.setdefault(str(name), ensure_aware(due))
    return out


def _claim_texts(posts: list[Post], office: Any, top: int = 20) -> list[str]:
    roots = [p for p in posts if p.kind in CLAIM_KINDS and not is_official(p, office)]
    roots.sort(key=lambda p: (-p.reposts, p.created_at))
    return [f"{p.title or ''} {p.text}".strip() for p in roots[:top]]


def _official_posts(store: Any, office: Any, since: datetime, until: datetime) -> list[Post]:
    from store import PostFilter

    found: dict[str, Post] = {}
    filters = []
    if office.accounts:
        filters.append(PostFilter(authors=list(office.accounts), since=since, until=until))
    if office.sources:
        filters.append(PostFilter(sources=list(office.sources), since=since, until=until))
    for flt in filters:
        for post in store.iter_posts(flt):
            if post.kind in CLAIM_KINDS and is_official(post, office):
                found[post.id] = post
    return sorted(found.values(), key=lambda p: (p.created_at, p.id))


def _response_for(
    incident: Incident,
    post: Post,
    deadlines: Mapping[str, datetime],
    linked_by: str,
    similarity: float | None,
    existing: OfficialResponse | None,
) -> OfficialResponse:
    first = incident.first_seen
    minutes = (post.created_at - first).total_seconds() / 60 if first else None
    data = {
        "id": f"{incident.id}:{post.id}",
        "incident_id": incident.id,
        "post_id": post.id,
        "url": post.url,
        "author": post.author.name or post.author.id,
        "source": post.source,
        "posted_at": post.created_at,
        "incident_first_seen": first,
        "minutes_after_first_seen": round(minutes, 1) if minutes is not None else None,
        "linked_by": existing.linked_by if existing else linked_by,
        "similarity": similarity,
        "deadlines": dict(deadlines),
        "on_time": {name: post.created_at <= due for name, due in deadlines.items()},
    }
    if existing is not None:
        data.update(
            version=existing.version,
            created_at=existing.created_at,
            bulletin_id=existing.bulletin_id,
        )
    return OfficialResponse.model_validate(data)


def link_responses(
    store: Any,
    office: Any,
    *,
    now: datetime,
    incidents: Iterable[Incident] | None = None,
    deadlines: Callable[[str], Mapping[str, datetime]] | None = None,
    threshold: float = ANSWER_SHARE,
) -> list[OfficialResponse]:
    """Link the office's posts to the incidents they answer; returns the records saved
    (new, or changed: a deadline moved). ``deadlines(incident_id)`` gives the clocks to
    measure against (default: read from the incident's alert by :func:`alert_deadlines`)."""
    from alerting.bulletins.context import incident_posts

    deadlines_of = deadlines or (lambda inc_id: alert_deadlines(store, inc_id))
    chosen = (
        list(incidents)
        if incidents is not None
        else store.list_records(Incident, limit=max(store.count_records(Incident), 1))
    )
    saved = []
    for incident in chosen:
        if incident.first_seen is None or incident.first_seen > now:
            continue
        posts = [p for p in incident_posts(store, incident) if p.created_at <= now]
        answers: dict[str, tuple[Post, str, float | None]] = {
            p.id: (p, "incident", None) for p in posts if is_official(p, office)
        }
        claims = [set(claim_tokens(t)) for t in _claim_texts(posts, office)]
        claims = [c for c in claims if len(c) >= MIN_SHARED]
        if claims:
            for post in _official_posts(store, office, incident.first_seen, now):
                if post.id in answers:
                    continue
                score = answer_score(claims, f"{post.title or ''} {post.text}")
                if score >= threshold:
                    answers[post.id] = (post, "claim", score)
        if not answers:
            continue
        clocks = dict(deadlines_of(incident.id))
        for post, how, similarity in answers.values():
            existing = store.get_record(OfficialResponse, f"{incident.id}:{post.id}")
            record = _response_for(incident, post, clocks, how, similarity, existing)
            if existing is not None and _same(existing, record):
                continue
            saved.append(store.save_record(record))
    return saved


def _same(a: OfficialResponse, b: OfficialResponse) -> bool:
    skip = {"version", "created_at", "updated_at"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


def record_bulletin_response(
    store: Any,
    incident: Incident,
    bulletin: Bulletin,
    *,
    posted_at: datetime,
    deadlines: Mapping[str, datetime],
) -> OfficialResponse:
    """A published bulletin is a response too (its post may not be crawled yet)."""
    rid = f"{incident.id}:bulletin:{bulletin.id}"
    existing = store.get_record(OfficialResponse, rid)
    first = incident.first_seen
    record = OfficialResponse(
        id=rid,
        version=existing.version if existing else 0,
        incident_id=incident.id,
        post_id=f"bulletin:{bulletin.id}",
        url=bulletin.published_url,
        author=bulletin.issuer or None,
        source="bulletin",
        posted_at=posted_at,
        incident_first_seen=first,
        minutes_after_first_seen=(
            round((posted_at - first).total_seconds() / 60, 1) if first else None
        ),
        linked_by="bulletin",
        deadlines=dict(deadlines),
        on_time={name: posted_at <= due for name, due in deadlines.items()},
        bulletin_id=bulletin.id,
    )
    return store.save_record(record)


def first_response(store: Any, incident_id: str) -> OfficialResponse | None:
    records = store.list_records(OfficialResponse, limit=1000, incident_id=incident_id)
    return min(records, key=lambda r: r.posted_at, default=None)


@dataclass
class SpreadWindow:
    """The claim's spread over one window."""

    start: datetime
    end: datetime
    hours: float
    claim_posts: int
    reposts: int
    claim_posts_per_hour: float | None
    reposts_per_hour: float | None
    with_text: int
    doubt_share: float | None
    rebut_share: float | None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        return out


@dataclass
class SpreadEffect:
    """Spread before and after the office answered."""

    incident_id: str
    answered_at: datetime
    answer: str
    before: SpreadWindow
    after: SpreadWindow

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "answered_at": self.answered_at.isoformat(),
            "answer": self.answer,
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
        }


def _window(posts: list[Post], start: datetime, end: datetime) -> SpreadWindow:
    inside = [p for p in posts if start <= p.created_at < end]
    hours = max((end - start).total_seconds() / 3600, 0.0)
    claim = sum(1 for p in inside if p.kind in CLAIM_KINDS)
    reposts = sum(1 for p in inside if p.kind == "repost")
    worded = [p for p in inside if (p.text or "").strip() and p.text.strip() != "转发微博"]
    stances = [stance(p.text) for p in worded]
    n = len(stances)
    return SpreadWindow(
        start=start,
        end=end,
        hours=round(hours, 2),
        claim_posts=claim,
        reposts=reposts,
        claim_posts_per_hour=round(claim / hours, 2) if hours else None,
        reposts_per_hour=round(reposts / hours, 2) if hours else None,
        with_text=n,
        doubt_share=round(stances.count("doubt") / n, 3) if n else None,
        rebut_share=round(stances.count("rebut") / n, 3) if n else None,
    )


def spread_effect(
    store: Any,
    incident: Incident,
    office: Any,
    *,
    now: datetime,
    window: timedelta = timedelta(hours=6),
    answered_at: datetime | None = None,
) -> SpreadEffect | None:
    """The claim's spread in ``window`` before and after the first answer (a linked
    response, or a published bulletin); ``None`` while the incident is unanswered. The
    after-window ends at ``now`` if that is sooner, so rates are per elapsed hour."""
    from alerting.bulletins.context import incident_posts

    answer = "指定时间"
    if answered_at is None:
        first = first_response(store, incident.id)
        published = [
            b
            for b in store.list_records(Bulletin, limit=1000, incident_id=incident.id)
            if b.status == BulletinStatus.PUBLISHED and b.published_at
        ]
        candidates = []
        if first is not None:
            candidates.append((first.posted_at, first.url or first.post_id))
        candidates += [(b.published_at, b.title) for b in published]
        if not candidates:
            return None
        answered_at, answer = min(candidates, key=lambda c: c[0])
    posts = [p for p in incident_posts(store, incident) if not is_official(p, office)]
    start = max(answered_at - window, incident.first_seen or answered_at - window)
    end = min(answered_at + window, max(now, answered_at))
    return SpreadEffect(
        incident_id=incident.id,
        answered_at=answered_at,
        answer=answer,
        before=_window(posts, start, answered_at),
        after=_window(posts, answered_at, end),
    )
