"""Configuration: one YAML file plus environment overrides.

Lookup order for the file: ``--config PATH``, then ``TINGFENG_CONFIG``, then ``./tingfeng.yaml``
(a missing default file means "all defaults"). Any key can be overridden from the
environment as ``TINGFENG_<SECTION>__<KEY>`` (e.g. ``TINGFENG_STORE__BACKEND=elasticsearch``).

Written on plain pydantic rather than pydantic-settings because the file path is chosen at
run time and every error must name the exact key (``store.backend``) and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from alerting.bulletins.config import BulletinsConfig
from alerting.config import AlertingConfig
from api.settings import ApiSettings
from crawler.config import CrawlerConfig
from ingest.bounds import IngestConfig
from models import Source
from models.settings import ConfigError, Section
from nlp.config import NlpConfig
from store.config import StoreConfig
from text.zh import describe, input_value

__all__ = [
    "Config",
    "ConfigError",
    "CrawlerConfig",
    "HotBurstConfig",
    "HotClusterConfig",
    "HotConfigSection",
    "NlpConfig",
    "OfficeConfig",
    "StoreConfig",
    "load_config",
]

# The hot: section lives next to the detector that reads it (re-exported here).
from nlp.hot_config import HotBurstConfig, HotClusterConfig, HotConfigSection

ENV_PREFIX = "TINGFENG_"
DEFAULT_FILE = "tingfeng.yaml"


#: ``TINGFENG_`` variables that are not configuration keys. The configuration may name more
#: for its secrets (any ``*_env`` key, e.g. a source's ``settings.cookie_env``); those are
#: allowed too, see :func:`_check_env`. A component reading another variable adds it here.
OTHER_VARIABLES = frozenset(
    {
        "TINGFENG_CONFIG",
        "TINGFENG_WEIBO_COOKIE",
        # The Elasticsearch contract tests' server (tests/store/conftest.py).
        "TINGFENG_ES_URL",
        "TINGFENG_ES_USERNAME",
        "TINGFENG_ES_PASSWORD",
        "TINGFENG_ES_CA_CERTS",
        "TINGFENG_ES_VERIFY_CERTS",
    }
)

_Section = Section


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
    """The whole configuration; later subsystems add their sections here. An unknown
    section is an error like an unknown key (a plugin's options go in its own section,
    which its package adds here)."""

    store: StoreConfig = Field(default_factory=StoreConfig)
    nlp: NlpConfig = Field(default_factory=NlpConfig)
    hot: HotConfigSection = Field(default_factory=HotConfigSection)
    crawler: CrawlerConfig = Field(default_factory=CrawlerConfig)
    office: OfficeConfig = Field(default_factory=OfficeConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    bulletins: BulletinsConfig = Field(default_factory=BulletinsConfig)
    api: ApiSettings = Field(default_factory=ApiSettings)
    sources: list[Source] = Field(default_factory=list)
    gazetteer: dict[str, list[str]] = Field(default_factory=dict)
    source_file: Path | None = None

    def source(self, name: str) -> Source:
        for src in self.sources:
            if src.name == name:
                return src
        known = "、".join(s.name for s in self.sources) or "无"
        raise ConfigError(f"sources: 没有名为 {name!r} 的数据源（已配置：{known}）")


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


EnvKeys = dict[tuple[str, ...], str]


def _env_overrides(environ: dict[str, str]) -> tuple[dict[str, Any], EnvKeys]:
    """Configuration values from ``TINGFENG_<SECTION>__<KEY>`` variables, and which
    variable set which key (so an error can blame the variable, not the file)."""
    out: dict[str, Any] = {}
    origin: EnvKeys = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # TINGFENG_A=… and TINGFENG_A__B=… together
                raise ConfigError(f"{key}: {'.'.join(path[:-1])} 不是配置节，不能再设其下的键")
            node = child
        node[path[-1]] = _env_value(raw)
        origin[tuple(path)] = key
    return out, origin


def _named_variables(node: Any) -> Iterator[str]:
    """Variables the configuration names for its secrets: the value of any ``*_env`` key
    (a source's ``settings.cookie_env``, a channel's ``password_env``...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                yield value
            else:
                yield from _named_variables(value)
    elif isinstance(node, list):
        for item in node:
            yield from _named_variables(item)


def _check_env(environ: dict[str, str], data: dict[str, Any]) -> None:
    """A ``TINGFENG_`` variable that is neither a key (``__`` form) nor a known variable
    is a typo: refuse it rather than run without the setting the user meant."""
    own = set(OTHER_VARIABLES) | set(_named_variables(data))
    sections = set(Config.model_fields)
    for key in sorted(environ):
        if not key.startswith(ENV_PREFIX) or "__" in key or key in own:
            continue
        rest = key[len(ENV_PREFIX) :].lower()
        hint = "（配置项的环境变量写作 TINGFENG_<节>__<键>"
        first = next((s for s in sections if rest.startswith(s + "_")), None)
        if first:
            hint += f"，例如 {ENV_PREFIX}{first.upper()}__{rest[len(first) + 1 :].upper()}"
        raise ConfigError(f"{key}: 未知的环境变量{hint}）")


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where ``loc`` points (for "unknown key" errors)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [k for k in current.model_fields if k != "source_file"]
    return []


def format_validation_error(
    exc: ValidationError,
    where: str,
    env: EnvKeys | None = None,
    model: type[BaseModel] | None = None,
) -> str:
    """One line per problem: ``where: key: message``, or ``VARIABLE（环境变量）: key:
    message`` when the environment set the value; the message is Chinese
    (:func:`text.zh.describe`), the key and the value verbatim."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "（顶层）"
        blame = where
        parts = tuple(str(p) for p in loc)
        for keys, variable in (env or {}).items():
            # The variable set this key, a section around it, or (unknown section) a key in it.
            if keys == parts[: len(keys)] or parts == keys[: len(parts)]:
                blame = f"{variable}（环境变量）"
                break
        msg = describe(err)
        if err["type"] == "extra_forbidden":
            known = _known_keys(model or Config, loc)
            msg = "未知的配置项" + (f"（可用的有：{'、'.join(known)}）" if known else "")
        else:
            value = input_value(err)
            if value is not None:
                msg += f"，而不是 {value}"
        lines.append(f"{blame}: {key}: {msg}")
    return "\n".join(lines)


def _resolve_paths(node: Any, base: Path) -> None:
    """Make every relative path option relative to ``base`` (the config file's folder),
    in every section: ``store.path``, ``nlp.user_dict``, ``store.ca_certs``..."""
    if not isinstance(node, BaseModel):
        return
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, Path):
            if not value.is_absolute():
                setattr(node, name, (base / value).resolve())
        elif isinstance(value, list) and value and all(isinstance(v, Path) for v in value):
            setattr(node, name, [v if v.is_absolute() else (base / v).resolve() for v in value])
        elif isinstance(value, BaseModel):
            _resolve_paths(value, base)


def _check_kinds(config: Config, where: str) -> None:
    from crawler.registry import IMPORT_KIND, source_kinds

    if all(s.kind == IMPORT_KIND for s in config.sources):
        return  # nothing to check, and loading every spider imports scrapy (0.4 s)
    kinds = source_kinds()
    problems = [
        f"{where}: sources.{i}.kind: 没有 {s.kind!r} 类型的爬虫（可用的有：{', '.join(kinds)}）"
        for i, s in enumerate(config.sources)
        if s.kind not in kinds
    ]
    if problems:
        raise ConfigError("\n".join(problems))


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    environ = dict(os.environ if environ is None else environ)
    explicit = path or environ.get("TINGFENG_CONFIG")
    file = Path(explicit) if explicit else Path(DEFAULT_FILE)
    data: dict[str, Any] = {}
    if file.is_dir():
        raise ConfigError(f"{file}: 是文件夹，不是配置文件")
    if file.exists():
        try:
            loaded = yaml.safe_load(file.read_text("utf-8-sig"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f"{mark.line + 1}:{mark.column + 1}" if mark else ""
            where_in = f"{file}:{at}" if at else str(file)
            raise ConfigError(
                f"{where_in}: 不是有效的 YAML（{getattr(exc, 'problem', exc)}）"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: 无法读取（{exc}）") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{file}: 顶层应为各配置节的映射（键: 值），而不是 {type(loaded).__name__}"
            )
        data = loaded
    elif explicit:
        raise ConfigError(f"{file}: 找不到配置文件")
    overrides, origin = _env_overrides(environ)
    _check_env(environ, data)
    data = _deep_merge(data, overrides)
    where = str(file) if file.exists() else "配置"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, where, origin)) from None
    _check_kinds(config, where)
    config.source_file = file if file.exists() else None
    if config.source_file:
        _resolve_paths(config, file.parent)
    return config
