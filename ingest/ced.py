"""Reader for the CED research layout (Song et al., 2018), shared by import, training and replay.

Layout::

    original-microblog/<event>.json     the source microblog (+ its author)
    rumor-repost/<event>.json           reposts/comments of a rumor event, or
    non-rumor-repost/<event>.json       ... of a non-rumor event (the folder is the label)

Event file names are ``<n>_<mid>_<uid>``. Source posts become ``ced:<mid>``; reposts become
``ced:<repost mid>`` with ``parent_id`` the post they answer (the source when ``parent`` is
empty) and ``root_id`` the source post. The dataset was collected after the last post of each
thread, so every post of an event gets that moment as ``fetched_at`` (never before it was
written).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Literal, NamedTuple

import orjson
from pydantic import ValidationError

from ingest.bounds import DateBounds
from models import SHANGHAI, Author, MetricSnapshot, Post
from nlp.tokenize import DEFAULT_REPOST_TEXT, cut_for_index
from store.base import PreparedPost
from text.gazetteer import tagger_for
from text.report import ImportReport
from text.timeparse import MAX_YEAR, MIN_YEAR, parse_time

SOURCE = "ced"
#: Turns a thread held in memory (source post; reposts in stored order, as objects with
#: the attributes of ``nlp.rumor.features.RepostLite``) into whatever the scorer scores.
#: Called as ``thread_row(source, reposts, offsets=...)``: ``offsets`` is each repost's
#: ``(created_at - source.created_at).total_seconds()`` when the importer knows them
#: exactly (else None). Runs in worker processes, so it must be a module-level function.
ThreadRow = Callable[..., object]
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
        return _snapshots(self.source, [r.created_at for r in self.reposts])


def _snapshots_exact(
    source: Post, stamps: list[int], last: datetime | None
) -> list[MetricSnapshot]:
    """:func:`_snapshots` for repost times known as whole Unix seconds, ``stamps`` sorted,
    ``last`` the latest repost time (the same snapshots, counted on ints)."""
    if last is None:
        return []
    start = source.created_at
    out: list[MetricSnapshot] = []
    for offset in SNAPSHOT_OFFSETS:
        at = start + offset
        if at > last:
            break
        count = bisect_right(stamps, _floor_ts(at))  # reposts at or before ``at``
        out.append(MetricSnapshot(post_id=source.id, observed_at=at, reposts=count))
    out.append(_last_snapshot(source, last, len(stamps)))
    return out


def _last_snapshot(source: Post, last: datetime, collected: int) -> MetricSnapshot:
    """The closing snapshot: at the latest repost (never before the source), with the
    counts the source reported (reposts at least the ``collected`` ones)."""
    return MetricSnapshot(
        post_id=source.id,
        observed_at=max(last, source.created_at),
        reposts=max(source.reposts, collected),
        comments=source.comments,
        likes=source.likes,
    )


def _snapshots(source: Post, repost_times: list[datetime]) -> list[MetricSnapshot]:
    if not repost_times:
        return []
    times = sorted(repost_times)
    start, last = source.created_at, times[-1]
    out: list[MetricSnapshot] = []
    idx = 0
    for offset in SNAPSHOT_OFFSETS:
        at = start + offset
        if at > last:
            break
        while idx < len(times) and times[idx] <= at:
            idx += 1
        out.append(MetricSnapshot(post_id=source.id, observed_at=at, reposts=idx))
    out.append(_last_snapshot(source, last, len(times)))
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
        fetched_at=parse_time(raw.get("time")),  # the thread's last post, once it is read
        reposts=max(int(raw.get("reposts") or 0), 0),
        comments=max(int(raw.get("comments") or 0), 0),
        likes=max(int(raw.get("likes") or 0), 0),
        extra={k: v for k, v in extra.items() if v is not None},
    )


_YEARLESS = re.compile(r"^(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})$")


def _repost_time(value: object, source_time: datetime) -> datetime:
    """Repost dates are "YYYY-MM-DD HH:MM:SS"; a few are "02月06日 17:45" with no year,
    which is the source post's year (or the next one, when that would precede the source)."""
    if type(value) is str and len(value) == 19 and value[10] == " ":
        # The common form, read as parse_time reads it, without its general checks.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None and MIN_YEAR <= parsed.year <= MAX_YEAR:
            return parsed.replace(tzinfo=SHANGHAI)
    if isinstance(value, str) and (m := _YEARLESS.match(value.strip())):
        month, day, hour, minute = map(int, m.groups())
        local = source_time.astimezone(SHANGHAI)
        guess = datetime(local.year, month, day, hour, minute, tzinfo=SHANGHAI)
        if guess < local - timedelta(days=1):
            guess = guess.replace(year=local.year + 1)
        return guess
    return parse_time(value)


