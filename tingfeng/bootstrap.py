"""One start-up for every entry point: CLI commands, the crawl process, import and training
workers, and (to come) the scheduler and the API.

:func:`bootstrap` loads and validates the configuration, applies what the configuration
says about text (the office's user dictionaries, the gazetteer's place names, its
stopwords) to the shared tokeniser, sets up logging, and returns an :class:`App` that opens
the configured store on demand. A process started by another (a pool worker) calls
:func:`restore_worker` with :meth:`App.worker_state` so it cuts words exactly as its parent.

Nothing here prints: callers decide how an error is shown (the CLI prints one line).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nlp import tokenize
from store import Store, StoreError, open_store
from text.zh import os_reason
from tingfeng.config import Config, ConfigError, load_config

log = logging.getLogger("tingfeng")

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class App:
    """A booted application: the validated configuration, with text tools applied."""

    config: Config
    #: Where the configuration came from (None: defaults and environment only).
    config_file: Path | None = None

    def open_store(self, *, readonly: bool = False) -> Store:
        """The configured store (a new one per call; close it, or use ``with``).

        ``readonly``: the caller only reads (``stats``, ``search``, ``export``). A writer
        creates the SQLite folder if needed; a folder that cannot exist is a configuration
        error naming ``store.path``.
        """
        cfg = self.config.store
        if cfg.backend == "sqlite" and not readonly:
            folder = cfg.path.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"store.path: {cfg.path}: 无法创建文件夹 {folder}（{os_reason(exc)}）"
                ) from None
            if cfg.path.is_dir():
                raise ConfigError(f"store.path: {cfg.path}: 是文件夹，不是数据库文件")
        try:
            return open_store(cfg, readonly=readonly)
        except OSError as exc:
            raise StoreError(f"store.path: {cfg.path}: 无法打开（{os_reason(exc)}）") from None

    def worker_state(self) -> tokenize.TokenizerState:
        """What a worker process needs to tokenise as this one does."""
        return tokenize.snapshot()


def apply_text_config(config: Config) -> None:
    """Load ``nlp.user_dict`` and ``nlp.stopwords`` and add the gazetteer's names to the
    tokeniser, so place names stay whole in search tokens, incident keywords and region
    tags alike (idempotent)."""
    for key, paths, load in (
        ("nlp.user_dict", config.nlp.user_dict, tokenize.load_user_dict),
        ("nlp.stopwords", config.nlp.stopwords, tokenize.load_stopwords),
    ):
        for path in paths:
            if not path.is_file():
                raise ConfigError(f"{key}: {path}: 文件不存在")
            try:
                load(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{key}: {path}: 无法读取（{os_reason(exc)}）") from None
    tokenize.add_words(gazetteer_names(config.gazetteer))


def gazetteer_names(gazetteer: Mapping[str, list[str]]) -> list[str]:
    """Every district, town and landmark name of the ``gazetteer:`` section."""
    names: dict[str, None] = {}
    for district, places in gazetteer.items():
        for name in [district, *places]:
            if name and name.strip():
                names[name.strip()] = None
    return list(names)


def setup_logging(level: int | str = logging.WARNING) -> None:
    """Log to standard error once per process (the crawl process leaves this to Scrapy)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(level)


def bootstrap(
    config_path: str | Path | None = None,
    *,
    config: Config | None = None,
    environ: dict[str, str] | None = None,
    logging_level: int | str | None = logging.WARNING,
) -> App:
    """Load (or take) the configuration, apply its text settings, set up logging.

    ``logging_level=None`` leaves logging alone (Scrapy configures it in the crawl).
    Raises :class:`ConfigError` naming the key and file on any problem.
    """
    if config is None:
        config = load_config(config_path, environ)
    apply_text_config(config)
    if logging_level is not None:
        setup_logging(logging_level)
    return App(config=config, config_file=config.source_file)


def restore_worker(state: tokenize.TokenizerState | None) -> None:
    """Initializer of worker processes: the parent's dictionaries and added words."""
    tokenize.restore(state)
