"""JSON-lines import: one post per line, in the shape ``tingfeng export`` writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from models import Post
from text.report import ImportReport

_DATE_FIELDS = {"created_at", "fetched_at"}


def reason_for(exc: ValidationError) -> str:
    """A short, countable reason for a rejected record, naming the field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "record"
    kind = err["type"]
    if kind == "missing":
        return f"missing field {field}"
    if field in _DATE_FIELDS or kind.startswith(("datetime", "date")):
        return f"invalid date in {field}"
    if "empty text" in err.get("msg", ""):
        return "empty text"
    if kind == "extra_forbidden":
        return f"unknown field {field}"
    if kind.endswith(("_type", "_parsing")):
        return f"wrong type for {field}"
    return f"invalid {field}"


def iter_jsonl(
    path: str | Path, report: ImportReport, *, default_source: str | None = None
) -> Iterator[Post]:
    """Yield valid posts of a JSONL file; every other line is counted in ``report``."""
    file = Path(path)
    seen: set[str] = set()
    try:
        handle = file.open("rb")
    except OSError as exc:
        report.skip("unreadable file", f"{file} ({exc.strerror or exc})")
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{file}:{number}"
            if not raw.strip():
                continue
            report.read += 1
            try:
                data: Any = orjson.loads(raw)
            except orjson.JSONDecodeError:
                report.skip("malformed JSON", where)
                continue
            if not isinstance(data, dict):
                report.skip("not a JSON object", where)
                continue
            if default_source and not data.get("source"):
                data["source"] = default_source
            try:
                post = Post.model_validate(data)
            except ValidationError as exc:
                report.skip(reason_for(exc), where)
                continue
            except ValueError as exc:  # e.g. a date string fromisoformat cannot read
                report.skip(f"invalid value ({exc})", where)
                continue
            if post.id in seen:
                report.warn("duplicate id in file (merged)", where)
            seen.add(post.id)
            yield post
