"""Data commands: import, search, stats, export."""

from __future__ import annotations