class RawRepost(NamedTuple):
    """A repost that passed every check, before it becomes a :class:`Post`."""

    id: str
    native_id: str
    created_at: datetime
    parent_id: str
    text: str
    author_id: str | None
    created_ts: int  # created_at as whole Unix seconds, as stores index it
    #: created_at as the post's JSON document writes it, when known without asking the
    #: time zone (None: let orjson write ``created_at``).
    created_json: str | None = None


#: Since this year China keeps one offset, UTC+8, all year (no daylight-saving time since
#: September 1991): a plain date and time read there is that offset from UTC, and the
#: time zone need not be asked (``timestamp()`` and orjson's writing of an aware time ask
#: it for every post).
FIXED_OFFSET_SINCE = 1992
_UTC_OFFSET = 8 * 3600
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# Comparing or subtracting aware times of two different zones (the source post is read in
# UTC, reposts in Asia/Shanghai, the bounds in either) asks both zones for their offset:
# over a microsecond a comparison, against tens of nanoseconds for two ints, and a million
# reposts go through several. So reposts whose time is known as whole Unix seconds
# (``RawRepost.created_json`` is set) are compared as ints, with each datetime they meet
# turned once into the int bound that gives the same answer.
def _floor_ts(value: datetime) -> int:
    """The largest whole Unix second not after ``value``: for a whole second ``x``,
    ``x > value`` exactly when ``x > _floor_ts(value)``, and ``x <= value`` when
    ``x <= _floor_ts(value)``."""
    since = value - _EPOCH_UTC
    return since.days * 86400 + since.seconds


def _ceil_ts(value: datetime) -> int:
    """The smallest whole Unix second not before ``value``: for a whole second ``x``,
    ``x >= value`` exactly when ``x >= _ceil_ts(value)``, and ``x < value`` when
    ``x < _ceil_ts(value)``."""
    since = value - _EPOCH_UTC
    return since.days * 86400 + since.seconds + (1 if since.microseconds else 0)


#: Sort key of a RawRepost: its time as stores index it.
_CREATED_TS = itemgetter(6)


