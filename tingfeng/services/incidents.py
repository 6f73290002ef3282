"""Incidents as stored by the detector, for listing."""

from __future__ import annotations

from pydantic import BaseModel

from models import Incident
from store import Store


class IncidentList(BaseModel):
    """Incidents by heat (highest first); ``total`` counts every stored incident."""

    total: int
    data: list[Incident]

    @property
    def count(self) -> int:
        return len(self.data)


def list_incidents(store: Store, *, hot_only: bool = False, limit: int = 50) -> IncidentList:
    total = store.count_records(Incident)
    records = store.list_records(Incident, limit=max(total, 1))
    if hot_only:
        records = [r for r in records if r.hot]
    records.sort(key=lambda r: (-r.heat, r.id))
    return IncidentList(total=total, data=records[:limit])
