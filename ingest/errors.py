"""Import errors a user can fix: raised before anything is imported, shown as one line."""

from __future__ import annotations

from pathlib import Path

from text.zh import os_reason


class IngestError(Exception):
    """An import that cannot start (the message names the path and the problem)."""


class MissingInputError(IngestError, FileNotFoundError):
    """An input file that does not exist or is not a file."""


def check_inputs(paths: list[Path]) -> list[Path]:
    """Every input must be a readable file; the first one that is not stops the import
    before anything is written (a half-done import of a mistyped list helps nobody)."""
    if not paths:
        raise IngestError("没有给出要导入的文件")
    for path in paths:
        if not path.exists():
            raise MissingInputError(f"{path}: 文件不存在（未导入任何数据）")
        if not path.is_file():
            raise MissingInputError(f"{path}: 不是文件（未导入任何数据）")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise IngestError(f"{path}: 无法读取（{os_reason(exc)}；未导入任何数据）") from None
    return paths
