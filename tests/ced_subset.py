"""A CED-layout directory of symbolic links to some small real events, read in place (the
dataset is never copied), for tests that replay real reposts spanning days."""

from __future__ import annotations

import os
from pathlib import Path

#: The CED copy beside the repository (``../shared/datasets/ced``); tests skip without it.
CED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "ced"


def ced_subset(
    root: Path, n: int, *, every: int = 1, min_bytes: int = 1_000, max_bytes: int = 15_000
) -> Path:
    """Link ``n`` events into ``root``: every ``every``-th source post, in file order, whose
    repost file has between ``min_bytes`` and ``max_bytes`` (small, but spanning days, so
    incidents leave the live detector and late reposts must rejoin the stored record)."""
    for sub in ("original-microblog", "rumor-repost", "non-rumor-repost"):
        (root / sub).mkdir(parents=True)
    picked = 0
    for path in sorted((CED / "original-microblog").glob("*.json"))[::every]:
        for sub in ("rumor-repost", "non-rumor-repost"):
            reposts = CED / sub / path.name
            if reposts.exists() and min_bytes < reposts.stat().st_size < max_bytes:
                os.symlink(path, root / "original-microblog" / path.name)
                os.symlink(reposts, root / sub / path.name)
                picked += 1
        if picked >= n:
            break
    return root
