"""Documented options and real options must agree (as Datasette's test_docs does)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from tingfeng.config import Config

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
#: Sections whose items are documented elsewhere (one source / gazetteer entry per item).
ITEM_SECTIONS = {"sources", "gazetteer", "source_file"}


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if not prefix and name in ITEM_SECTIONS:
            continue
        path = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= config_keys(annotation, f"{path}.")
        else:
            keys.add(path)
    return keys


def documented_keys() -> set[str]:
    rows = re.findall(r"^\| `([a-z_.]+)` \|", DOC.read_text("utf-8"), flags=re.MULTILINE)
    return set(rows)


def test_every_option_is_documented() -> None:
    missing = config_keys() - documented_keys()
    assert not missing, f"options missing from {DOC.name}: {sorted(missing)}"


def test_every_documented_option_exists() -> None:
    extra = documented_keys() - config_keys() - ITEM_SECTIONS
    assert not extra, f"{DOC.name} documents options that do not exist: {sorted(extra)}"
