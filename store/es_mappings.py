"""Index names, templates and mappings of the Elasticsearch backend, versioned in code.

Layout (``<p>`` is ``store.index_prefix``):

- ``<p>-posts-YYYY.MM``: posts, one index per month of ``created_at`` (UTC), created on first
  write from the index template ``<p>-posts``, which also puts every such index behind the
  read alias ``<p>-posts``. A post's ``created_at`` decides its index, so the id→index
  mapping is stable and every write of one post goes to the same index.
- ``<p>-snapshots-v<N>``, ``<p>-records-<kind>-v<N>``, ``<p>-state-v<N>``: one concrete
  index each, reached through the alias without the ``-v<N>`` suffix, so a mapping change
  can be rolled out by reindexing into ``-v<N+1>`` and swapping the alias atomically.

Bump :data:`MAPPING_VERSION` whenever a mapping below changes. Every template and index
carries it in ``_meta.mapping_version`` (templates also in ``version``), and
``ElasticStore.ensure_schema`` refuses indices written by a newer Tingfeng.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

#: 2: incident records carry the typed ``listing`` fields (store.incident_fields).
#: 3: ``listing.tier``, the incident's current tier (响应级别 of its current alert).
#: 4: ``listing.post_count``, for the incident list's ``size`` order.
MAPPING_VERSION = 4

#: The pretokenised field: jieba tokens joined by spaces (``nlp.tokenize.index_text``), so a
#: whitespace analyzer is all the server needs (no analysis-ik / smartcn plugin).
TOKENS_ANALYZER = "tingfeng_tokens"

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
_LONG = {"type": "long"}
#: Original text, kept for display and snippets; searching goes through ``tokens`` only.
_STORED_TEXT = {"type": "text", "index": False}

_META = {"mapping_version": MAPPING_VERSION, "owner": "tingfeng"}

POSTS_MAPPING: dict[str, Any] = {
    # Fields a newer model adds are kept in _source but not indexed until the mapping says so.
    "dynamic": False,
    "_meta": _META,
    "properties": {
        "id": _KEYWORD,
        "source": _KEYWORD,
        "native_id": _KEYWORD,
        "kind": _KEYWORD,
        "url": {"type": "keyword", "index": False, "doc_values": False},
        "author": {
            "properties": {
                "id": _KEYWORD,
                "name": _KEYWORD,
                "verified": {"type": "boolean"},
                "verified_type": {"type": "integer"},
                "followers": _LONG,
                "friends": _LONG,
                "posts": _LONG,
                "created_at": _DATE,
                "location": _KEYWORD,
            }
        },
        "title": _STORED_TEXT,
        "text": _STORED_TEXT,
        "tokens": {"type": "text", "analyzer": TOKENS_ANALYZER, "norms": True},
        "created_at": _DATE,
        "fetched_at": _DATE,
        "reposts": _LONG,
        "comments": _LONG,
        "likes": _LONG,
        "parent_id": _KEYWORD,
        "root_id": _KEYWORD,
        "region_tags": _KEYWORD,
        "incident_id": _KEYWORD,
        "rumor_score": {"type": "float"},
        "near_duplicate_of": _KEYWORD,
        "extra": {"type": "object", "enabled": False},
    },
}

SNAPSHOTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": _META,
    "properties": {
        "post_id": _KEYWORD,
        "observed_at": _DATE,
        "reposts": _LONG,
        "comments": _LONG,
        "likes": _LONG,
    },
}

#: A record is stored whole under ``doc`` (not indexed: free-form history, bodies, dicts);
#: its top-level scalar fields are copied, normalised to strings, into ``fields`` so that
#: ``list_records(**equals)`` works for any field without mapping explosions or type clashes.
RECORDS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "_meta": _META,
    "properties": {
        "id": _KEYWORD,
        "version": _LONG,
        "created_at": _DATE,
        "updated_at": _DATE,
        # Whole seconds of updated_at: the sort key, as in SQLite (ties broken by id).
        "updated_s": _LONG,
        "fields": {"type": "flattened", "ignore_above": 1024},
        "doc": {"type": "object", "enabled": False},
        # Incident records only: what the incident list filters and sorts on, typed
        # (store.incident_fields; the SQLite backend keeps the same in its incidents table).
        "listing": {
            "properties": {
                "hot": {"type": "boolean"},
                "district": _KEYWORD,
                "category": _KEYWORD,
                "rumor_score": {"type": "double"},
                "heat": {"type": "double"},
                "post_count": _LONG,
                "first_seen_us": _LONG,
                "last_seen_us": _LONG,
                # Lower-cased title and keywords for substring (wildcard) filters; 8,000
                # characters stay under Lucene's 32 KB term limit in UTF-8.
                "title_lc": {"type": "keyword", "ignore_above": 8000},
                "keywords_lc": {"type": "keyword", "ignore_above": 8000},
                # The current alert's tier (I…IV), absent if never alerted: written when an
                # alert is saved, carried over when the incident is (store/es_records.py).
                "tier": _KEYWORD,
            }
        },
    },
}

STATE_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "_meta": _META,
    "properties": {"key": _KEYWORD, "updated_at": _DATE},
}


def index_settings(*, shards: int = 1, replicas: int | None = None) -> dict[str, Any]:
    """Settings shared by every Tingfeng index.

    Without an explicit ``replicas`` the indices auto-expand to 0-1 replicas: green on the
    single node of docker-compose, and a copy on a second node as soon as one joins.
    """
    settings: dict[str, Any] = {"number_of_shards": shards}
    if replicas is None:
        settings["auto_expand_replicas"] = "0-1"
    else:
        settings["number_of_replicas"] = replicas
    settings["analysis"] = {
        "analyzer": {TOKENS_ANALYZER: {"type": "custom", "tokenizer": "whitespace"}}
    }
    return settings


class IndexNames:
    """Every index, alias and template name derived from one prefix."""

    def __init__(self, prefix: str) -> None:
        if not prefix or prefix != prefix.lower() or any(c in prefix for c in ' "*\\<|,>/?#:'):
            raise ValueError(f"store.index_prefix: {prefix!r} is not a valid index name prefix")
        self.prefix = prefix
        self.posts_alias = f"{prefix}-posts"
        self.posts_pattern = f"{prefix}-posts-*"
        self.posts_template = f"{prefix}-posts"
        self.snapshots = f"{prefix}-snapshots"
        self.state = f"{prefix}-state"

    def posts_index(self, created_at: datetime) -> str:
        """The monthly index a post lives in: month of ``created_at`` in UTC."""
        return f"{self.prefix}-posts-{created_at.astimezone(UTC):%Y.%m}"

    def records(self, kind: str) -> str:
        return f"{self.prefix}-records-{kind}"

    @staticmethod
    def versioned(alias: str, version: int = MAPPING_VERSION) -> str:
        return f"{alias}-v{version}"

    def all_patterns(self) -> list[str]:
        """Patterns covering every index this prefix owns (for clean-up in tests)."""
        return [
            self.posts_pattern,
            f"{self.snapshots}-v*",
            f"{self.prefix}-records-*",
            f"{self.state}-v*",
        ]


def posts_template(
    names: IndexNames, *, shards: int = 1, replicas: int | None = None
) -> dict[str, Any]:
    """Body for ``indices.put_index_template`` of the monthly post indices."""
    return {
        "index_patterns": [names.posts_pattern],
        # Above the built-in templates (priority 100 for logs-*-* and friends).
        "priority": 200,
        "version": MAPPING_VERSION,
        "_meta": _META,
        "template": {
            "settings": index_settings(shards=shards, replicas=replicas),
            "mappings": POSTS_MAPPING,
            "aliases": {names.posts_alias: {}},
        },
    }


def fixed_index_body(mapping: dict[str, Any], *, replicas: int | None = None) -> dict[str, Any]:
    """Body for ``indices.create`` of a single versioned index (snapshots, records, state)."""
    return {"settings": index_settings(replicas=replicas), "mappings": mapping}
