"""The incident list: one set of filters for the API (``GET /api/v1/incidents``) and the
CLI (``tingfeng incidents``), turned into one :class:`store.IncidentQuery` and answered by
:meth:`store.Store.list_incidents` (filtered, ordered, counted and paged by the store, the
current tier included), so neither shell reads more than the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerting.policy import TIER_NUMERALS
from models import FIELD_ERROR, Incident, Tier, ensure_aware, field_error, window_problem
from models.records import RUMOR_BANDS
from store import IncidentQuery, Store
from store.base import IncidentPage, TierFilter
from tingfeng.services.errors import ServiceError

#: The lower edges of the 中 and 高 rumor bands (models.records.RUMOR_BANDS: 0.5, 0.8).
BAND_HIGH, BAND_MEDIUM = RUMOR_BANDS[0][0], RUMOR_BANDS[1][0]
#: The deepest a list can be paged, on every backend (Elasticsearch answers no page past
#: its ``index.max_result_window``, 10,000).
MAX_LIST_WINDOW = 10_000
IncidentOrder = Literal["heat", "last_seen", "rumor", "size"]
RumorFilter = Literal["low", "medium", "high", "unscored"]


class IncidentFilters(BaseModel):
    """The list's filters (the API's query parameters; the CLI's options)."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(default=None, description="last seen at or after")
    until: datetime | None = Field(default=None, description="first seen before")
    district: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    hot: bool | None = None
    rumor: RumorFilter | None = None
    tier: list[TierFilter] = Field(
        default_factory=list,
        max_length=5,
        description="响应级别 of the current alert, repeatable: I, II, III, IV, none (不曾预警)",
    )
    q: str = Field(default="", max_length=100, description="标题或关键词包含")
    sort: IncidentOrder = "heat"
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="after")
    def _aware(self) -> IncidentFilters:
        self.since = ensure_aware(self.since) if self.since else None
        self.until = ensure_aware(self.until) if self.until else None
        if (problem := window_problem(self.since, self.until)) is not None:
            raise field_error("since", problem)
        if self.page * self.per_page > MAX_LIST_WINDOW:
            raise field_error(
                "page",
                f"page × per_page 不能超过 {MAX_LIST_WINDOW}，请缩小筛选范围"
                f"（收到 page={self.page}，per_page={self.per_page}）",
            )
        return self


def incident_query(f: IncidentFilters) -> IncidentQuery:
    """The store query of the filters (rumor bands as score ranges: 低 < 0.5, 中 0.5–0.8,
    高 ≥ 0.8, 未评分 without a score; tiers as the store's current tiers)."""
    low = below = None
    scored: bool | None = None
    if f.rumor == "low":
        below = BAND_MEDIUM
    elif f.rumor == "medium":
        low, below = BAND_MEDIUM, BAND_HIGH
    elif f.rumor == "high":
        low = BAND_HIGH
    elif f.rumor == "unscored":
        scored = False
    return IncidentQuery(
        seen_since=f.since,
        seen_until=f.until,
        district=f.district,
        category=f.category,
        hot=f.hot,
        min_rumor_score=low,
        below_rumor_score=below,
        rumor_scored=scored,
        text=f.q,
        tiers=list(f.tier),
        sort=f.sort,
        offset=(f.page - 1) * f.per_page,
        limit=f.per_page,
    )


def page_incidents(store: Store, f: IncidentFilters) -> IncidentPage:
    """One page of the list, with each alerted incident's current tier."""
    return store.list_incidents(incident_query(f))


class IncidentList(BaseModel):
    """Incidents by heat (highest first); ``total`` counts every stored incident."""

    total: int
    data: list[Incident]

    @property
    def count(self) -> int:
        return len(self.data)


def list_incidents(store: Store, *, hot_only: bool = False, limit: int = 50) -> IncidentList:
    """The hottest ``limit`` incidents (only hot ones with ``hot_only``), by heat."""
    page = store.list_incidents(IncidentQuery(hot=True if hot_only else None, limit=limit))
    return IncidentList(total=store.count_records(Incident), data=page.incidents)