def _repost_items(
    source: Post, items: list, path: Path, report: ImportReport, bounds: DateBounds
) -> list[RawRepost]:
    out: list[RawRepost] = []
    append = out.append
    seen: set[str] = set()
    root = source.id
    source_time = source.created_at
    earliest = source_time - timedelta(minutes=1)
    lowest, highest = bounds.earliest, bounds.latest
    lowest_ts, highest_ts, earliest_ts = _ceil_ts(lowest), _floor_ts(highest), _ceil_ts(earliest)
    prefix = f"{SOURCE}:"
    where = str(path)
    report.read += len(items)  # every item is read, whatever becomes of it
    # A million reposts go through this loop: the common date form is read inline (as
    # _repost_time reads it) and each RawRepost is made without its Python __new__.
    fromisoformat = datetime.fromisoformat
    new = tuple.__new__
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            report.skip("not an object", f"{where}[{index}]")
            continue
        mid = item.get("mid")
        if not mid or not isinstance(mid, str):
            report.skip("missing id", f"{where}[{index}]")
            continue
        if mid in seen:
            report.skip("duplicate id", f"{where}[{index}]")
            continue
        value = item.get("date")
        created = created_json = None
        if type(value) is str and len(value) == 19 and value[10] == " ":
            try:
                parsed = fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None and MIN_YEAR <= parsed.year <= MAX_YEAR:
                created = parsed.replace(tzinfo=SHANGHAI)
                if parsed.year >= FIXED_OFFSET_SINCE and not parsed.microsecond:
                    # int(created.timestamp()) and orjson's "...+08:00", without the zone.
                    since = parsed - _EPOCH
                    created_ts = since.days * 86400 + since.seconds - _UTC_OFFSET
                    created_json = parsed.isoformat() + "+08:00"
        if created is None:
            try:
                created = _repost_time(value, source_time)
            except ValueError:
                report.skip("invalid date", f"{where}[{index}]")
                continue
        if created_json is not None:  # whole seconds: DateBounds.refuses on ints
            if not lowest_ts <= created_ts <= highest_ts:
                report.skip(bounds.reason("created_at"), f"{where}[{index}]")
                continue
            early = created_ts < earliest_ts
        else:
            created_ts = int(created.timestamp())
            if not lowest <= created <= highest:  # DateBounds.refuses, inlined
                report.skip(bounds.reason("created_at"), f"{where}[{index}]")
                continue
            early = created < earliest
        if early:
            report.warn("repost dated before its source (kept)", f"{where}[{index}]")
        seen.add(mid)
        parent = item.get("parent")
        text = item.get("text")
        uid = item.get("uid")
        append(
            new(
                RawRepost,
                (
                    prefix + mid,
                    mid,
                    created,
                    prefix + parent if parent and isinstance(parent, str) else root,
                    text if text and isinstance(text, str) else "",
                    str(uid) if uid else None,
                    created_ts,
                    created_json,
                ),
            )
        )
    return out


def _thread_fetched_at(source: Post, reposts: list[RawRepost]) -> datetime:
    """When the thread was collected: after its last post."""
    latest = source.created_at
    latest_ts = _floor_ts(latest)  # a whole second is later than latest iff later than this
    for r in reposts:
        if r.created_json is not None:
            if r.created_ts > latest_ts:
                latest, latest_ts = r.created_at, r.created_ts
        elif r.created_at > latest:
            latest = r.created_at
            latest_ts = _floor_ts(latest)
    return latest


def _repost_post(raw: RawRepost, root: str, fetched_at: datetime) -> Post:
    return Post(
        source=SOURCE,
        native_id=raw.native_id,
        kind="repost",
        author=Author(id=raw.author_id),
        text=raw.text,
        created_at=raw.created_at,
        fetched_at=fetched_at,
        parent_id=raw.parent_id,
        root_id=root,
    )


_DUMP = orjson.OPT_UTC_Z


def _index_tokens(text: str) -> str:
    """``nlp.tokenize.index_text(text)`` of one field, without its generator per post."""
    if not text or DEFAULT_REPOST_TEXT.match(text):
        return ""
    return " ".join(cut_for_index(text))


#: A repost as a worker sends it to the writer: RawRepost's checked fields and the index
#: tokens, without the document. (id, native_id, created_ts, created, parent_id, text,
#: author_id, tokens), where ``created`` is the JSON form of the time when known, else the
#: datetime. The writer builds the document (:func:`_repost_prepared`): the worker is the
#: import's bottleneck, the writer waits for it, and the pickled tuple is half the size.
CompactRepost = tuple[str, str, int, "str | datetime", str, str, "str | None", str]


def _compact(raw: RawRepost) -> CompactRepost:
    return (
        raw.id,
        raw.native_id,
        raw.created_ts,
        raw.created_at if raw.created_json is None else raw.created_json,
        raw.parent_id,
        raw.text,
        raw.author_id,
        _index_tokens(raw.text),
    )


