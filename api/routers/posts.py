"""Posts: search with filters, facets and highlighting; streamed export; raw posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ClientIp, CurrentUser, RawReader, SettingsDep, StoreDep
from api.errors import ApiError
from api.services.auth import audit
from api.services.posts import (
    ExportParams,
    PostPublic,
    PostSearchParams,
    PostsPublic,
    export_posts,
    kept_search_json,
    search_posts_json,
)
from models import Post

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])


@router.get("", response_model=PostsPublic)
async def search(
    params: Annotated[PostSearchParams, Query()],
    user: CurrentUser,
    store: StoreDep,
    request: Request,
) -> Response:
    """Full-text search (jieba words), filters, facets; ``snippet`` marks matches with
    ``<mark>``. Phone and ID-card numbers are masked."""
    # A kept answer is sent from the event loop; only store work goes to a worker thread.
    cache = request.app.state.search_cache
    body = kept_search_json(store, params, cache)
    if body is None:
        body = await run_in_threadpool(search_posts_json, store, params, cache)
    return Response(body, media_type="application/json")


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export(
    params: Annotated[ExportParams, Query()],
    user: CurrentUser,
    store: StoreDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Every matching post (masked), oldest first, streamed; at most ``api.export_max_rows``."""
    fmt = params.format
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        export_posts(store, params, fmt, settings.export_max_rows),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="posts.{fmt}"'},
    )


@router.get("/{post_id}", response_model=PostPublic)
def get_post(post_id: str, user: CurrentUser, store: StoreDep) -> PostPublic:
    post = store.get_post(post_id)
    if post is None:
        raise ApiError(404, "post_id", f"没有帖子 {post_id} (no such post)")
    return PostPublic.of(post)


@router.get("/{post_id}/raw", response_model=Post)
def get_raw_post(post_id: str, user: RawReader, store: StoreDep, ip: ClientIp) -> Post:
    """The post as stored, unmasked (analysts and admins); each read is audited."""
    post = store.get_post(post_id)
    if post is None:
        raise ApiError(404, "post_id", f"没有帖子 {post_id} (no such post)")
    audit(store, user.name, "post.read_raw", ip=ip, after={"post_id": post_id})
    return post