# -- the command line ------------------------------------------------------------------
class IncidentOptionError(ServiceError):
    """A bad option of ``tingfeng incidents``; the message names it, in Chinese."""


#: The CLI option of each filter field, and what it accepts (for the error message).
CLI_OPTIONS: dict[str, tuple[str, str]] = {
    "since": ("--since", "ISO 8601 时间，如 2026-12-02T08:00（不带时区按北京时间）"),
    "until": ("--until", "ISO 8601 时间，如 2026-12-02T20:00（不带时区按北京时间）"),
    "district": ("--district", "不超过 100 个字的区域名"),
    "category": ("--category", "不超过 100 个字的类别名"),
    "rumor": ("--rumor", "低、中、高、未评分 之一（或 low、medium、high、unscored）"),
    "tier": ("--tier", "I、II、III、IV 或 none（不曾预警），可重复给出"),
    "q": ("--text", "不超过 100 个字"),
    "sort": ("--sort", "heat（热度）、last_seen（最近出现）、rumor（谣言分）、size（规模）之一"),
    "page": ("--page", "1 至 1000 的整数"),
    "per_page": ("--limit", "1 至 100 的整数"),
}
RUMOR_WORDS = {"低": "low", "中": "medium", "高": "high", "未评分": "unscored"}
TIER_WORDS = {"1": "I", "2": "II", "3": "III", "4": "IV", "无": "none"}


def _bad(field: str, value: object) -> IncidentOptionError:
    option, accepts = CLI_OPTIONS[field]
    return IncidentOptionError(f"{option}：应为{accepts}，而不是 {value!r}")


def _tier_word(value: str) -> str:
    word = TIER_WORDS.get(value.strip(), value.strip())
    return "none" if word.lower() == "none" else word.upper()


def _int(field: str, value: str | int) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise _bad(field, value) from None


def _time(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return ensure_aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise _bad(field, value) from None


def cli_filters(
    *,
    since: str | None = None,
    until: str | None = None,
    district: str | None = None,
    category: str | None = None,
    hot: bool | None = None,
    rumor: str | None = None,
    tiers: list[str] | None = None,
    text: str = "",
    sort: str = "heat",
    page: str | int = 1,
    limit: str | int = 20,
) -> IncidentFilters:
    """The filters of ``tingfeng incidents`` options (given as typed), or
    :class:`IncidentOptionError` naming the first bad option in Chinese."""
    raw = {
        "since": _time("since", since),
        "until": _time("until", until),
        "district": district,
        "category": category,
        "hot": hot,
        "rumor": RUMOR_WORDS.get(rumor.strip(), rumor.strip()) if rumor is not None else None,
        "tier": [_tier_word(t) for t in tiers or []],
        "q": text,
        "sort": sort.strip(),
        "page": _int("page", page),
        "per_page": _int("per_page", limit),
    }
    try:
        return IncidentFilters(**raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in CLI_OPTIONS:
            field = loc[0]
            value = raw[field][int(loc[1])] if field == "tier" and len(loc) > 1 else raw[field]
            if field == "tier" and len(loc) == 1:
                raise IncidentOptionError("--tier：最多给出 5 个级别") from None
            raise _bad(field, value) from None
        message = str(error.get("msg", ""))
        field = (error.get("ctx") or {}).get("field") if error.get("type") == FIELD_ERROR else None
        if field == "since":
            shown = (str(since).strip(), str(until).strip())
            text = window_problem(raw["since"], raw["until"], ("--since", "--until"), shown)
            raise IncidentOptionError(text or message) from None
        if field == "page":
            raise IncidentOptionError(
                f"--page：页码 × 每页条数（--limit）不能超过 {MAX_LIST_WINDOW}，请缩小筛选范围"
            ) from None
        raise IncidentOptionError(f"筛选条件无效：{message}") from None


def tier_label(tier: Tier | None) -> str:
    """Ⅰ级…Ⅳ级, or - for an incident never alerted."""
    return f"{TIER_NUMERALS[tier]}级" if tier is not None else "-"
