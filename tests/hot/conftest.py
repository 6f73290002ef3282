"""Shared helpers of the hot-topic tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from models import Author, Post

FIXTURE = Path(__file__).resolve().parents[1] / "files" / "incidents_fixture.jsonl"


@pytest.fixture(scope="session")
def fixture_rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text("utf-8").splitlines() if line]


def fixture_posts(rows: list[dict]) -> list[Post]:
    return [
        Post(
            source="fixture",
            native_id=r["native_id"],
            author=Author(id=r["author"]),
            text=r["text"],
            created_at=r["created_at"],
            region_tags=r["region_tags"],
        )
        for r in rows
    ]


def repost(root: Post, n: int, at: datetime, author: str | None = None, **kw) -> Post:
    return Post(
        source=root.source,
        native_id=f"{root.native_id}-r{n}",
        kind="repost",
        author=Author(id=author or f"ru{n}", **kw),
        text="转发微博",
        created_at=at,
        parent_id=root.id,
        root_id=root.id,
    )


def minutes(base: datetime, m: float) -> datetime:
    return base + timedelta(minutes=m)