def _repost_prepared(
    compact: CompactRepost, root: str, fetched: datetime | str, fetched_ts: int
) -> tuple:
    """The :class:`PreparedPost` fields of ``_repost_post(raw, ...)``, built without the model.

    Every field was checked in :func:`_repost_items`, so the post is valid by construction;
    the document is byte for byte what ``Post.model_dump_json(exclude_none=True)`` writes
    (tests/ingest/test_ced.py compares the two). A million reposts skip a million model
    validations this way. ``fetched`` may be given as its JSON form (the same for every
    post of a thread, so written once).
    """
    post_id, native_id, created_ts, created, parent_id, text, author_id, tokens = compact
    doc = {
        "id": post_id,
        "source": SOURCE,
        "native_id": native_id,
        "kind": "repost",
        "author": {"id": author_id, "verified": False}
        if author_id is not None
        else {"verified": False},
        "text": text,
        "created_at": created,
        "fetched_at": fetched,
        "reposts": 0,
        "comments": 0,
        "likes": 0,
        "parent_id": parent_id,
        "root_id": root,
        "region_tags": [],
        "extra": {},
    }
    # A plain tuple in PreparedPost's field order.
    return (
        post_id,
        SOURCE,
        "repost",
        created_ts,
        author_id,
        root,
        None,
        None,
        (),
        orjson.dumps(doc, option=_DUMP),
        tokens,
        fetched_ts,
    )


def event_files(root: str | Path, report: ImportReport) -> list[EventFiles]:
    """The events of a CED directory in file-name order, with their label and repost file.

    Repost files without a source post are counted as skipped here.
    """
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
    out = []
    for path in sorted(originals.glob("*.json")):
        label, repost_path = labels.pop(path.stem, (None, None))
        out.append(EventFiles(path.stem, path, label, repost_path))
    for _, path in sorted(labels.values()):
        report.skip("repost file without source post", str(path))
    return out


@dataclass(frozen=True)
class EventFiles:
    event_id: str
    original: Path
    label: str | None
    reposts: Path | None


def _load_raw(
    files: EventFiles, report: ImportReport, bounds: DateBounds | None
) -> tuple[Post, list[RawRepost]] | None:
    """The source post and the checked reposts of one event; ``None`` when unusable."""
    bounds = bounds or DateBounds.of()
    path = files.original
    report.read += 1
    raw = _read_json(path, report)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        report.skip("not an object", str(path))
        return None
    if files.label is None:
        report.warn("event without repost file (no label)", str(path))
    try:
        source = _source_post(files.event_id, raw, path, files.label)
    except ValidationError as exc:
        first = exc.errors()[0]
        report.skip(f"invalid {'.'.join(map(str, first['loc'])) or 'record'}", str(path))
        return None
    except ValueError:
        report.skip("invalid date", str(path))
        return None
    if bounds.refuses(source.created_at):
        report.skip(bounds.reason("created_at"), str(path))
        return None
    reposts: list[RawRepost] = []
    if files.reposts is not None:
        items = _read_json(files.reposts, report)
        if isinstance(items, list):
            reposts = _repost_items(source, items, files.reposts, report, bounds)
        elif items is not None:
            report.skip("not a list of reposts", str(files.reposts))
    source.fetched_at = _thread_fetched_at(source, reposts)
    return source, reposts


def load_event(
    files: EventFiles, report: ImportReport, bounds: DateBounds | None = None
) -> CedEvent | None:
    """Read one event; ``None`` (with the reason counted) when its source post is unusable."""
    loaded = _load_raw(files, report, bounds)
    if loaded is None:
        return None
    source, raw = loaded
    reposts = [_repost_post(r, source.id, source.fetched_at) for r in raw]
    return CedEvent(event_id=files.event_id, label=files.label, source=source, reposts=reposts)  # type: ignore[arg-type]


