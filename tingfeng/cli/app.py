"""The typer application, global options and the user-facing error boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ingest.errors import IngestError
from store import Store, StoreError
from store.sqlite_schema import missing_store_message
from text.zh import os_message
from tingfeng.bootstrap import App, bootstrap
from tingfeng.cli.usage import install as install_chinese_help
from tingfeng.cli.usage import usage_error_lines
from tingfeng.config import Config, ConfigError
from tingfeng.services.errors import ServiceError

app = typer.Typer(
    name="tingfeng",
    help="听风：舆情监测与谣言应对。Tingfeng: public-opinion monitoring and rumor response.",
    options_metavar="[选项]",
    subcommand_metavar="命令 [参数]…",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
# typer's own help-page strings in Chinese, for every way the app is run (main, CliRunner).
install_chinese_help()


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
            help="配置文件（默认：环境变量 TINGFENG_CONFIG，或当前目录的 tingfeng.yaml）。",
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
        raise StoreError(missing_store_message(cfg.path))
    return state.app.open_store(readonly=readonly)


#: Shown under a usage error when an argument starting with "-" was taken for an option.
DASH_HINT = "提示：以 - 开头的参数请写在 -- 之后，例如 tingfeng tokenize -- -关键词"


def _utf8_streams() -> None:
    """Chinese output must not fail under a C/POSIX locale (cron, containers)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            reconfigure(encoding="utf-8", errors="replace")


def fail(message: str) -> NoReturn:
    """One line per problem, each ``错误：…``, exit 2. Plain text, never wrapped: messages
    name paths and keys that must stay greppable."""
    lines = [line for line in str(message).splitlines() if line.strip()] or ["未知错误"]
    # An indented line continues the problem above it (a log tail), others are problems.
    sys.stderr.write(
        "".join(f"{line}\n" if line[:1].isspace() else f"错误：{line}\n" for line in lines)
    )
    sys.exit(2)


def _usage_error(exc: typer.TyperException) -> NoReturn:
    from typer._click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError

    if isinstance(exc, NoArgsIsHelpError):  # the command's help page
        exc.show()
        sys.exit(exc.exit_code)
    if not isinstance(exc, UsageError):
        fail(exc.format_message())
    sys.stderr.write("".join(f"{line}\n" for line in usage_error_lines(exc)))
    if isinstance(exc, NoSuchOption):
        sys.stderr.write(DASH_HINT + "\n")
    sys.exit(exc.exit_code)


def main() -> None:
    """Entry point: run the app; a usage error says what is wrong in Chinese with the usage
    line and exits 2, a known error one clear line and exit 2, never a traceback."""
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
    ) as exc:
        fail(str(exc))
    except OSError as exc:  # a file or folder the command needed: the message names it
        fail(os_message(exc))
    except KeyboardInterrupt:
        sys.stderr.write("已中断\n")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("已中止\n")
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: bad option value, missing argument
        _usage_error(exc)
