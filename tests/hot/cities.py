"""Labelled evenings of fictional cities, for clustering checks (tests and
``bench/eval_clustering.py``).

Each loader returns the posts as a crawl would store them (ids, threads, region tags from
the city's gazetteer) and the gold story of every post; :func:`run_evening` runs the real
detection pass (:func:`nlp.detect.run_detect`, what ``tingfeng detect`` runs) over them in
a fresh SQLite store, one pass every few minutes with the reference clock, and returns the
incident of every post.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from models import Author, Post
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from text.gazetteer import RegionTagger

FILES = Path(__file__).resolve().parents[1] / "files"
WANGHU = FILES / "wanghu" / "evening.json"


def tag_regions(posts: list[Post], gazetteer: dict[str, list[str]]) -> list[Post]:
    """Region tags as the crawler's pipeline sets them: from the post's own words, else its
    thread's (a reply inherits its root's)."""
    tagger = RegionTagger(gazetteer)
    by_id: dict[str, list[str]] = {}
    out = []
    for post in sorted(posts, key=lambda p: p.created_at):
        tags = tagger.tag(post.title, post.text)
        if not tags:
            tags = by_id.get(post.parent_id or "", []) or by_id.get(post.root_id or "", [])
        by_id[post.id] = tags
        out.append(post.model_copy(update={"region_tags": tags}))
    return out


def wanghu() -> tuple[list[Post], dict[str, str]]:
    """澜州市's evening (tests/files/wanghu/): posts and their gold stories."""
    data = json.loads(WANGHU.read_text("utf-8"))
    posts, gold = [], {}
    for row in data["posts"]:
        source = row["source"]
        created = datetime.fromisoformat(row["created_at"])
        post = Post(
            source=source,
            native_id=row["native_id"],
            kind=row["kind"],
            author=Author(id=f"{source}:{row['author']}", name=row["author"]),
            title=row["title"],
            text=row["text"],
            created_at=created,
            fetched_at=created + timedelta(minutes=3),
            root_id=f"{source}:{row['root']}" if row["root"] else None,
            parent_id=f"{source}:{row['parent']}" if row["parent"] else None,
        )
        posts.append(post)
        gold[post.id] = row["story"]
    return tag_regions(posts, data["gazetteer"]), gold


def run_evening(
    posts: list[Post],
    db: Path,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=5),
    config: HotConfigSection | None = None,
) -> dict[str, str | None]:
    """Detection passes from ``start`` to ``end`` every ``step`` over ``posts`` stored in a
    fresh SQLite store at ``db``; the incident id of every post afterwards."""
    config = config or HotConfigSection(score_rumors=False)
    with SQLiteStore(db) as store:
        store.upsert_posts(posts)
        at = start
        while at <= end:
            run_detect(store, config, now=at)
            at += step
        return {p.id: p.incident_id for p in store.get_posts([q.id for q in posts])}


def stories(
    incidents: dict[str, str | None], gold: dict[str, str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(gold story → incidents its posts went to, incident → gold stories of its posts)."""
    by_story: dict[str, set[str]] = {}
    by_incident: dict[str, set[str]] = {}
    for post_id, story in gold.items():
        inc = incidents.get(post_id) or f"unassigned:{post_id}"
        by_story.setdefault(story, set()).add(inc)
        by_incident.setdefault(inc, set()).add(story)
    return by_story, by_incident