class PreparedEvent(NamedTuple):
    """One event ready for the store, as a worker process hands it back."""

    report: ImportReport
    source_id: str | None
    source_row: tuple | None  # the source post's PreparedPost tuple
    snapshots: list[MetricSnapshot]
    #: Whatever the thread scorer made of the event in memory (None without a scorer):
    #: ``prepare_event`` gives the model row, an import's worker replaces it by the score.
    scoring_row: object = None
    #: Why the worker could not score the thread (its model did not load), else None.
    unscored: str | None = None
    reposts: list[CompactRepost] = []  # noqa: RUF012 (never mutated)
    fetched_json: str = ""  # the thread's fetched_at, as its documents write it
    fetched_ts: int = 0

    def rows(self) -> list[tuple]:
        """Every post of the event as PreparedPost tuples, source first."""
        if self.source_row is None:
            return []
        root, fetched, fetched_ts = self.source_id, self.fetched_json, self.fetched_ts
        return [
            self.source_row,
            *[_repost_prepared(r, root, fetched, fetched_ts) for r in self.reposts],  # type: ignore[arg-type]
        ]


def prepare_event(
    files: EventFiles,
    bounds: DateBounds | None = None,
    thread_row: ThreadRow | None = None,
    gazetteer: dict[str, list[str]] | None = None,
) -> PreparedEvent:
    """Read one event and do every CPU-heavy step of importing it (and of scoring it, with
    ``thread_row``), without building a model object per repost. With ``gazetteer`` the
    source post is tagged with the districts it mentions."""
    report = ImportReport()
    loaded = _load_raw(files, report, bounds)
    if loaded is None:
        return PreparedEvent(report, None, None, [])
    source, raw = loaded
    tagger = tagger_for(gazetteer)
    if tagger is not None and not source.region_tags:
        source.region_tags = tagger.tag(source.title, source.text)
    root, fetched = source.id, source.fetched_at
    fetched_ts = int(fetched.timestamp())
    source_row = tuple(PreparedPost.of(source))
    fetched_json = orjson.dumps(fetched, option=_DUMP)[1:-1].decode()  # a JSON string
    reposts = [_compact(r) for r in raw]
    # The order a store returns the thread in (time, then insertion), so that scoring in
    # memory sees exactly what scoring the stored thread would.
    # (sorted() is stable: equal times keep their insertion order.)
    ordered = sorted(raw, key=_CREATED_TS)
    exact = all(r.created_json is not None for r in raw)  # every time in whole seconds
    if exact:
        stamps = [r.created_ts for r in ordered]
        snapshots = _snapshots_exact(source, stamps, ordered[-1].created_at if raw else None)
    else:
        snapshots = _snapshots(source, [r.created_at for r in raw])
    scoring_row = None
    if thread_row is not None:
        offsets = None
        if exact:
            # (created_at - source time).total_seconds(), exactly: microseconds over 10**6.
            origin = (source.created_at - _EPOCH_UTC) // _MICROSECOND
            offsets = [(t * 1_000_000 - origin) / 1_000_000 for t in stamps]
        scoring_row = thread_row(source, ordered, offsets=offsets)
    return PreparedEvent(
        report, root, source_row, snapshots, scoring_row, None, reposts, fetched_json, fetched_ts
    )


def iter_events(
    root: str | Path, report: ImportReport | None = None, bounds: DateBounds | None = None
) -> Iterator[CedEvent]:
    """Yield every readable event under ``root``; problems are counted in ``report``.

    Events are yielded in file-name order, so two runs over the same directory agree.
    """
    report = report if report is not None else ImportReport()
    seen_sources: set[str] = set()
    for files in event_files(root, report):
        event = load_event(files, report, bounds)
        if event is None:
            continue
        if event.source.id in seen_sources:
            report.skip("duplicate id", str(files.original))
            continue
        seen_sources.add(event.source.id)
        yield event
