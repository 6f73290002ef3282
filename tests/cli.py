"""The real ``tingfeng`` entry point (``tingfeng.cli:main``, its error boundary and exit
codes), run in the test process instead of a subprocess.

A subprocess costs a second or more of interpreter start and imports per command; tests of
what a command does with its input (messages, exit codes, what lands in the store) run it
here. Tests of the installed command itself (the console script, a crawl's own process, a
kill mid-run) keep their subprocesses.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None, replace: bool) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        if replace:
            os.environ.clear()
        if env:
            os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_main(
    *args: str,
    env: Mapping[str, str] | None = None,
    replace_env: bool = False,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``tingfeng ARGS...`` in-process: its exit code, standard output and error, as
    :func:`subprocess.run` with ``capture_output=True, text=True`` would give them.

    ``env`` is added to the environment (or replaces it, with ``replace_env``) and ``cwd``
    is the working directory, both for the run only.
    """
    from tingfeng.cli import main

    # Text streams over bytes, as a process's own: commands write bytes to stdout.buffer.
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="", write_through=True)
    argv = ["tingfeng", *args]
    here = Path.cwd()
    saved_argv = sys.argv
    code: int | str | None = 0
    with (
        _environment(env, replace_env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            sys.argv = argv
            if cwd is not None:
                os.chdir(cwd)
            main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = saved_argv
            os.chdir(here)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): the message goes to stderr
        err.write(f"{code}\n")
        code = 1
    texts = [s.buffer.getvalue().decode("utf-8") for s in (out, err)]  # type: ignore[attr-defined]
    return subprocess.CompletedProcess(argv, code, *texts)
