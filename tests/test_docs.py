"""Documented options and real options must agree (as Datasette's test_docs does): every
option of the model has a row in docs/configuration.md with its type and default, and
every row names a real option with the type and default the code has."""

from __future__ import annotations

import re
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from tingfeng.config import Config

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
#: Sections whose items are documented elsewhere (one source / gazetteer entry per item).
ITEM_SECTIONS = {"sources", "gazetteer", "source_file"}
ROW = re.compile(r"^\| `([a-z_.]+)` \| ([^|]+?) \| ([^|]*?) \|", flags=re.MULTILINE)
NONE = "—"


def type_name(annotation: Any) -> str:
    """How docs/configuration.md writes a field's type."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return type_name(inner[0]) if len(inner) == 1 else " or ".join(map(type_name, inner))
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict or annotation is dict:
        return "mapping"
    names = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "boolean",
        Path: "path",
        date: "date",
        SecretStr: "secret",
    }
    return names[annotation]


def default_of(field: Any) -> Any:
    if field.default_factory is not None:
        return field.default_factory()
    return None if field.default is PydanticUndefined else field.default


def config_fields(model: type[BaseModel] = Config, prefix: str = "") -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if not prefix and name in ITEM_SECTIONS:
            continue
        path = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields |= config_fields(annotation, f"{path}.")
        else:
            fields[path] = field
    return fields


def documented() -> dict[str, tuple[str, str]]:
    return {key: (kind.strip(), default.strip()) for key, kind, default in ROW.findall(
        DOC.read_text("utf-8"))}  # fmt: skip


def parse_default(text: str) -> Any:
    if text == NONE:
        return None
    return yaml.safe_load(text.strip("`"))


def test_every_option_is_documented() -> None:
    missing = set(config_fields()) - set(documented())
    assert not missing, f"options missing from {DOC.name}: {sorted(missing)}"


def test_every_documented_option_exists() -> None:
    extra = set(documented()) - set(config_fields()) - ITEM_SECTIONS
    assert not extra, f"{DOC.name} documents options that do not exist: {sorted(extra)}"


def test_documented_types_and_defaults_are_the_codes() -> None:
    docs = documented()
    wrong = []
    for key, field in config_fields().items():
        if key not in docs:
            continue
        kind, default = docs[key]
        if kind != f"`{type_name(field.annotation)}`" and kind != type_name(field.annotation):
            wrong.append(f"{key}: type is {type_name(field.annotation)!r}, docs say {kind!r}")
        code = default_of(field)
        if isinstance(code, Path):
            code = str(code)
        if parse_default(default) != code:
            wrong.append(f"{key}: default is {code!r}, docs say {default!r}")
    assert not wrong, f"{DOC.name} disagrees with the code:\n" + "\n".join(wrong)
