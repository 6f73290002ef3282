"""Which post dates an import accepts: the ``ingest:`` settings and the check they make.

A date outside the bounds is a data error (a zero timestamp read as 1970, milliseconds
misread as seconds, a placeholder 9999-12-31), not a post: it is refused with a counted
reason, so that no stored post can break time ordering, facets or replay later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from models import SHANGHAI


class IngestConfig(BaseModel):
    """The ``ingest:`` section (documented in docs/configuration.md)."""

    model_config = ConfigDict(extra="forbid")

    #: Posts written before this day (Asia/Shanghai) are refused.
    earliest_date: date = date(2000, 1, 1)
    #: Posts dated more than this many days after the import started are refused.
    max_future_days: float = Field(default=1.0, ge=0)


@dataclass(frozen=True)
class DateBounds:
    """Accepted ``[earliest, latest]`` for ``created_at`` and ``fetched_at``."""

    earliest: datetime
    latest: datetime

    @classmethod
    def of(cls, cfg: IngestConfig | None = None, *, now: datetime | None = None) -> DateBounds:
        cfg = cfg or IngestConfig()
        now = now or datetime.now(UTC)
        return cls(
            earliest=datetime.combine(cfg.earliest_date, time(0), tzinfo=SHANGHAI),
            latest=now + timedelta(days=cfg.max_future_days),
        )

    def refuses(self, value: datetime) -> bool:
        return not self.earliest <= value <= self.latest

    def reason(self, field: str) -> str:
        return f"date out of range in {field}"
