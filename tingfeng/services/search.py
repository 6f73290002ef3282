"""Search: the query syntax users type, pages of hits with facets.

Syntax (documented in README.md):

* words: every word must occur (``白石镇 停水``);
* ``"a phrase"`` (or “中文引号”): the words must occur together, in that order;
* ``-word`` / ``-"a phrase"``: posts containing it are left out;
* ``OR`` is refused with a hint (every word is required; run two searches instead);
* anything else is safe: a lone quote or ``*(:`` are ordinary characters.

Plain queries go to the store's full-text search as they are. A query with phrases or
exclusions is searched for its required words, and the matches are then checked against
the phrases and exclusions on their normalised text (at most :data:`MAX_CANDIDATES`
matches are checked; :attr:`SearchPage.truncated` says when there were more).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from pydantic import BaseModel, Field

from models import SHANGHAI, Post
from nlp.tokenize import cut, normalise
from store import SearchHit, SearchQuery, Store
from store.base import Facets
from store.highlight import query_terms, snippet
from tingfeng.services.errors import ServiceError

MAX_CANDIDATES = 20_000
_PAGE = 1000
_QUOTES = {"“": '"', "”": '"', "＂": '"', "「": '"', "」": '"'}
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


class ParsedQuery(BaseModel):
    """A user's query split into what must and must not occur."""

    words: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list)

    @property
    def plain(self) -> bool:
        """Nothing beyond required words: the store answers it directly."""
        return not self.phrases and not self.excluded

    @property
    def required_text(self) -> str:
        """What the store searches for: the words and the phrases' words."""
        return " ".join([*self.words, *self.phrases])


def parse_query(text: str) -> ParsedQuery:
    """Split ``text`` into words, phrases and exclusions; ``OR`` raises ServiceError."""
    for fancy, plain in _QUOTES.items():
        text = text.replace(fancy, plain)
    if text.count('"') % 2:  # a lone quote is an ordinary character (any input is safe)
        cut_at = text.rindex('"')
        text = text[:cut_at] + " " + text[cut_at + 1 :]
    parsed = ParsedQuery()
    for minus, quoted, bare in _TOKEN.findall(text):
        if bare == "OR" or bare == "|":
            raise ServiceError(
                "查询不支持 OR：所有词都须出现。要找任一词，请分别搜索，例如 "
                "tingfeng search 停水 与 tingfeng search 停电"
            )
        if quoted:
            if not cut(quoted):
                continue
            (parsed.excluded if minus else parsed.phrases).append(quoted.strip())
        elif bare.startswith("-") and len(bare) > 1:
            parsed.excluded.append(bare[1:])
        elif bare:
            parsed.words.append(bare)
    if not parsed.words and not parsed.phrases and parsed.excluded:
        raise ServiceError("查询只有排除词（-词）：请至少给一个要查找的词")
    return parsed


class SearchRequest(BaseModel):
    """A search as a user asks it: query text plus the store's filters and paging."""

    text: str
    since: datetime | None = None
    until: datetime | None = None
    sources: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    sort: str = "relevance"
    limit: int = Field(default=20, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    facets: list[str] = Field(default_factory=lambda: ["day", "source", "region"])


class SearchPage(BaseModel):
    total: int
    offset: int
    hits: list[SearchHit]
    facets: Facets = Field(default_factory=dict)
    query: ParsedQuery
    #: The phrase/exclusion check stopped after MAX_CANDIDATES matches.
    truncated: bool = False

    @property
    def first(self) -> int:
        """1-based number of the first hit shown (0 when there is none)."""
        return self.offset + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.hits)


def _contains(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` once both are normalised, ignoring spaces
    (a phrase typed as "白石镇 停水" matches "白石镇停水")."""
    squeeze = re.compile(r"\s+")
    return squeeze.sub("", normalise(needle)) in squeeze.sub("", normalise(haystack))


def _keep(post: Post, parsed: ParsedQuery) -> bool:
    body = f"{post.title or ''}\n{post.text or ''}"
    if any(not _contains(body, p) for p in parsed.phrases):
        return False
    return not any(_contains(body, x) for x in parsed.excluded)


def _local_facets(posts: list[Post], wanted: list[str]) -> Facets:
    """The store's facets (same keys and order) over posts already in memory."""
    facets: Facets = {}
    if "day" in wanted:
        days = Counter(p.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d") for p in posts)
        facets["day"] = sorted(days.items())
    if "hour" in wanted:
        hours = Counter(p.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:00") for p in posts)
        facets["hour"] = sorted(hours.items())
    if "source" in wanted:
        facets["source"] = sorted(
            Counter(p.source for p in posts).items(), key=lambda kv: (-kv[1], kv[0])
        )
    if "region" in wanted:
        regions = Counter(r for p in posts for r in p.region_tags)
        facets["region"] = sorted(regions.items(), key=lambda kv: (-kv[1], kv[0]))
    return facets


def search_posts(store: Store, request: SearchRequest) -> SearchPage:
    """One page of hits for ``request``, with the total and the facets of all matches."""
    if request.sort not in ("relevance", "time", "time_asc"):
        raise ServiceError(f"--sort: 应为 relevance、time 或 time_asc，而不是 {request.sort!r}")
    parsed = parse_query(request.text)
    base = request.model_dump(exclude={"text", "limit", "offset", "facets"})
    if parsed.plain:
        result = store.search(
            SearchQuery(
                text=parsed.required_text,
                limit=request.limit,
                offset=request.offset,
                facets=request.facets,  # type: ignore[arg-type]
                **base,
            )
        )
        return SearchPage(
            total=result.total,
            offset=request.offset,
            hits=result.hits,
            facets=result.facets,
            query=parsed,
        )
    kept: list[SearchHit] = []
    seen = 0
    truncated = False
    while True:
        chunk = store.search(
            SearchQuery(text=parsed.required_text, limit=_PAGE, offset=seen, **base)
        )
        kept += [h for h in chunk.hits if _keep(h.post, parsed)]
        seen += len(chunk.hits)
        if len(chunk.hits) < _PAGE or seen >= chunk.total:
            break
        if seen >= MAX_CANDIDATES:
            truncated = True
            break
    page = kept[request.offset : request.offset + request.limit]
    terms = query_terms(" ".join([*parsed.words, *parsed.phrases]))
    for hit in page:  # the store highlighted its own terms; the same, phrases included
        hit.snippet = snippet(hit.post.text or hit.post.title or "", terms)
    return SearchPage(
        total=len(kept),
        offset=request.offset,
        hits=page,
        facets=_local_facets([h.post for h in kept], request.facets),
        query=parsed,
        truncated=truncated,
    )
