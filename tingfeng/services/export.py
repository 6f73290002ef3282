"""Export: every stored field of the selected posts, as JSON lines or CSV.

JSON lines are what ``tingfeng import jsonl`` reads back; CSV (UTF-8 with BOM, so Excel
opens Chinese text correctly) has one column per field in :data:`CSV_COLUMNS`.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

import orjson

from models import Post
from store import PostFilter, Store
from text.zh import os_reason
from tingfeng.services.errors import ServiceError

ExportFormat = Literal["jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")

CSV_COLUMNS = [
    "id",
    "source",
    "native_id",
    "kind",
    "url",
    "author_id",
    "author_name",
    "author_verified",
    "author_verified_type",
    "author_followers",
    "author_friends",
    "author_posts",
    "author_created_at",
    "author_location",
    "title",
    "text",
    "created_at",
    "fetched_at",
    "reposts",
    "comments",
    "likes",
    "parent_id",
    "root_id",
    "region_tags",
    "incident_id",
    "rumor_score",
    "near_duplicate_of",
    "extra",
]


def csv_row(post: Post) -> list[object]:
    data = post.model_dump(mode="json")
    author = data.pop("author")
    row = {**data, **{f"author_{k}": v for k, v in author.items()}}
    row["region_tags"] = "|".join(post.region_tags)
    row["extra"] = orjson.dumps(post.extra).decode() if post.extra else ""
    return ["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS]


def jsonl_line(post: Post) -> bytes:
    return post.model_dump_json().encode() + b"\n"


def check_output_path(path: Path) -> None:
    """Refuse an output path that cannot be written, before anything is read."""
    if path.is_dir():
        raise ServiceError(f"--out {path}: 是文件夹，请给出文件名，例如 {path / 'posts.jsonl'}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ServiceError(f"--out {path}: 文件夹 {folder} 不存在")
    if path.exists() and not os.access(path, os.W_OK):
        raise ServiceError(f"--out {path}: 无法写入（没有权限）")
    if not path.exists() and not os.access(folder, os.W_OK):
        raise ServiceError(f"--out {path}: 文件夹 {folder} 无法写入（没有权限）")


@contextmanager
def open_output(path: Path | None, default: BinaryIO) -> Iterator[BinaryIO]:
    """``path`` opened for writing (checked first), or ``default`` (standard output)."""
    if path is None:
        yield default
        return
    check_output_path(path)
    try:
        with path.open("wb") as handle:
            yield handle
    except OSError as exc:  # at open, on a write (disk full) or when closing
        raise ServiceError(f"--out {path}: 无法写入（{os_reason(exc)}）") from None


def export_posts(
    store: Store,
    target: BinaryIO,
    *,
    fmt: ExportFormat = "jsonl",
    flt: PostFilter | None = None,
    query: str = "",
    snapshots: bool = False,
) -> int:
    """Write the posts matching ``flt`` and ``query`` to ``target`` in time order; returns
    the number of posts written. Posts are streamed: memory does not grow with the export.
    ``snapshots`` (JSON lines only): each post's metric snapshots follow it, so an import
    of the file restores them."""
    if fmt not in FORMATS:
        raise ServiceError(f"--format: 应为 jsonl 或 csv，而不是 {fmt!r}")
    flt = flt or PostFilter()
    count = 0
    if fmt == "jsonl":
        from ingest.jsonl import write_jsonl

        count, _ = write_jsonl(
            store.iter_posts(flt, text=query), target, store.get_snapshots if snapshots else None
        )
        return count
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for post in store.iter_posts(flt, text=query):
        writer.writerow(csv_row(post))
        count += 1
    text.flush()
    text.detach()
    return count
