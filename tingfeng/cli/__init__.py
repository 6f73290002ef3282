"""The ``tingfeng`` command. Each subsystem registers its commands in its own module."""

from __future__ import annotations

from tingfeng.cli.app import app, main

# Command modules register themselves on import (one per subsystem).
from tingfeng.cli import data as _data  # noqa: F401  isort: skip
from tingfeng.cli import rumor as _rumor  # noqa: F401  isort: skip
from tingfeng.cli import crawl as _crawl  # noqa: F401  isort: skip
from tingfeng.cli import hot as _hot  # noqa: F401  isort: skip
from tingfeng.cli import alerts as _alerts  # noqa: F401  isort: skip
from tingfeng.cli import worker as _worker  # noqa: F401  isort: skip
from tingfeng.cli import bulletin as _bulletin  # noqa: F401  isort: skip
from tingfeng.cli import ops as _ops  # noqa: F401  isort: skip
from tingfeng.cli import serve as _serve  # noqa: F401  isort: skip
from tingfeng.cli import demo as _demo  # noqa: F401  isort: skip

__all__ = ["app", "main"]
