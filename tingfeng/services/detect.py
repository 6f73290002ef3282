"""Detection service: one pass, a replay, the incident list and an incident's history.

The CLI (``tingfeng detect|replay|incidents``) and the API are thin shells over these
functions; they return pydantic result models and never print. Bad input raises
:class:`DetectInputError` naming the option that was wrong.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from models import Incident, ensure_aware
from models.records import IncidentHistory
from nlp.hot_config import HotConfigSection
from store.base import IncidentQuery

if TYPE_CHECKING:
    from store import Store
    from tingfeng.config import Config


class DetectInputError(ValueError):
    """A bad option value; the message starts with the option's name."""


class DetectResult(BaseModel):
    """What one detection pass did (``tingfeng detect``)."""

    at: datetime
    read: int = 0
    late: int = 0
    assigned: int = 0
    new_incidents: int = 0
    rumor_scored: int = 0
    evaluated: int = 0
    saved: int = 0
    hot: int = 0
    #: official posts newly linked as responses to the incidents they answer
    responses: list[str] = Field(default_factory=list)
    #: incidents that became hot in this pass (to notify)
    notify: list[str] = Field(default_factory=list)
    #: the hot incidents after the pass, hottest first
    hot_incidents: list[Incident] = Field(default_factory=list)
    seconds: dict[str, float] = Field(default_factory=dict)


class ReplayResult(BaseModel):
    """What a replay did (``tingfeng replay``)."""

    posts: int = 0
    snapshots: int = 0
    ticks: int = 0
    incidents: int = 0
    new_incidents: int = 0
    hot_onsets: int = 0
    saved_incident_versions: int = 0
    rumor_scored: int = 0
    first: datetime | None = None
    last: datetime | None = None
    at: datetime | None = None
    skipped: dict[str, int] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(default_factory=dict)
    posts_per_second: float = 0.0


class IncidentList(BaseModel):
    """A page of incidents by heat (``tingfeng incidents``)."""

    count: int
    total: int
    data: list[Incident]


def parse_at(value: str | datetime | None, option: str = "--at") -> datetime | None:
    """An explicit "now" from ISO 8601 text (no zone = Beijing time)."""
    if value is None or isinstance(value, datetime):
        return ensure_aware(value) if value is not None else None
    try:
        return ensure_aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise DetectInputError(
            f"{option}: 不是 ISO 8601 时间：{value!r}（例如 2026-05-10T21:30:00+08:00）"
        ) from None


def check_section(section: HotConfigSection) -> None:
    """Files named by the ``hot:`` section exist."""
    for key in ("categories", "virality_model"):
        path = getattr(section, key)
        if path is not None and not Path(path).is_file():
            raise DetectInputError(f"hot.{key}: 文件不存在：{path}")


def check_detect_options(at: datetime | str | None, rescan_hours: float | None) -> datetime | None:
    """The pass's clock, or :class:`DetectInputError` naming the bad option."""
    when = parse_at(at)
    if rescan_hours is not None and not 0 <= rescan_hours <= 24 * 365:
        raise DetectInputError(f"--rescan-hours: 应在 0 到 8760 小时之间，而不是 {rescan_hours:g}")
    return when


def _rumor_model(config: Config) -> str | None:
    path = config.nlp.rumor_model
    return str(path) if path else None


def detect(
    config: Config,
    store: Store,
    *,
    at: datetime | str | None = None,
    rescan_hours: float | None = None,
) -> DetectResult:
    """One detection pass at ``at`` (default now), then the response tracker at the same
    time (:func:`tingfeng.services.bulletins.track_responses`), as the worker's detection job runs
    them: passes stepped with ``--at`` link the office's 情况通报 when the live system would
    have, so the alerting pass after them sees the answer. See
    :func:`nlp.detect.run_detect`."""
    from datetime import timedelta

    from nlp.detect import run_detect
    from tingfeng.services.bulletins import track_responses

    when = check_detect_options(at, rescan_hours)
    check_section(config.hot)
    rescan = None if rescan_hours is None else timedelta(hours=rescan_hours)
    report = run_detect(
        store,
        config.hot,
        now=when,
        rescan=rescan,
        rumor_model=_rumor_model(config),
        office=config.office,
    )
    linked = track_responses(store, config, now=report.at)
    hot = list_incidents(store, hot_only=True, limit=10_000).data
    return DetectResult(
        responses=[r.id for r in linked],
        at=report.at,
        read=report.read,
        late=report.late,
        assigned=report.assigned,
        new_incidents=report.new_incidents,
        rumor_scored=report.rumor_scored,
        evaluated=report.evaluated,
        saved=report.saved,
        hot=report.hot,
        notify=report.notify,
        hot_incidents=hot,
        seconds=report.seconds,
    )


def replay(
    config: Config,
    store: Store,
    path: str | Path,
    *,
    at: datetime | str | None = None,
    speed: float | None = None,
    save_every: int = 60,
) -> ReplayResult:
    """Stream a CED directory or JSONL file(s) through the live pipeline into ``store``,
    up to ``at`` when given (the reference clock)."""
    from nlp.detect import load_detector
    from nlp.replay import load_stream
    from nlp.replay import replay as run_replay
    from text.report import ImportReport

    when = parse_at(at)
    if speed is not None and not speed > 0:
        raise DetectInputError(f"--speed: 应大于 0，而不是 {speed:g}")
    if save_every < 1:
        raise DetectInputError(f"--save-every: 至少为 1，而不是 {save_every}")
    source = Path(path)
    if not source.exists():
        raise DetectInputError(f"{source}: 文件或目录不存在")
    check_section(config.hot)
    detector = load_detector(store, config.hot, _rumor_model(config))
    load = ImportReport()
    items = load_stream(source, load)
    until = when.timestamp() if when is not None else None
    result = run_replay(items, detector, store, until=until, speed=speed, save_every=save_every)
    data = result.as_dict()
    return ReplayResult(
        posts=result.posts,
        snapshots=result.snapshots,
        ticks=result.ticks,
        incidents=result.incidents,
        new_incidents=result.new_incidents,
        hot_onsets=result.hot_onsets,
        saved_incident_versions=result.saved,
        rumor_scored=result.rumor_scored,
        first=result.first,
        last=result.last,
        at=when,
        skipped=dict(load.skipped),
        seconds=result.seconds,
        posts_per_second=data["posts_per_second"],
    )


def list_incidents(store: Store, *, hot_only: bool = False, limit: int = 50) -> IncidentList:
    """Incidents by heat (hottest first), optionally only the hot ones: the store's indexed
    listing, a page of at most 1,000 at a time (no other incident is read)."""
    if not 1 <= limit <= 10_000:
        raise DetectInputError(f"--limit: 应在 1 到 10000 之间，而不是 {limit}")
    page: list[Incident] = []
    while len(page) < limit:
        step = store.list_incidents(
            IncidentQuery(
                hot=True if hot_only else None,
                offset=len(page),
                limit=min(1000, limit - len(page)),
            )
        )
        page += step.incidents
        if not step.incidents or len(page) >= step.total:
            break
    return IncidentList(count=len(page), total=store.count_records(Incident), data=page)


def incident_history(store: Store, incident_id: str) -> IncidentHistory | None:
    """Every recorded change of one incident (hot state, bands, membership), oldest first."""
    return store.get_record(IncidentHistory, incident_id)
