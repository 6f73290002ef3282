"""Reader for the CED research layout (Song et al., 2018), shared by import, training and replay.

Layout::

    original-microblog/<event>.json     the source microblog (+ its author)
    rumor-repost/<event>.json           reposts/comments of a rumor event, or
    non-rumor-repost/<event>.json       ... of a non-rumor event (the folder is the label)

Event file names are ``<n>_<mid>_<uid>``. Source posts become ``ced:<mid>``; reposts become
``ced:<repost mid>`` with ``parent_id`` the post they answer (the source when ``parent`` is
empty) and ``root_id`` the source post.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import orjson
from pydantic import ValidationError

from ingest.report import ImportReport
from ingest.timeparse import parse_time
from models import Author, MetricSnapshot, Post

SOURCE = "ced"
LABEL_DIRS: dict[str, Literal["rumor", "non-rumor"]] = {
    "rumor-repost": "rumor",
    "non-rumor-repost": "non-rumor",
}
#: Offsets after the source post at which cumulative repost counts become metric snapshots.
SNAPSHOT_OFFSETS = tuple(
    timedelta(minutes=m) for m in (15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320)
)


@dataclass
class CedEvent:
    """One CED event: the source post, its label and its reposts/comments."""

    event_id: str
    label: Literal["rumor", "non-rumor"] | None
    source: Post
    reposts: list[Post] = field(default_factory=list)

    @property
    def is_rumor(self) -> bool | None:
        return None if self.label is None else self.label == "rumor"

    def posts(self) -> Iterator[Post]:
        yield self.source
        yield from self.reposts

    def reposts_until(self, offset: timedelta | None) -> list[Post]:
        """Reposts dated at or before ``source time + offset`` (all when ``offset`` is None)."""
        if offset is None:
            return self.reposts
        limit = self.source.created_at + offset
        return [r for r in self.reposts if r.created_at <= limit]

    def snapshots(self) -> list[MetricSnapshot]:
        """Cumulative counts of the source post at fixed offsets, derived from repost times,
        and a last snapshot with the counts the source itself reported."""
        if not self.reposts:
            return []
        times = sorted(r.created_at for r in self.reposts)
        start, last = self.source.created_at, times[-1]
        out: list[MetricSnapshot] = []
        idx = 0
        for offset in SNAPSHOT_OFFSETS:
            at = start + offset
            if at > last:
                break
            while idx < len(times) and times[idx] <= at:
                idx += 1
            out.append(MetricSnapshot(post_id=self.source.id, observed_at=at, reposts=idx))
        out.append(
            MetricSnapshot(
                post_id=self.source.id,
                observed_at=max(last, start),
                reposts=max(self.source.reposts, len(times)),
                comments=self.source.comments,
                likes=self.source.likes,
            )
        )
        return out


def _read_json(path: Path, report: ImportReport) -> object | None:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        report.skip("unreadable file", f"{path} ({exc.strerror or exc})")
    except orjson.JSONDecodeError as exc:
        report.skip("malformed JSON", f"{path} ({exc})")
    return None


def _source_post(event_id: str, raw: dict, path: Path, label: str | None) -> Post:
    parts = event_id.split("_")
    mid = parts[1] if len(parts) >= 3 else event_id
    uid = parts[2] if len(parts) >= 3 else None
    user = raw.get("user")
    if not isinstance(user, dict):  # some files say "user": "empty"
        user = {}
    created = None
    if user.get("time") not in (None, ""):
        try:
            created = parse_time(user["time"])
        except ValueError:
            created = None
    author = Author(
        id=uid,
        verified=bool(user.get("verified")),
        verified_type=user.get("verified_type"),
        followers=user.get("followers"),
        friends=user.get("friends"),
        posts=user.get("messages"),
        created_at=created,
        location=user.get("location") or None,
    )
    extra = {
        "ced_event": event_id,
        "ced_label": label,
        "pics": raw.get("pics"),
        "has_url": raw.get("has_url"),
        "client": raw.get("source"),
        "gender": user.get("gender"),
        "has_description": user.get("description"),
    }
    return Post(
        source=SOURCE,
        native_id=mid,
        kind="post",
        url=f"https://weibo.com/{uid}/{mid}" if uid else None,
        author=author,
        text=raw.get("text") or "",
        created_at=parse_time(raw.get("time")),
        fetched_at=parse_time(raw.get("time")),
        reposts=max(int(raw.get("reposts") or 0), 0),
        comments=max(int(raw.get("comments") or 0), 0),
        likes=max(int(raw.get("likes") or 0), 0),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _reposts(source: Post, items: list, path: Path, report: ImportReport) -> list[Post]:
    out: list[Post] = []
    seen: set[str] = set()
    root = source.id
    earliest = source.created_at - timedelta(minutes=1)
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        report.read += 1
        if not isinstance(item, dict):
            report.skip("not an object", where)
            continue
        mid = item.get("mid")
        if not mid or not isinstance(mid, str):
            report.skip("missing id", where)
            continue
        if mid in seen:
            report.skip("duplicate id", where)
            continue
        try:
            created: datetime = parse_time(item.get("date"))
        except ValueError:
            report.skip("invalid date", where)
            continue
        if created < earliest:
            report.warn("repost dated before its source (kept)", where)
        seen.add(mid)
        parent = item.get("parent") or ""
        text = item.get("text") or ""
        # Post.model_construct would skip validation; values here are already checked and
        # validation is what keeps a bad record from reaching the store, so it stays.
        out.append(
            Post(
                source=SOURCE,
                native_id=mid,
                kind="repost",
                author=Author(id=str(item["uid"])) if item.get("uid") else Author(),
                text=text if isinstance(text, str) else "",
                created_at=created,
                fetched_at=source.fetched_at,
                parent_id=f"{SOURCE}:{parent}" if parent else root,
                root_id=root,
            )
        )
    return out


def iter_events(root: str | Path, report: ImportReport | None = None) -> Iterator[CedEvent]:
    """Yield every readable event under ``root``; problems are counted in ``report``.

    Events are yielded in file-name order, so two runs over the same directory agree.
    """
    report = report if report is not None else ImportReport()
    base = Path(root)
    originals = base / "original-microblog"
    if not originals.is_dir():
        raise FileNotFoundError(f"{base}: not a CED directory (no original-microblog/ folder)")
    labels: dict[str, tuple[str, Path]] = {}
    for folder, label in LABEL_DIRS.items():
        directory = base / folder
        if directory.is_dir():
            for path in directory.glob("*.json"):
                labels[path.stem] = (label, path)
    seen_sources: set[str] = set()
    for path in sorted(originals.glob("*.json")):
        event_id = path.stem
        report.read += 1
        raw = _read_json(path, report)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            report.skip("not an object", str(path))
            continue
        label, repost_path = labels.get(event_id, (None, None))
        if label is None:
            report.warn("event without repost file (no label)", str(path))
        try:
            source = _source_post(event_id, raw, path, label)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            reason = "invalid date" if "time" in str(exc) else "invalid record"
            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                reason = f"invalid {'.'.join(map(str, first['loc'])) or 'record'}"
            report.skip(reason, str(path))
            continue
        if source.id in seen_sources:
            report.skip("duplicate id", str(path))
            continue
        seen_sources.add(source.id)
        reposts: list[Post] = []
        if repost_path is not None:
            items = _read_json(repost_path, report)
            if isinstance(items, list):
                reposts = _reposts(source, items, repost_path, report)
            elif items is not None:
                report.skip("not a list of reposts", str(repost_path))
        yield CedEvent(event_id=event_id, label=label, source=source, reposts=reposts)  # type: ignore[arg-type]
    for event_id, (_, path) in sorted(labels.items()):
        if not (originals / f"{event_id}.json").exists():
            report.skip("repost file without source post", str(path))
