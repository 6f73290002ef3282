"""Table columns for ids: an id is what a user copies into the next command
(``tingfeng alerts show ID``, ``tingfeng explain --post ID``), so it is never cut.

Rich shrinks a table that is wider than the terminal by wrapping the columns that may wrap
and, as a last resort, by cutting every column. An id column is fixed at the width of its
longest id and never wraps; the other columns of the same table must be allowed to wrap
(``overflow="fold"`` or ``"ellipsis"``, not ``no_wrap``) so the squeeze falls on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.table import Table


def add_id_column(table: Table, header: str, ids: Iterable[str], **kw: Any) -> None:
    """Add a column for ``ids`` (the values about to go into it) that is never cut."""
    width = max([cell_len(header), *(cell_len(str(i)) for i in ids)])
    table.add_column(header, no_wrap=True, min_width=width, width=width, **kw)
