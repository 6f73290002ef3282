"""An incident's rumor score: about its core claim, with official responses set apart.

A post-level score says how much one post reads like a rumor. An incident gathers the
claim, its copies, the doubts, the corrections, the office's own bulletin and the chatter
around it; the maximum over all of them made nearly every incident a rumor as soon as one
post scored high, and an official announcement (which often reads like CED's rumors: a
【title】, a place, numbers) could make it one by itself. Here:

* **official responses** are the posts of the office's own accounts (``office.accounts``,
  matched against the author's id or name), of configured official sources
  (``office.sources``, matched against ``Post.source``) and of verified government and
  media accounts (``office.verified_types``, Weibo's ``verified_type``; 1 and 3 by
  default). They are listed as such and never scored as rumors. An official response
  that *denies* the claim (不实, 谣言, 与事实不符…: :data:`DENIAL`) confirms it is a
  rumor: it takes no weight, and an incident with a claim post and such a denial scores
  at least :data:`DENIED_FLOOR`, so a rebutted rumor stays a rumor in lists, filters and
  reports. Any other official post (an announcement, a notice) lowers the score;
* the **claim posts** are the other source posts whose rumor score is at least
  :data:`CLAIM_THRESHOLD`;
* the score is the mean of the non-official posts' scores weighted by those same scores,
  with each official response counted as one more voice of score 0 and weight
  :data:`OFFICIAL_WEIGHT`::

      score = Σ pᵢ² / (Σ pᵢ + OFFICIAL_WEIGHT × n_official)

  The posts that make the claim dominate (a post at 0.9 weighs nine times one at 0.1), a
  single stray post among many ordinary ones does not carry the incident (one post at
  0.6 among 39 at 0.1 gives 0.17, where the maximum gave 0.6), and an answered claim
  drops when an official post speaks of the same thing without denying it: twenty copies
  at 0.9 with two official announcements give 0.81, one claim at 0.9 with one 0.43.

This module is pure: the office's configuration comes in as a parameter (any object with
``accounts``, ``sources`` and ``verified_types``, e.g. ``tingfeng.config.OfficeConfig``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models import Post

if TYPE_CHECKING:
    from nlp.rumor.model import RumorModel

#: A source post at or above this rumor score makes the claim.
CLAIM_THRESHOLD = 0.5
#: Weight of one official response in the incident's score (that of a certain claim post).
OFFICIAL_WEIGHT = 1.0
#: An incident whose claim an official response denies scores at least this.
DENIED_FLOOR = 0.9
#: Words by which an official post says the claim is false (a rebuttal, 辟谣).
DENIAL = re.compile(
    r"辟谣|不实|不属实|与事实不符|谣言|造谣|谣传|假消息|虚假信息|没有这回事|并非如此|系编造"
)
#: Weibo ``verified_type`` values of government (1) and media (3) accounts.
DEFAULT_VERIFIED_TYPES = (1, 3)


@dataclass(frozen=True)
class OfficeAccounts:
    """Who speaks officially: the office's matrix, official sources, verified types."""

    accounts: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    verified_types: frozenset[int] = frozenset(DEFAULT_VERIFIED_TYPES)

    @classmethod
    def of(cls, office: Any | None) -> OfficeAccounts:
        """From an ``office:`` configuration section (or anything with the same three
        attributes); None gives the defaults (verified government and media accounts)."""
        if office is None:
            return cls()
        if isinstance(office, OfficeAccounts):
            return office
        types = getattr(office, "verified_types", None)
        return cls(
            accounts=frozenset(str(a) for a in getattr(office, "accounts", None) or ()),
            sources=frozenset(str(s) for s in getattr(office, "sources", None) or ()),
            verified_types=frozenset(
                int(t) for t in (DEFAULT_VERIFIED_TYPES if types is None else types)
            ),
        )

    def is_official(self, post: Post) -> bool:
        author = post.author
        if author.id is not None and author.id in self.accounts:
            return True
        if author.name is not None and author.name in self.accounts:
            return True
        if post.source in self.sources and post.kind != "message":
            # A message on an official board (12345, 领导留言板) is a resident's: only the
            # board's replies speak for the office (as alerting.responses.is_official).
            return True
        return bool(author.verified and author.verified_type in self.verified_types)


