"""The typer application, global options and the user-facing error boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ingest.errors import IngestError
from store import StoreError
from tingfeng.config import Config, ConfigError, load_config

app = typer.Typer(
    name="tingfeng",
    help="Tingfeng (听风): public-opinion monitoring and rumor response.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)


class UserError(Exception):
    """An error a user can fix; shown as one message, never as a traceback."""


class State:
    config_path: Path | None = None
    _config: Config | None = None

    @property
    def config(self) -> Config:
        """The configuration, loaded once; loading also applies its ``nlp`` section to the
        tokeniser, so every command that reads it tokenises the same way."""
        if self._config is None:
            config = load_config(self.config_path)
            apply_nlp_config(config)
            self._config = config
        return self._config


def apply_nlp_config(config: Config) -> None:
    """Load the files of ``nlp.user_dict`` and ``nlp.stopwords`` (idempotent)."""
    from nlp.tokenize import load_stopwords, load_user_dict

    for key, paths, load in (
        ("nlp.user_dict", config.nlp.user_dict, load_user_dict),
        ("nlp.stopwords", config.nlp.stopwords, load_stopwords),
    ):
        for path in paths:
            if not path.is_file():
                raise ConfigError(f"{key}: {path}: file not found")
            try:
                load(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{key}: {path}: cannot be read ({exc})") from None


state = State()


def load_dictionaries() -> None:
    """Apply the configured user dictionaries, for a command that tokenises without
    otherwise reading the configuration (training must cut words as imports do)."""
    _ = state.config


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Configuration file (default: TINGFENG_CONFIG or ./tingfeng.yaml).",
        ),
    ] = None,
) -> None:
    state.config_path = config
    state._config = None


def open_configured_store(*, readonly: bool = False):
    from store import open_store

    cfg = state.config
    if cfg.store.backend == "sqlite" and not readonly:
        cfg.store.path.parent.mkdir(parents=True, exist_ok=True)
    return open_store(cfg.store, readonly=readonly)


def main() -> None:
    """Entry point: run the app, turning known errors into one clear line and exit code 2."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            sys.exit(code)
    except (ConfigError, StoreError, UserError, IngestError, FileNotFoundError) as exc:
        # Plain text, unwrapped: messages name paths and keys that must stay greppable.
        sys.stderr.write(f"错误 / error: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
