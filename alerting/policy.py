"""The tier policy (响应级别): which incidents are alerts, in which tier, with which clocks.

A YAML file (the default ships as ``alerting/policy.yaml``; ``alerting.policy`` in the
configuration points to an office's own). :meth:`TierPolicy.decide` is pure: incident
figures in, a :class:`Decision` out, so it is tested without a store or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerting.yamlpos import PolicyError, describe, load_yaml
from models import Deadline, Incident, Tier

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")

#: Urgency of each tier: higher is more urgent.
RANK = {Tier.I: 4, Tier.II: 3, Tier.III: 2, Tier.IV: 1}
COLOUR_NAMES = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
TIER_NUMERALS = {Tier.I: "Ⅰ", Tier.II: "Ⅱ", Tier.III: "Ⅲ", Tier.IV: "Ⅳ"}


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
    """All given conditions must hold (an empty condition always holds)."""

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


def incident_figures(incident: Incident, direct_appeals: int = 0) -> dict[str, Any]:
    """The figures every rule reads, recorded on the alert as seen."""
    v = incident.velocity
    return {
        "heat": round(incident.heat, 2),
        "posts": incident.post_count,
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
            raise ValueError(f"tiers: missing {', '.join(missing)}")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rules: duplicate rule names {dupes}")
        return self

    # -- deciding ---------------------------------------------------------------------
    def matches(self, rule: Rule, incident: Incident, figures: dict[str, Any]) -> bool:
        w = rule.when
        posts = incident.post_count
        if posts < (w.min_posts if w.min_posts is not None else self.min_posts):
            return False
        checks = (
            w.heat_min is None or incident.heat >= w.heat_min,
            w.posts_per_hour_min is None or figures["posts_per_hour"] >= w.posts_per_hour_min,
            w.burst is None or incident.burst == w.burst,
            w.hot is None or incident.hot == w.hot,
            w.virality_min is None or (incident.virality or 0.0) >= w.virality_min,
            w.rumor_min is None or (incident.rumor_score or 0.0) >= w.rumor_min,
            not w.categories or bool(category_parts(incident.category) & set(w.categories)),
            not w.districts or incident.district in w.districts,
            w.direct_appeal is None or (figures["direct_appeals"] > 0) == w.direct_appeal,
        )
        return all(checks)

    def decide(self, incident: Incident, direct_appeals: int = 0) -> Decision | None:
        """The most urgent matching rule, or ``None`` when no rule matches."""
        figures = incident_figures(incident, direct_appeals)
        matched = [r for r in self.rules if self.matches(r, incident, figures)]
        if not matched:
            return None
        best = max(matched, key=lambda r: (RANK[r.tier], -matched.index(r)))
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
        spec = self.tiers[tier]
        out: list[DeadlineSpec] = []
        if spec.first_response_hours:
            out.append(
                DeadlineSpec(
                    name="first_response", label="首次回应", hours=spec.first_response_hours
                )
            )
        out.extend(spec.follow_up)
        names = {s.name for s in out}
        out.extend(t for t in rule.tracks if t.name not in names)
        return out

    def deadlines(
        self, tier: Tier, rule: Rule, start: datetime, existing: list[Deadline] | None = None
    ) -> list[Deadline]:
        """Deadlines for ``tier`` counted from ``start``. On an escalation an existing clock
        keeps its earlier due time (a deadline never moves later) and what it already sent."""
        old = {d.name: d for d in existing or []}
        out: list[Deadline] = []
        for spec in self.deadline_specs(tier, rule):
            due = start + timedelta(hours=spec.hours)
            prev = old.pop(spec.name, None)
            if prev is not None and (prev.met_at or prev.due <= due):
                out.append(prev)
                continue
            out.append(Deadline(name=spec.name, label=spec.label, hours=spec.hours, due=due))
        # A clock of the lower tier that the new tier has no counterpart for still runs.
        out.extend(old.values())
        out.sort(key=lambda d: d.due)
        return out

    def colour(self, tier: Tier) -> str:
        return self.tiers[tier].colour


def load_policy(path: str | Path | None = None) -> TierPolicy:
    """Read and validate a policy file (default: the shipped one); a problem raises
    :class:`PolicyError` naming the file, the line and the key."""
    file = Path(path) if path else DEFAULT_POLICY
    if not file.is_file():
        raise PolicyError(f"{file}: tier policy file not found")
    data, node = load_yaml(file)
    if not isinstance(data, dict):
        raise PolicyError(f"{file}:1: the policy must be a mapping (tiers, rules, ...)")
    try:
        return TierPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(describe(exc, file, node)) from None
