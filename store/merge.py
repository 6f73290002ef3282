"""How a re-seen post merges into the stored copy; shared by every backend."""

from __future__ import annotations

from typing import Any

from models import Post

_COUNTS = ("reposts", "comments", "likes")
#: Fields the store derives later; a fresh crawl (which leaves them empty) must not wipe them.
_DERIVED = ("incident_id", "rumor_score", "near_duplicate_of")


def merge_post(old: Post, new: Post) -> Post | None:
    """Return the merged post, or ``None`` when ``new`` changes nothing.

    Counts come from whichever copy was fetched later; any field the other copy has and
    this one lacks is kept (nothing already stored is lost); region tags are united. The
    date is the one that was read over an estimate (``extra.created_at_estimated``: the
    fetch time stood in for a date that could not be read), and of two estimates the
    earliest: a post re-read later never moves later.
    """
    newer, older = (new, old) if new.fetched_at >= old.fetched_at else (old, new)
    data = older.model_dump()
    for key, value in newer.model_dump().items():
        if value in (None, "", [], {}):
            continue
        data[key] = value
    for key in _DERIVED:
        if data.get(key) is None:
            data[key] = getattr(old, key)
    data["author"] = {
        **older.author.model_dump(exclude_none=True),
        **newer.author.model_dump(exclude_none=True),
    }
    data["region_tags"] = sorted(set(old.region_tags) | set(new.region_tags))
    data["extra"] = {**older.extra, **newer.extra}
    for key in _COUNTS:
        data[key] = getattr(newer, key)
    data["fetched_at"] = max(old.fetched_at, new.fetched_at)
    _keep_best_date(data, old, new)
    merged = Post.model_validate(data)
    return None if merged == old else merged


_ESTIMATE_KEYS = ("created_at_estimated", "raw_created_at")


def _keep_best_date(data: dict[str, Any], old: Post, new: Post) -> None:
    old_est = bool(old.extra.get("created_at_estimated"))
    new_est = bool(new.extra.get("created_at_estimated"))
    if old_est and new_est:
        best = old if old.created_at <= new.created_at else new
    elif old_est or new_est:
        best = new if old_est else old
    else:
        return
    data["created_at"] = best.created_at
    for key in _ESTIMATE_KEYS:
        data["extra"].pop(key, None)
        if key in best.extra:
            data["extra"][key] = best.extra[key]
