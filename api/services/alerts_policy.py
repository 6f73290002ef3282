"""The tier policy in force, as the admin page and ``GET /api/v1/alerts/policy`` show it:
tiers with their deadlines and the channels that hear them, rules, departments."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from alerting.policy import COLOUR_NAMES, RANK, TIER_NUMERALS, TierPolicy, load_policy
from alerting.yamlpos import PolicyError
from api.errors import ApiError
from models import Tier
from tingfeng.services import alerts as svc


def tier_name(tier: Tier) -> str:
    return f"{TIER_NUMERALS[tier]}级"


def app_policy(request: Request) -> tuple[TierPolicy, str]:
    """The tier policy as the alerting pass loads it (and where from), read once per app;
    a file that does not validate is a 503 naming the setting and the line."""
    state = request.app.state
    cached = getattr(state, "alert_policy", None)
    if cached is None:
        try:
            cached = load_app_policy(state.config)
        except PolicyError as exc:
            raise ApiError(503, "alerting.policy", f"响应级别策略无法加载：{exc}") from None
        state.alert_policy = cached
    return cached


class PolicyDeadline(BaseModel):
    name: str
    label: str
    hours: float


class PolicyTier(BaseModel):
    tier: Tier
    tier_name: str
    label: str
    colour: str
    colour_name: str
    deadlines: list[PolicyDeadline]
    routes: list[str]
    channels: list[str] = Field(description="channel names (and types) that hear this tier")


class PolicyRule(BaseModel):
    name: str
    description: str
    tier: Tier
    when: dict[str, Any]
    tracks: list[PolicyDeadline]


class PolicyPublic(BaseModel):
    source: str = Field(description="the policy file in force, or 内置默认策略")
    version: int
    min_posts: int
    tiers: list[PolicyTier]
    rules: list[PolicyRule]
    default_department: str
    departments_by_category: dict[str, str]


# -- the tier policy in force ---------------------------------------------------------------
def load_app_policy(config: Any) -> tuple[TierPolicy, str]:
    path = svc.policy_path(config)
    return load_policy(path), str(path) if path else "内置默认策略（alerting/policy.yaml）"


def policy_public(policy: TierPolicy, source: str, config: Any) -> PolicyPublic:
    section = config.alerting
    tiers = []
    for tier in sorted(policy.tiers, key=lambda t: -RANK[t]):
        spec = policy.tiers[tier]
        deadlines = [
            PolicyDeadline(name=d.name, label=d.label, hours=d.hours) for d in spec.follow_up
        ]
        if spec.first_response_hours:
            first = PolicyDeadline(
                name="first_response", label="首次回应", hours=spec.first_response_hours
            )
            deadlines.insert(0, first)
        routes = list(section.tier_routes.get(tier, []))
        channels: list[str] = []
        for route in routes:
            for name in section.routes.get(route, []):
                kind = section.channels.get(name, {}).get("type", "?")
                label = f"{name}（{kind}）"
                if label not in channels:
                    channels.append(label)
        tiers.append(
            PolicyTier(
                tier=tier,
                tier_name=tier_name(tier),
                label=spec.label,
                colour=spec.colour,
                colour_name=COLOUR_NAMES[spec.colour],
                deadlines=deadlines,
                routes=routes,
                channels=channels,
            )
        )
    rules = [
        PolicyRule(
            name=r.name,
            description=r.description,
            tier=r.tier,
            when=r.when.model_dump(exclude_defaults=True),
            tracks=[PolicyDeadline(name=t.name, label=t.label, hours=t.hours) for t in r.tracks],
        )
        for r in policy.rules
    ]
    return PolicyPublic(
        source=source,
        version=policy.version,
        min_posts=policy.min_posts,
        tiers=tiers,
        rules=rules,
        default_department=policy.departments.default,
        departments_by_category=dict(policy.departments.by_category),
    )
