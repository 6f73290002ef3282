"""The ``hot:`` settings: the only place the detector's options and defaults are defined.

``tingfeng.config`` re-exports :class:`HotConfigSection` as the ``hot:`` section of the
configuration file; :class:`nlp.detect.HotTopics`, :class:`nlp.incidents.IncidentEngine` and
:class:`nlp.heat.SpikeDetector` take these models directly (no second set of defaults).
Every option is documented in ``docs/hot-topics.md`` (a test checks both ways).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HotClusterConfig(_Section):
    """Incident clustering: how similar and how close in time a new root must be to join."""

    window_hours: float = Field(default=72.0, gt=0)
    tau_hours: float = Field(default=24.0, gt=0)
    threshold: float = Field(default=0.2, gt=0, le=1)
    min_shared: int = Field(default=2, ge=1)
    #: Shared words other than place names must add this much to the similarity (0: off).
    min_event_similarity: float = Field(default=0.04, ge=0, le=1)
    top_terms: int = Field(default=30, ge=1)
    centroid_terms: int = Field(default=60, ge=1)
    probe_terms: int = Field(default=8, ge=1)
    keywords: int = Field(default=8, ge=1)

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @property
    def tau(self) -> timedelta:
        return timedelta(hours=self.tau_hours)


class HotBurstConfig(_Section):
    """Burst rule: an incident's last-window posts against its locality's expected rate.

    See ``nlp.heat`` and docs/hot-topics.md ("Burst") for the formula.
    """

    #: Days of the locality's own history behind its expected rate.
    history_days: float = Field(default=7.0, gt=0, le=60)
    current_minutes: int = Field(default=60, ge=5, le=1440)
    #: Weight of the same-time-of-day rate (0 = flat daily rate only).
    time_of_day: float = Field(default=1.0, ge=0, le=1)
    #: Fires when P(X ≥ current | expected) is at most this (Poisson tail).
    p_value: float = Field(default=0.0001, gt=0, lt=1)
    #: Stays flagged while the tail probability is at most this.
    release_p_value: float = Field(default=0.01, gt=0, lt=1)
    min_posts: int = Field(default=10, ge=1)
    min_authors: int = Field(default=5, ge=1)
    #: Prior for a locality without history: a place of this many residents ...
    residents: int = Field(default=500_000, ge=1)
    #: ... each writing this many posts a day (0.0002 × 500,000 = 100 a day).
    posts_per_resident_day: float = Field(default=0.0002, gt=0)
    #: How many days of history the prior is worth (it fades as real days accumulate).
    prior_days: float = Field(default=1.0, gt=0)
    cooldown_minutes: int = Field(default=30, ge=0)
    backoff_minutes: int = Field(default=60, ge=0)
    max_backoff_minutes: int = Field(default=480, ge=0)

    @model_validator(mode="after")
    def _check(self) -> HotBurstConfig:
        if self.release_p_value < self.p_value:
            raise ValueError("release_p_value 不能小于 p_value")
        if self.max_backoff_minutes < self.backoff_minutes:
            raise ValueError("max_backoff_minutes 不能小于 backoff_minutes")
        return self

    @property
    def current(self) -> timedelta:
        return timedelta(minutes=self.current_minutes)

    @property
    def history(self) -> timedelta:
        return timedelta(days=self.history_days)

    @property
    def prior_per_hour(self) -> float:
        return self.residents * self.posts_per_resident_day / 24.0


class HotConfigSection(_Section):
    """Hot topics: incidents, bursts, virality (see docs/hot-topics.md)."""

    categories: Path | None = None
    virality_model: Path | None = None
    #: Virality alone makes an incident hot at this probability (None = the model's own 0.73).
    virality_threshold: float | None = Field(default=0.8, ge=0, le=1)
    #: A burst of an incident with fewer than ``burst_min_roots`` source posts (one post's
    #: reposts) makes it hot once its virality is at least this (None: any virality).
    burst_virality_threshold: float | None = Field(default=0.4, ge=0, le=1)
    #: ... and while its virality is still unknown (its first minutes) when true.
    burst_unknown_counts: bool = True
    #: Such a single-source burst also needs its tail probability at most this (None: the
    #: burst flag alone, ``burst.p_value``).
    burst_single_p_value: float | None = Field(default=1e-15, gt=0, lt=1)
    #: A burst with at least this many source posts written within its current window
    #: (``burst.current_minutes``) counts on its own.
    burst_min_roots: int = Field(default=2, ge=1)
    #: An incident with at least this many posts is hot by size alone (None: no size rule).
    size_posts: int | None = Field(default=None, ge=1)
    active_hours: float = Field(default=6.0, gt=0)
    retention_hours: float = Field(default=72.0, gt=0)
    late_margin_hours: float = Field(default=1.0, ge=0)
    hot_cooldown_minutes: float = Field(default=30.0, ge=0)
    locality: str = Field(default="全市", min_length=1)
    #: Rescore the rumor probability of source posts whose threads grew in a pass.
    score_rumors: bool = True
    cluster: HotClusterConfig = Field(default_factory=HotClusterConfig)
    burst: HotBurstConfig = Field(default_factory=HotBurstConfig)

    @property
    def active(self) -> timedelta:
        return timedelta(hours=self.active_hours)

    @property
    def retention(self) -> timedelta:
        return timedelta(hours=self.retention_hours)

    @property
    def late_margin(self) -> timedelta:
        return timedelta(hours=self.late_margin_hours)

    @property
    def hot_cooldown(self) -> timedelta:
        return timedelta(minutes=self.hot_cooldown_minutes)
