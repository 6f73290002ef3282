"""Line numbers for validation errors in YAML files: "file:line: key: problem"."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from text.zh import describe as zh_describe


class PolicyError(Exception):
    """A policy or alerting option that does not validate; names file, line and key."""


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML file and its node tree (for line numbers)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: 无法读取（{exc}）") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{mark.line + 1}" if mark else "?"
        raise PolicyError(f"{path}:{at}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return data, node


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node along ``loc`` that exists in the tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    node = value
                    line = key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def describe(
    exc: ValidationError, path: Path | str, node: yaml.Node | None, prefix: str = ""
) -> str:
    """One line per problem: ``file:line: key: message``."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        key = prefix + ".".join(str(p) for p in loc) if loc else prefix.rstrip(".") or "(top)"
        line = line_of(node, loc)
        at = f"{path}:{line}" if line else str(path)
        lines.append(f"{at}: {key}: {zh_describe(err)}")
    return "\n".join(lines)
