"""One process per store for a given job: an exclusive, non-blocking ``flock``.

The lock file holds the owner's pid, so whoever is refused can name the process that
holds it. The operating system releases the lock when its process dies (even by
``kill -9``), so a crashed owner never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any


class LockHeld(Exception):
    """Another process holds the lock; ``pid`` is what it wrote ("?" if nothing)."""

    def __init__(self, path: Path, pid: str) -> None:
        self.path, self.pid = path, pid
        super().__init__(f"{path}: held by pid {pid}")


class PidLock:
    """Context manager: take the lock on ``path`` or raise :class:`LockHeld`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None

    def __enter__(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # held until __exit__
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            pid = fh.read().strip() or "?"
            fh.close()
            raise LockHeld(self.path, pid) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
