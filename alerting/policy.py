"""The tier policy (响应级别): which incidents are alerts, in which tier, with which clocks.

A YAML file (the default ships as ``alerting/policy.yaml``; ``alerting.policy`` in the
configuration points to an office's own). :meth:`TierPolicy.decide` is pure: incident
figures (and, for rules with ``keywords``, the texts of its source posts) in, a
:class:`Decision` out, so it is tested without a store or a clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerting.yamlpos import PolicyError, describe, load_yaml
from models import Deadline, Incident, Tier
from nlp.rumor.incident import DENIAL

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")

#: Urgency of each tier: higher is more urgent.
RANK = {Tier.I: 4, Tier.II: 3, Tier.III: 2, Tier.IV: 1}
COLOUR_NAMES = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
TIER_NUMERALS = {Tier.I: "Ⅰ", Tier.II: "Ⅱ", Tier.III: "Ⅲ", Tier.IV: "Ⅳ"}


def tier_zh(tier: Tier | str) -> str:
    """Ⅰ级…Ⅳ级: a tier as people read it in every text (never "III 级"): :attr:`Tier.label`."""
    return Tier(tier).label


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeadlineSpec(_Strict):
    name: str = Field(min_length=1, pattern=r"^[a-z_]+$")
    label: str = Field(min_length=1)
    hours: float = Field(gt=0)


class TierSpec(_Strict):
    label: str
    colour: Literal["red", "orange", "yellow", "blue"]
    first_response_hours: float | None = Field(default=None, gt=0)
    follow_up: list[DeadlineSpec] = Field(default_factory=list)


class Condition(_Strict):
    """All given conditions must hold (an empty condition always holds); of ``any_of``, at
    least one alternative must hold as well."""

    heat_min: float | None = Field(default=None, ge=0, le=100)
    posts_per_hour_min: float | None = Field(default=None, ge=0)
    burst: bool | None = None
    hot: bool | None = None
    virality_min: float | None = Field(default=None, ge=0, le=1)
    rumor_min: float | None = Field(default=None, ge=0, le=1)
    min_posts: int | None = Field(default=None, ge=0)
    categories: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    direct_appeal: bool | None = None
    #: Distinct authors of the incident (one account posting forty times is not forty people).
    min_authors: int | None = Field(default=None, ge=0)
    #: The incident says one of these words without denying it (see :func:`affirmed`).
    keywords: list[str] = Field(default_factory=list)
    #: Alternatives: e.g. hot for its place, or large whatever the place.
    any_of: list[Condition] = Field(default_factory=list)


class Rule(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    tier: Tier
    when: Condition = Field(default_factory=Condition)
    #: Extra deadlines this rule adds whatever the tier (the 24-hour 通稿 track).
    tracks: list[DeadlineSpec] = Field(default_factory=list)


class DirectAppeal(_Strict):
    kinds: list[str] = Field(default_factory=lambda: ["message"])
    sources: list[str] = Field(default_factory=list)
    #: On a message board (an appeal of ``board_kinds``), a post of one of these kinds under
    #: it by someone other than the asker is the board's reply: answered. Empty: every
    #: appeal counts, answered or not (no answer is looked for at all).
    answered_kinds: list[str] = Field(default_factory=lambda: ["reply"])
    #: Appeal kinds posted on message boards (12345, 领导留言板), where the board itself
    #: publishes the department's reply. Elsewhere (a forum thread, a Weibo post) any
    #: resident may reply: only an official account's post answers.
    board_kinds: list[str] = Field(default_factory=lambda: ["message"])
    #: A post in the appeal's thread by an official account (the ``office:`` section's
    #: ``accounts`` and ``sources``, verified accounts of ``verified_types``) answers it,
    #: on a board or anywhere else.
    official_answers: bool = True


class Recovery(_Strict):
    max_posts_per_hour: float = Field(default=2.0, ge=0)
    quiet_hours: float = Field(default=6.0, gt=0)


class Departments(_Strict):
    default: str = "网信办值班室"
    by_category: dict[str, str] = Field(default_factory=dict)
    by_district: dict[str, str] = Field(default_factory=dict)
    by_district_category: dict[str, dict[str, str]] = Field(default_factory=dict)


@dataclass
class Decision:
    """What the policy says about one incident at one moment."""

    tier: Tier
    rule: Rule
    figures: dict[str, Any]
    department: str
    departments: dict[str, str]
    #: Also matched, less urgent or later in the list (shown as context).
    also: list[str] = field(default_factory=list)


def category_parts(category: str | None) -> set[str]:
    """``"社会稳定/群体性事件"`` matches ``社会稳定``, ``群体性事件`` and the whole name."""
    if not category:
        return set()
    return {category, *category.split("/")}


def authors_of(incident: Incident) -> int:
    """Distinct authors of the incident as detection counted them; an incident from
    elsewhere without that figure counts its posts (at most one author each)."""
    for value in (incident.velocity.get("unique_authors"), incident.extra.get("unique_authors")):
        if isinstance(value, int | float) and value > 0:
            return int(value)
    return incident.post_count


#: A denial shortly before a word in the same clause: 无人员伤亡, 未造成人员死亡, 没有人死亡.
_NEGATION = re.compile(r"无|未|没|否认|排除|并非|不是")
#: ... but not these words, which only contain one: 抢救无效死亡, 未成年人溺亡, 无辜群众伤亡.
_NOT_NEGATION = re.compile(r"无效|未成年|无辜|无名|未知|未婚")
#: A quoted claim (网传“城管打死人”) or one called false in the same sentence is not said:
#: the words by which an official post denies a claim (the incident rumor score's too).
_DENIED_AFTER = DENIAL
_CLAUSE_END = re.compile(r"[，。！？；：,!?;:\s]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
NEGATION_WINDOW = 8


def affirmed(text: str, word: str) -> bool:
    """Whether ``text`` says ``word`` at least once without denying it: not after a
    negation in the same clause (``无人员伤亡``, ``未造成死亡``; ``抢救无效死亡`` and
    ``不幸遇难`` do say it), not inside quotes, not in a sentence that calls it false
    (``网传“城管打死人”不实``)."""
    start = 0
    while (i := text.find(word, start)) >= 0:
        start = i + 1
        head = _CLAUSE_END.split(text[max(0, i - NEGATION_WINDOW) : i])[-1]
        if _NEGATION.search(_NOT_NEGATION.sub("", head)):
            continue
        before = text[:i]
        if before.count("“") > before.count("”") or before.count("「") > before.count("」"):
            continue
        sentence = _SENTENCE_END.split(text[i:], maxsplit=1)[0]
        if _DENIED_AFTER.search(sentence):
            continue
        return True
    return False


#: Texts of an incident's source posts, or a function that reads them when first needed.
Texts = Sequence[str] | Callable[[], Sequence[str]]


def incident_figures(incident: Incident, direct_appeals: int = 0) -> dict[str, Any]:
    """The figures every rule reads, recorded on the alert as seen."""
    v = incident.velocity
    return {
        "heat": round(incident.heat, 2),
        "posts": incident.post_count,
        "authors": authors_of(incident),
        "posts_per_hour": round(v.get("posts_per_h_1h", 0.0), 2),
        "reposts_per_hour": round(v.get("reposts_per_h_1h", 0.0), 2),
        "posts_per_hour_6h": round(v.get("posts_per_h_6h", 0.0), 2),
        "acceleration": round(v.get("acceleration", 0.0), 2),
        "burst": incident.burst,
        "hot": incident.hot,
        "virality": incident.virality,
        "rumor_score": incident.rumor_score,
        "category": incident.category,
        "district": incident.district,
        "direct_appeals": direct_appeals,
    }


class TierPolicy(_Strict):
    """Tiers, rules, recovery and departments (see ``alerting/policy.yaml``)."""

    version: int = 1
    min_posts: int = Field(default=3, ge=1)
    tiers: dict[Tier, TierSpec]
    rules: list[Rule] = Field(min_length=1)
    direct_appeal: DirectAppeal = Field(default_factory=DirectAppeal)
    recovery: Recovery = Field(default_factory=Recovery)
    departments: Departments = Field(default_factory=Departments)

    @model_validator(mode="after")
    def _complete(self) -> TierPolicy:
        missing = [t.value for t in Tier if t not in self.tiers]
        if missing:
            raise ValueError(f"tiers: 缺少 {'、'.join(missing)}")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rules: 规则名重复 {dupes}")
        return self

    # -- deciding ---------------------------------------------------------------------
    def matches(
        self,
        rule: Rule,
        incident: Incident,
        figures: dict[str, Any],
        texts: Texts | None = None,
    ) -> bool:
        return self._holds(rule.when, incident, figures, _TextCache(incident, texts), top=True)

    def _holds(
        self,
        w: Condition,
        incident: Incident,
        figures: dict[str, Any],
        texts: _TextCache,
        top: bool,
    ) -> bool:
        posts = incident.post_count
        least = w.min_posts if w.min_posts is not None else (self.min_posts if top else 0)
        if posts < least:
            return False
        checks = (
            w.heat_min is None or incident.heat >= w.heat_min,
            w.posts_per_hour_min is None or figures["posts_per_hour"] >= w.posts_per_hour_min,
            w.burst is None or incident.burst == w.burst,
            w.hot is None or incident.hot == w.hot,
            w.virality_min is None or (incident.virality or 0.0) >= w.virality_min,
            w.rumor_min is None or (incident.rumor_score or 0.0) >= w.rumor_min,
            w.min_authors is None or figures["authors"] >= w.min_authors,
            not w.categories or bool(category_parts(incident.category) & set(w.categories)),
            not w.districts or incident.district in w.districts,
            w.direct_appeal is None or (figures["direct_appeals"] > 0) == w.direct_appeal,
        )
        if not all(checks):
            return False
        if w.any_of and not any(self._holds(c, incident, figures, texts, False) for c in w.any_of):
            return False
        # Last: the only check that may read posts.
        return not w.keywords or bool(texts.said(w.keywords))

    def decide(
        self, incident: Incident, direct_appeals: int = 0, texts: Texts | None = None
    ) -> Decision | None:
        """The most urgent matching rule, or ``None`` when no rule matches. ``texts`` are
        the titles and texts of the incident's source posts, for rules with ``keywords``
        (a function is called only when such a rule needs them); without them the
        incident's title and keywords are read."""
        figures = incident_figures(incident, direct_appeals)
        cache = _TextCache(incident, texts)
        matched = [r for r in self.rules if self._holds(r.when, incident, figures, cache, True)]
        if not matched:
            return None
        best = max(matched, key=lambda r: (RANK[r.tier], -matched.index(r)))
        words = _keywords_of(best.when)
        if words:
            figures["matched_words"] = cache.said(words)
        local, competent = self.department_of(incident.district, incident.category)
        departments = {k: v for k, v in (("属地", local), ("主管", competent)) if v}
        primary = self.primary_department(incident.district, incident.category)
        return Decision(
            tier=best.tier,
            rule=best,
            figures=figures,
            department=primary,
            departments=departments,
            also=[r.name for r in matched if r is not best],
        )

    def department_of(self, district: str | None, category: str | None) -> tuple[str, str]:
        d = self.departments
        local = d.by_district.get(district or "", "")
        if not local and district:
            local = f"{district}人民政府"
        competent = ""
        for part in sorted(category_parts(category), key=len, reverse=True):
            if part in d.by_category:
                competent = d.by_category[part]
                break
        if competent and district and not competent.startswith(district):
            competent = f"{district}{competent}"
        return local, competent

    def primary_department(self, district: str | None, category: str | None) -> str:
        d = self.departments
        table = d.by_district_category.get(district or "", {})
        for part in category_parts(category):
            if part in table:
                return table[part]
        local, competent = self.department_of(district, category)
        return competent or local or d.default

    def quiet(self, incident: Incident, now: datetime) -> bool:
        """Nothing posted for ``recovery.quiet_hours``."""
        quiet = timedelta(hours=self.recovery.quiet_hours)
        return incident.last_seen is not None and now - incident.last_seen >= quiet

    def recovered(self, incident: Incident, now: datetime) -> bool:
        """Cooled (已平息): slowed below the recovery rate, or quiet for ``quiet_hours``."""
        if self.quiet(incident, now):
            return True
        pph = incident.velocity.get("posts_per_h_1h", 0.0)
        return not incident.hot and not incident.burst and pph <= self.recovery.max_posts_per_hour

    def deadline_specs(self, tier: Tier, rule: Rule) -> list[DeadlineSpec]:
        return [spec for spec, _ in self._specs(tier, rule)]

    def _specs(self, tier: Tier, rule: Rule) -> list[tuple[DeadlineSpec, set[str]]]:
        """The tier's clocks and the rule's tracks, each with the names it stands for. A
        track that is one of the tier's clocks under another name (the same hours, its
        label part of the tier clock's: 通稿 in 新闻发布会/通稿) is that clock, not a second
        one with its own reminders."""
        spec = self.tiers[tier]
        out: list[tuple[DeadlineSpec, set[str]]] = []
        if spec.first_response_hours:
            first = DeadlineSpec(
                name="first_response", label="首次回应", hours=spec.first_response_hours
            )
            out.append((first, {first.name}))
        out.extend((s, {s.name}) for s in spec.follow_up)
        for track in rule.tracks:
            same = next(
                (
                    names
                    for s, names in out
                    if s.name == track.name or (s.hours == track.hours and track.label in s.label)
                ),
                None,
            )
            if same is not None:
                same.add(track.name)
            else:
                out.append((track, {track.name}))
        return out

    def deadlines(
        self, tier: Tier, rule: Rule, start: datetime, existing: list[Deadline] | None = None
    ) -> list[Deadline]:
        """Deadlines for ``tier`` counted from ``start``. On an escalation an existing clock
        keeps its earlier due time (a deadline never moves later) and what it already sent;
        a clock the new tier's clock stands for (a rule's 通稿 in tier I's 新闻发布会/通稿) is
        replaced by it, keeping the earlier due time or its met time."""
        old = {d.name: d for d in existing or []}
        out: list[Deadline] = []
        for spec, names in self._specs(tier, rule):
            due = start + timedelta(hours=spec.hours)
            prevs = [old.pop(n) for n in [spec.name, *sorted(names - {spec.name})] if n in old]
            met = [p for p in prevs if p.met_at]
            keep = met[0] if met else min(prevs, key=lambda d: d.due, default=None)
            if keep is not None and (keep.met_at or keep.due <= due):
                out.append(keep)
                continue
            out.append(Deadline(name=spec.name, label=spec.label, hours=spec.hours, due=due))
        # A clock of the lower tier that the new tier has no counterpart for still runs.
        out.extend(old.values())
        out.sort(key=lambda d: d.due)
        return out

    def colour(self, tier: Tier) -> str:
        return self.tiers[tier].colour