@dataclass
class IncidentRumor:
    """The rumor score of an incident's core claim, and what it rests on.

    ``score`` is None when no post could be scored and none is official.
    ``claim_post_ids`` are best first; ``reasons`` are sentences for an analyst.
    """

    score: float | None
    claim_post_ids: list[str] = field(default_factory=list)
    official_post_ids: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    scored: int = 0
    #: official responses that deny the claim (a subset of ``official_post_ids``)
    denial_post_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "claim_post_ids": list(self.claim_post_ids),
            "official_post_ids": list(self.official_post_ids),
            "reasons": list(self.reasons),
            "scored": self.scored,
            "denial_post_ids": list(self.denial_post_ids),
        }


def score_incident(
    posts: Iterable[Post],
    office: Any | None = None,
    *,
    model: RumorModel | None = None,
) -> IncidentRumor:
    """Rumor score of the incident made of ``posts`` (its source posts, optionally with
    their reposts and comments).

    A source post's score is its stored ``rumor_score``; when that is missing and a
    ``model`` is given, the post is scored with the reposts and comments among ``posts``.
    Reposts and comments are not scored on their own: their thread's source speaks for
    them. ``office`` as in :meth:`OfficeAccounts.of`.
    """
    accounts = OfficeAccounts.of(office)
    posts = list(posts)
    sources = [p for p in posts if p.root_id in (None, p.id)]
    children: dict[str, list[Post]] = defaultdict(list)
    for p in posts:
        if p.root_id not in (None, p.id):
            children[p.root_id].append(p)  # type: ignore[index]
    official = [p for p in sources if accounts.is_official(p)]
    official_ids = {p.id for p in official}
    denials = [p for p in official if DENIAL.search(p.text or "")]
    rest = [p for p in sources if p.id not in official_ids]
    scores = _scores(rest, children, model)
    unscored = len(rest) - len(scores)

    reasons: list[str] = []
    claims = [i for i, s in scores.items() if s >= CLAIM_THRESHOLD]
    claims.sort(key=lambda i: -scores[i])
    if claims:
        values = sorted(scores[i] for i in claims)
        reasons.append(
            f"{len(claims)} 条帖子提出该说法（谣言分中位数 {_median(values):.2f}，"
            f"共评分 {len(scores)} 条）"
        )
    elif scores:
        reasons.append(f"已评分的 {len(scores)} 条帖子谣言分均低于 {CLAIM_THRESHOLD}")
    others = len(official) - len(denials)
    if denials and claims:
        reasons.append(
            f"官方已辟谣（{len(denials)} 条官方回应否认该说法）：按谣言计，"
            f"谣言分不低于 {DENIED_FLOOR}"
        )
    elif denials:
        reasons.append(f"已有 {len(denials)} 条官方辟谣，不计为谣言")
    if others:
        reasons.append(f"已有 {others} 条官方发布，不计为谣言，并降低事件谣言分")
    if unscored:
        reasons.append(f"{unscored} 条帖子文本过短或未评分，不计入")

    total = sum(scores.values())
    weight = total + OFFICIAL_WEIGHT * others
    if weight > 0:
        score: float | None = round(sum(s * s for s in scores.values()) / weight, 4)
    else:
        score = 0.0 if official else None
    if denials and claims and score is not None:
        score = max(score, DENIED_FLOOR)
    return IncidentRumor(
        score=score,
        claim_post_ids=claims,
        official_post_ids=[p.id for p in official],
        reasons=reasons,
        scored=len(scores),
        denial_post_ids=[p.id for p in denials],
    )


def _scores(
    posts: Sequence[Post], children: dict[str, list[Post]], model: RumorModel | None
) -> dict[str, float]:
    from nlp.rumor.features import RumorInput

    out = {p.id: float(p.rumor_score) for p in posts if p.rumor_score is not None}
    todo = [p for p in posts if p.rumor_score is None]
    if model is not None and todo:
        results = model.score(RumorInput.from_posts(p, children.get(p.id, [])) for p in todo)
        for p, result in zip(todo, results, strict=True):
            if result.probability is not None:
                out[p.id] = result.probability
    return out


def _median(values: Sequence[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


__all__ = [
    "CLAIM_THRESHOLD",
    "DENIAL",
    "DENIED_FLOOR",
    "OFFICIAL_WEIGHT",
    "IncidentRumor",
    "OfficeAccounts",
    "score_incident",
]
