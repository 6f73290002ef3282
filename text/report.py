"""What an import did: counts, and skipped records by reason with their first locations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLES = 5


@dataclass
class ImportReport:
    """Counts of one import. ``skipped`` maps a reason to a count; ``examples`` keeps the first
    few places (``file:line``) where each reason occurred."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    snapshots: int = 0
    #: Source posts whose rumor score was written (by the import's scoring step).
    scored: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, where: str) -> None:
        self.skipped[reason] += 1
        self._example(reason, where)

    def warn(self, reason: str, where: str) -> None:
        self.warnings[reason] += 1
        self._example(reason, where)

    def _example(self, reason: str, where: str) -> None:
        places = self.examples.setdefault(reason, [])
        if len(places) < MAX_EXAMPLES:
            places.append(where)

    def merge(self, other: ImportReport) -> None:
        """Add the counts of a partial report (from a worker) to this one."""
        self.read += other.read
        self.skipped.update(other.skipped)
        self.warnings.update(other.warnings)
        for reason, places in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(places[: MAX_EXAMPLES - len(mine)])

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "imported": self.imported,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "snapshots": self.snapshots,
            "scored": self.scored,
            "skipped": dict(self.skipped),
            "warnings": dict(self.warnings),
            "examples": self.examples,
        }
