"""Import errors a user can fix: raised before anything is imported, shown as one line."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """An import that cannot start (the message names the path and the problem)."""


class MissingInputError(IngestError, FileNotFoundError):
    """An input file that does not exist or is not a file."""


def check_inputs(paths: list[Path]) -> list[Path]:
    """Every input must be a readable file; the first one that is not stops the import
    before anything is written (a half-done import of a mistyped list helps nobody)."""
    if not paths:
        raise IngestError("no input file given")
    for path in paths:
        if not path.exists():
            raise MissingInputError(f"{path}: no such file (nothing was imported)")
        if not path.is_file():
            raise MissingInputError(f"{path}: not a file (nothing was imported)")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise IngestError(
                f"{path}: cannot be read ({exc.strerror or exc}; nothing was imported)"
            ) from None
    return paths