def _keywords_of(cond: Condition) -> list[str]:
    words = list(cond.keywords)
    for alt in cond.any_of:
        words += [w for w in _keywords_of(alt) if w not in words]
    return words


class _TextCache:
    """The texts of one incident, read at most once per decision."""

    def __init__(self, incident: Incident, texts: Texts | None) -> None:
        self.incident = incident
        self.source = texts
        self._texts: list[str] | None = None

    def texts(self) -> list[str]:
        if self._texts is None:
            src = self.source() if callable(self.source) else self.source
            self._texts = [self.incident.title or "", *(src or [])]
        return self._texts

    def said(self, words: list[str]) -> list[str]:
        """The words the incident says: in its texts, without denial; without texts, also
        an incident keyword that contains the word (keywords carry no context)."""
        texts = self.texts()
        out = [w for w in words if any(affirmed(t, w) for t in texts if t)]
        if self.source is None:
            title = self.incident.title or ""
            out += [
                w
                for w in words
                if w not in out and w not in title and any(w in k for k in self.incident.keywords)
            ]
        return out


def load_policy(path: str | Path | None = None) -> TierPolicy:
    """Read and validate a policy file (default: the shipped one); a problem raises
    :class:`PolicyError` naming the file, the line and the key."""
    file = Path(path) if path else DEFAULT_POLICY
    if not file.is_file():
        raise PolicyError(f"{file}: 找不到响应级别策略文件")
    data, node = load_yaml(file)
    if not isinstance(data, dict):
        raise PolicyError(f"{file}:1: 策略文件应为映射（tiers、rules 等）")
    try:
        return TierPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(describe(exc, file, node)) from None
