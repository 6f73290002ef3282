"""Explanations of stored data: why a stored post got its rumor score, and what an
incident's rumor score rests on (``tingfeng explain --post`` / ``--incident``).

A post is explained as ``tingfeng explain --text`` explains a text, but with what the store
knows: its author's profile (followers, verified, account age...) and the reposts and
comments stored under it. An incident is :func:`nlp.rumor.incident.score_incident` over
its stored source posts: the claim posts, the official responses, the figure and why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from models import Incident, Post
from store import Store
from store.base import PostFilter
from tingfeng.services.errors import ServiceError

#: Characters of a post's text shown next to its explanation.
TEXT_PREVIEW = 120


class UnknownRecordError(ServiceError):
    """A post or incident id that is not in the store."""


def _preview(post: Post) -> str:
    text = " ".join((post.title or "", post.text or "")).strip()
    return text if len(text) <= TEXT_PREVIEW else text[: TEXT_PREVIEW - 1] + "…"


def _children(store: Store, roots: list[Post]) -> dict[str, list[Post]]:
    """Reposts and comments stored under each of ``roots``."""
    wanted = {p.id for p in roots}
    out: dict[str, list[Post]] = {i: [] for i in wanted}
    if not wanted:
        return out
    for post in store.iter_posts(PostFilter(root_ids=sorted(wanted))):
        if post.root_id in wanted and post.id != post.root_id:
            out[post.root_id].append(post)
    return out


def post_summary(post: Post) -> dict[str, Any]:
    """What the explanation rests on besides the text: the author as stored."""
    author = post.author.model_dump(mode="json", exclude_none=True)
    return {
        "id": post.id,
        "source": post.source,
        "kind": post.kind,
        "created_at": post.created_at.isoformat() if post.created_at else None,
        "author": author,
        "text": _preview(post),
        "stored_rumor_score": post.rumor_score,
    }


def explain_post(
    store: Store,
    load_model: Callable[[], Any],
    post_id: str,
    *,
    horizon: timedelta | None = None,
) -> dict[str, Any]:
    """The rumor explanation of a stored post (its thread's source post when it is a
    repost or comment: the source speaks for its thread). ``load_model`` is called only
    once the post is found (loading takes seconds)."""
    from nlp.rumor.explain import explain
    from nlp.rumor.features import RumorInput

    post = store.get_post(post_id)
    if post is None:
        raise UnknownRecordError(f"--post：没有编号为 {post_id!r} 的帖子（编号形如 来源:原始编号）")
    out: dict[str, Any] = {"post": post_summary(post)}
    source = post
    if post.root_id not in (None, post.id):
        root = store.get_post(post.root_id)  # type: ignore[arg-type]
        if root is not None:
            source = root
            out["thread_source"] = post_summary(root)
    reposts = _children(store, [source])[source.id]
    result = explain(load_model(), RumorInput.from_posts(source, reposts), horizon=horizon)
    out.update(result)
    out["reposts_used"] = len(reposts)
    return out


def explain_incident(
    store: Store,
    office: Any | None,
    incident_id: str,
    *,
    load_model: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """``score_incident`` over an incident's stored source posts, with the claim posts and
    official responses listed (id, author, text, score). Source posts stored without a
    score are scored with ``load_model()`` and their stored reposts, if it is given."""
    from nlp.rumor.incident import score_incident

    incident = store.get_record(Incident, incident_id)
    if incident is None:
        raise UnknownRecordError(
            f"--incident：没有编号为 {incident_id!r} 的事件（见 tingfeng incidents）"
        )
    roots = store.get_posts(incident.root_ids)
    unscored = [p for p in roots if p.rumor_score is None]
    model = load_model() if load_model is not None and unscored else None
    children = _children(store, unscored) if model is not None else {}
    posts = roots + [c for kids in children.values() for c in kids]
    rumor = score_incident(posts, office, model=model)
    by_id = {p.id: p for p in roots}

    def listed(ids: list[str]) -> list[dict[str, Any]]:
        return [post_summary(by_id[i]) for i in ids if i in by_id]

    return {
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "district": incident.district,
            "first_seen": incident.first_seen.isoformat() if incident.first_seen else None,
            "last_seen": incident.last_seen.isoformat() if incident.last_seen else None,
            "source_posts": len(incident.root_ids),
            "stored_source_posts": len(roots),
            "stored_rumor_score": incident.rumor_score,
        },
        **rumor.as_dict(),
        "claim_posts": listed(rumor.claim_post_ids),
        "official_posts": listed(rumor.official_post_ids),
    }
