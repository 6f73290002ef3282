"""The typer application, global options and the user-facing error boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ingest.errors import IngestError
from store import Store, StoreError
from tingfeng.bootstrap import App, bootstrap
from tingfeng.config import Config, ConfigError
from tingfeng.services.errors import ServiceError

app = typer.Typer(
    name="tingfeng",
    help="听风：舆情监测与谣言应对。Tingfeng: public-opinion monitoring and rumor response.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)


class UserError(ServiceError):
    """An error a user can fix; shown as one message, never as a traceback."""


class State:
    """The booted application of this command run (see :mod:`tingfeng.bootstrap`)."""

    config_path: Path | None = None
    _app: App | None = None

    @property
    def app(self) -> App:
        """Booted once per run: configuration validated, dictionaries, gazetteer names and
        stopwords applied to the tokeniser, logging set up."""
        if self._app is None:
            self._app = bootstrap(self.config_path)
        return self._app

    @property
    def config(self) -> Config:
        return self.app.config


state = State()


def load_dictionaries() -> None:
    """Boot the application, for a command that tokenises without otherwise reading the
    configuration (training must cut words as imports do)."""
    _ = state.app


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
    state._app = None


def open_configured_store(*, readonly: bool = False, create: bool = False) -> Store:
    """The configured store; ``readonly`` for commands that only read.

    Only commands that bring data in (imports, replay, the first user) pass ``create``:
    any other command run where no SQLite store exists (a wrong folder, a typo in
    ``store.path``) says so instead of silently creating an empty one.
    """
    cfg = state.app.config.store
    if not create and cfg.backend == "sqlite" and not cfg.path.exists():
        raise StoreError(f"no store at {cfg.path}: run import or crawl first")
    return state.app.open_store(readonly=readonly)


#: Shown under a usage error when an argument starting with "-" was taken for an option.
DASH_HINT = "提示：以 - 开头的参数请写在 -- 之后，例如 tingfeng tokenize -- -关键词"


def _utf8_streams() -> None:
    """Chinese output must not fail under a C/POSIX locale (cron, containers)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            reconfigure(encoding="utf-8", errors="replace")


def main() -> None:
    """Entry point: run the app; a usage error shows the usage and exits 2, a known error
    one clear line and exit 2, never a traceback."""
    _utf8_streams()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            sys.exit(code)
    except (
        ConfigError,
        StoreError,
        ServiceError,
        UserError,
        IngestError,
        FileNotFoundError,
    ) as exc:
        # Plain text, unwrapped: messages name paths and keys that must stay greppable.
        sys.stderr.write(f"错误 / error: {exc}\n")
        sys.exit(2)
    except OSError as exc:  # a file or folder the command needed: the message names it
        sys.stderr.write(f"错误 / error: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: bad option value, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"Error: {exc.format_message()}\n")
        if "No such option" in exc.format_message():
            sys.stderr.write(DASH_HINT + "\n")
        sys.exit(exc.exit_code)
