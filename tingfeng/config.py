"""Configuration: one YAML file plus environment overrides.

Lookup order for the file: ``--config PATH``, then ``TINGFENG_CONFIG``, then ``./tingfeng.yaml``
(a missing default file means "all defaults"). Any key can be overridden from the
environment as ``TINGFENG_<SECTION>__<KEY>`` (e.g. ``TINGFENG_STORE__BACKEND=elasticsearch``).

Written on plain pydantic rather than pydantic-settings because the file path is chosen at
run time and every error must name the exact key (``store.backend``) and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerting.bulletins.config import BulletinsConfig
from ingest.bounds import IngestConfig
from models import Source

ENV_PREFIX = "TINGFENG_"
DEFAULT_FILE = "tingfeng.yaml"


class ConfigError(Exception):
    """A configuration problem, naming the key and what is wrong with it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreConfig(_Section):
    backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    path: Path = Path("data/tingfeng.db")
    url: str | None = None
    username: str | None = None
    password: str | None = None
    index_prefix: str = "tingfeng"
    verify_certs: bool = True
    ca_certs: Path | None = None
    batch_size: int = Field(default=2000, ge=1, le=100_000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class NlpConfig(_Section):
    user_dict: list[Path] = Field(default_factory=list)
    stopwords: list[Path] = Field(default_factory=list)
    rumor_model: Path | None = None


class CrawlerConfig(_Section):
    """The ``crawler:`` section: politeness, retries and cleaning thresholds (crawler/)."""

    user_agent: str | None = None
    obey_robots: bool = True
    concurrent_requests: int = Field(default=16, ge=1)
    per_domain_concurrency: int = Field(default=4, ge=1)
    download_delay: float = Field(default=0.5, ge=0)
    download_timeout: float = Field(default=20, gt=0)
    retry_times: int = Field(default=3, ge=0)
    retry_backoff: float = Field(default=1.0, ge=0)
    retry_backoff_max: float = Field(default=30.0, ge=0)
    autothrottle: bool = True
    autothrottle_start_delay: float = Field(default=1.0, ge=0)
    autothrottle_max_delay: float = Field(default=30.0, ge=0)
    autothrottle_target_concurrency: float = Field(default=2.0, gt=0)
    store_batch_size: int = Field(default=200, ge=1)
    near_duplicate_threshold: float = Field(default=0.7, gt=0, le=1)
    near_duplicate_min_chars: int = Field(default=20, ge=1)
    future_tolerance_minutes: int = Field(default=60, ge=0)
    stale_factor: float = Field(default=4.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Raw Scrapy settings, applied last (for what has no option above).
    scrapy: dict[str, Any] = Field(default_factory=dict)


class HotClusterConfig(_Section):
    """Incident clustering: how similar and how close in time a new root must be to join."""

    window_hours: float = Field(default=72.0, gt=0)
    tau_hours: float = Field(default=24.0, gt=0)
    threshold: float = Field(default=0.2, gt=0, le=1)


class HotBurstConfig(_Section):
    """Burst rule (SpikeRule-like): reference and current windows against the locality."""

    reference_minutes: int = Field(default=10080, ge=1)
    current_minutes: int = Field(default=60, ge=1)
    ratio: float = Field(default=3.0, gt=0)
    min_current: int = Field(default=30, ge=1)
    min_reference: int = Field(default=100, ge=0)
    release: float = Field(default=0.5, gt=0, le=1)
    cooldown_minutes: int = Field(default=30, ge=0)
    backoff_minutes: int = Field(default=60, ge=0)
    max_backoff_minutes: int = Field(default=480, ge=0)


class HotConfigSection(_Section):
    """Hot topics: incidents, bursts, virality (see docs/hot-topics.md)."""

    categories: Path | None = None
    virality_model: Path | None = None
    virality_threshold: float | None = Field(default=None, ge=0, le=1)
    active_hours: float = Field(default=6.0, gt=0)
    retention_hours: float = Field(default=72.0, gt=0)
    late_margin_hours: float = Field(default=1.0, ge=0)
    hot_cooldown_minutes: float = Field(default=30.0, ge=0)
    locality: str = "全市"
    cluster: HotClusterConfig = Field(default_factory=HotClusterConfig)
    burst: HotBurstConfig = Field(default_factory=HotBurstConfig)


class OfficeConfig(_Section):
    """The ``office:`` section: who the office is, and which accounts speak for it.

    Posts by these accounts (the government account matrix, 政务矩阵) are official
    responses: never scored as rumors, linked to incidents as responses.
    """

    #: The office's name as it signs bulletins (e.g. 青川市委网信办).
    name: str = "本地网信办"
    #: Author ids of the office's own accounts and its matrix (Weibo uids etc.).
    accounts: list[str] = Field(default_factory=list)
    #: Names of configured sources that are official sites (portal, official news).
    sources: list[str] = Field(default_factory=list)
    #: Weibo ``verified_type`` values treated as official (1 government, 3 media, ...).
    verified_types: list[int] = Field(default_factory=lambda: [1, 3])


class Config(_Section):
    """The whole configuration; later subsystems add their sections here."""

    model_config = ConfigDict(extra="allow")

    store: StoreConfig = Field(default_factory=StoreConfig)
    nlp: NlpConfig = Field(default_factory=NlpConfig)
    hot: HotConfigSection = Field(default_factory=HotConfigSection)
    crawler: CrawlerConfig = Field(default_factory=CrawlerConfig)
    office: OfficeConfig = Field(default_factory=OfficeConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    bulletins: BulletinsConfig = Field(default_factory=BulletinsConfig)
    sources: list[Source] = Field(default_factory=list)
    gazetteer: dict[str, list[str]] = Field(default_factory=dict)
    source_file: Path | None = None

    def source(self, name: str) -> Source:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"sources: no source named {name!r} (known: {known})")


def _env_value(raw: str) -> Any:
    """Environment values stay strings (pydantic converts "2000" or "true" where the field
    wants it), so a password such as ``123456`` or ``*abc`` arrives intact; only a YAML list
    or mapping (``[a, b]``) is parsed, for list-valued options."""
    if raw[:1] in "[{":
        try:
            parsed = yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw
        if isinstance(parsed, list | dict):
            return parsed
    return raw


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _env_value(raw)
    return out


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def format_validation_error(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{where}: {key}: {err['msg']}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    environ = dict(os.environ if environ is None else environ)
    explicit = path or environ.get("TINGFENG_CONFIG")
    file = Path(explicit) if explicit else Path(DEFAULT_FILE)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            loaded = yaml.safe_load(file.read_text("utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError(
                f"{file}:{at}: not valid YAML ({getattr(exc, 'problem', exc)})"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read ({exc})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{file}: top level must be a mapping of sections, got {type(loaded).__name__}"
            )
        data = loaded
    elif explicit:
        raise ConfigError(f"{file}: configuration file not found")
    data = _deep_merge(data, _env_overrides(environ))
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(file))) from None
    config.source_file = file if file.exists() else None
    if config.source_file and not config.store.path.is_absolute():
        config.store.path = (file.parent / config.store.path).resolve()
    if config.source_file:
        for key in ("categories", "virality_model"):
            value = getattr(config.hot, key)
            if value is not None and not value.is_absolute():
                setattr(config.hot, key, (file.parent / value).resolve())
        config.bulletins.templates = [
            p if p.is_absolute() else (file.parent / p).resolve()
            for p in config.bulletins.templates
        ]
    return config
