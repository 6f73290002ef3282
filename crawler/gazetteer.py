"""Region tagging lives in :mod:`text.gazetteer` (imports tag posts too); re-exported here
for the crawler's pipelines."""

from __future__ import annotations

from text.gazetteer import RegionTagger

__all__ = ["RegionTagger"]
