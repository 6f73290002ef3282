"""JSON-lines import and export: one post per line, in the shape ``tingfeng export`` writes.

A line ``{"snapshot": {...}}`` carries one metric snapshot (:class:`models.MetricSnapshot`)
of the post before it, so that export → import keeps the spread history too. Files may
start with a UTF-8 byte-order mark (Excel and Notepad write one); a line that is not UTF-8
(a GBK export, say) is counted as such, with its file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from ingest.bounds import DateBounds
from models import MetricSnapshot, Post
from text.report import ImportReport

_DATE_FIELDS = {"created_at", "fetched_at"}
_BOM = b"\xef\xbb\xbf"
SNAPSHOT_KEY = "snapshot"


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


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def iter_jsonl(
    path: str | Path,
    report: ImportReport,
    *,
    default_source: str | None = None,
    bounds: DateBounds | None = None,
    snapshots: list[MetricSnapshot] | None = None,
    on_position: Callable[[int], None] | None = None,
) -> Iterator[Post]:
    """Yield valid posts of a JSONL file; every other line is counted in ``report``.

    Snapshot lines go to ``snapshots`` (counted as a warning when no list is given).
    Dates outside ``bounds`` (default: :meth:`DateBounds.of`) are refused; a ``fetched_at``
    before ``created_at`` is raised to ``created_at`` (a post is never collected before it
    was written). ``on_position`` gets the byte offset reached, every few thousand lines.
    """
    file = Path(path)
    bounds = bounds or DateBounds.of()
    seen: set[str] = set()
    try:
        handle = file.open("rb")
    except OSError as exc:
        report.skip("unreadable file", f"{file} ({exc.strerror or exc})")
        return
    position = 0
    with handle:
        for number, raw in enumerate(handle, start=1):
            position += len(raw)
            if on_position is not None and number % 4096 == 0:
                on_position(position)
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            where = f"{file}:{number}"
            if not raw.strip():
                continue
            report.read += 1
            try:
                data: Any = orjson.loads(raw)
            except orjson.JSONDecodeError:
                report.skip("not UTF-8" if _not_utf8(raw) else "malformed JSON", where)
                continue
            if not isinstance(data, dict):
                report.skip("not a JSON object", where)
                continue
            if SNAPSHOT_KEY in data and len(data) == 1:
                _snapshot(data[SNAPSHOT_KEY], where, report, bounds, snapshots)
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
            # A fetched_at the line does not give is the clock's, not the data's.
            given = ("created_at", "fetched_at") if "fetched_at" in data else ("created_at",)
            refused = next((f for f in given if bounds.refuses(getattr(post, f))), None)
            if refused is not None:
                report.skip(bounds.reason(refused), where)
                continue
            if post.fetched_at < post.created_at:
                report.warn("fetched_at before created_at (set to created_at)", where)
                post.fetched_at = post.created_at
            if post.id in seen:
                report.warn("duplicate id in file (merged)", where)
            seen.add(post.id)
            yield post


def _snapshot(
    data: Any,
    where: str,
    report: ImportReport,
    bounds: DateBounds,
    out: list[MetricSnapshot] | None,
) -> None:
    try:
        snap = MetricSnapshot.model_validate(data)
    except ValidationError as exc:
        report.skip("invalid snapshot: " + reason_for(exc), where)
        return
    except ValueError:
        report.skip("invalid snapshot: invalid date in observed_at", where)
        return
    if bounds.refuses(snap.observed_at):
        report.skip("invalid snapshot: " + bounds.reason("observed_at"), where)
        return
    if out is None:
        report.warn("metric snapshot (not used here)", where)
        return
    out.append(snap)


def write_jsonl(
    posts: Iterator[Post],
    target: IO[bytes],
    snapshots_of: Callable[[list[str]], list[MetricSnapshot]] | None = None,
) -> tuple[int, int]:
    """Write posts as JSON lines, each followed by its metric snapshot lines when
    ``snapshots_of(ids) -> list[MetricSnapshot]`` is given (looked up 1,000 posts at a time).
    Returns ``(posts, snapshots)`` written."""
    n_posts = n_snaps = 0
    chunk: list[Post] = []

    def flush() -> None:
        nonlocal n_snaps
        by_post: dict[str, list[MetricSnapshot]] = {}
        if snapshots_of is not None:
            for snap in snapshots_of([p.id for p in chunk]):
                by_post.setdefault(snap.post_id, []).append(snap)
        lines = []
        for post in chunk:
            lines.append(post.model_dump_json().encode())
            for snap in by_post.get(post.id, ()):
                lines.append(
                    b'{"' + SNAPSHOT_KEY.encode() + b'":' + snap.model_dump_json().encode() + b"}"
                )
                n_snaps += 1
        target.write(b"\n".join(lines) + b"\n")
        chunk.clear()

    for post in posts:
        chunk.append(post)
        n_posts += 1
        if len(chunk) >= 1000:
            flush()
    if chunk:
        flush()
    return n_posts, n_snaps
