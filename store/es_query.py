"""Pure builders of Elasticsearch query bodies: filters, full text, sorting and facets.

Nothing here talks to a server, so the exact bodies are unit-tested. User text never
reaches a query parser: it is cut into jieba tokens (the same :func:`nlp.tokenize.cut` the
SQLite backend uses) and sent as a ``match`` query on the pretokenised field with
``operator: and``, where no character has a special meaning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from nlp.tokenize import cut
from store.base import Facets, IncidentQuery, PostFilter, SearchQuery
from store.incident_fields import NO_TIER, fold, micros

#: Local days and hours of the facets (the offices' time zone).
FACET_TIME_ZONE = "Asia/Shanghai"
#: Terms facets return at most this many buckets (sources and regions of one office).
FACET_SIZE = 1000
#: Elasticsearch's default ``index.max_result_window``: from + size may not exceed it.
MAX_RESULT_WINDOW = 10_000


def es_time(value: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC (what ``date`` fields and ranges accept)."""
    return value.astimezone(UTC).isoformat()


def text_tokens(text: str) -> list[str]:
    """Query tokens of user text, de-duplicated in order."""
    return list(dict.fromkeys(cut(text)))


def filter_clauses(flt: PostFilter) -> list[dict[str, Any]]:
    """``bool.filter`` clauses for a :class:`PostFilter` (same meaning as SQLite's WHERE).

    ``since`` is inclusive and ``until`` exclusive; list filters match any of their values.
    """
    clauses: list[dict[str, Any]] = []
    created: dict[str, str] = {}
    if flt.since is not None:
        created["gte"] = es_time(flt.since)
    if flt.until is not None:
        created["lt"] = es_time(flt.until)
    if created:
        clauses.append({"range": {"created_at": created}})
    if flt.fetched_since is not None:
        clauses.append({"range": {"fetched_at": {"gte": es_time(flt.fetched_since)}}})
    for field, values in (
        ("source", flt.sources),
        ("region_tags", flt.regions),
        ("author.id", flt.authors),
        ("incident_id", flt.incident_ids),
        ("kind", flt.kinds),
        ("root_id", flt.root_ids),
    ):
        if values:
            clauses.append({"terms": {field: list(values)}})
    score: dict[str, float] = {}
    if flt.min_rumor_score is not None:
        score["gte"] = flt.min_rumor_score
    if flt.max_rumor_score is not None:
        score["lte"] = flt.max_rumor_score
    if score:
        clauses.append({"range": {"rumor_score": score}})
    return clauses


def post_query(flt: PostFilter, text: str = "") -> dict[str, Any] | None:
    """The query for a filter plus optional user text; ``None`` when nothing can match
    (text was given but holds no searchable token, e.g. only punctuation)."""
    must: list[dict[str, Any]] = []
    if text.strip():
        tokens = text_tokens(text)
        if not tokens:
            return None
        must.append({"match": {"tokens": {"query": " ".join(tokens), "operator": "and"}}})
    clauses = filter_clauses(flt)
    if not must and not clauses:
        return {"match_all": {}}
    query: dict[str, Any] = {}
    if must:
        query["must"] = must
    if clauses:
        query["filter"] = clauses
    return {"bool": query}


def time_sort(direction: str) -> list[dict[str, Any]]:
    return [{"created_at": {"order": direction}}, {"id": {"order": direction}}]


def search_sort(query: SearchQuery) -> list[Any]:
    """Relevance only ranks when there is text; otherwise newest first, like SQLite."""
    if query.sort == "relevance" and query.text.strip():
        return ["_score", *time_sort("desc")]
    return time_sort("asc" if query.sort == "time_asc" else "desc")


def facet_aggs(facets: list[str]) -> dict[str, Any]:
    """Aggregations for the requested facets; bucket keys match the SQLite backend's."""
    aggs: dict[str, Any] = {}
    for name in facets:
        if name in ("day", "hour"):
            aggs[name] = {
                "date_histogram": {
                    "field": "created_at",
                    "calendar_interval": name,
                    "time_zone": FACET_TIME_ZONE,
                    "min_doc_count": 1,
                    "format": "yyyy-MM-dd" if name == "day" else "yyyy-MM-dd'T'HH:00",
                }
            }
        elif name in ("source", "region"):
            aggs[name] = {
                "terms": {
                    "field": "source" if name == "source" else "region_tags",
                    "size": FACET_SIZE,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
        else:
            raise ValueError(f"unknown facet {name!r}")
    return aggs


def read_facets(aggregations: dict[str, Any], facets: list[str]) -> Facets:
    out: Facets = {}
    for name in facets:
        buckets = aggregations.get(name, {}).get("buckets", [])
        key = "key_as_string" if name in ("day", "hour") else "key"
        out[name] = [(str(b[key]), int(b["doc_count"])) for b in buckets if b["doc_count"]]
    return out


def search_body(query: SearchQuery) -> dict[str, Any] | None:
    """The whole ``_search`` body for a :class:`SearchQuery`, or ``None`` if nothing matches."""
    q = post_query(query, query.text)
    if q is None:
        return None
    body: dict[str, Any] = {
        "query": q,
        "sort": search_sort(query),
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
    }
    if query.facets:
        body["aggs"] = facet_aggs(list(query.facets))
    return body


def flat_value(value: Any) -> str:
    """A record field value as the string stored in the ``fields`` flattened field.

    Both sides of an equality go through this, so ``1`` equals ``1.0``, enums equal their
    value and datetimes compare as UTC instants.
    """
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    if isinstance(value, datetime):
        return es_time(value)
    return str(value)


def record_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Top-level scalar fields (and lists of scalars) of a record, for equality filters."""
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or isinstance(value, dict):
            continue
        if isinstance(value, list):
            if value and all(not isinstance(v, dict | list) for v in value):
                fields[key] = [flat_value(v) for v in value]
            continue
        fields[key] = flat_value(value)
    return fields


def records_query(equals: dict[str, Any]) -> dict[str, Any]:
    """Top-level field equality for ``list_records``; ``None`` means the field is unset."""
    clauses: list[dict[str, Any]] = []
    absent: list[dict[str, Any]] = []
    for field, value in equals.items():
        if value is None:
            absent.append({"exists": {"field": f"fields.{field}"}})
        else:
            clauses.append({"term": {f"fields.{field}": flat_value(value)}})
    if not clauses and not absent:
        return {"match_all": {}}
    query: dict[str, Any] = {}
    if clauses:
        query["filter"] = clauses
    if absent:
        query["must_not"] = absent
    return {"bool": query}


# -- incident listing (the typed ``listing`` fields of incident records) -------------------
_INCIDENT_SORT_FIELD = {
    "heat": "listing.heat",
    "last_seen": "listing.last_seen_us",
    "rumor": "listing.rumor_score",
    "size": "listing.post_count",
}


def wildcard_literal(text: str) -> str:
    """``text`` with the wildcard query's special characters (``\\ * ?``) escaped."""
    return "".join("\\" + c if c in "\\*?" else c for c in text)


def incident_query(q: IncidentQuery) -> dict[str, Any]:
    """The query of :class:`IncidentQuery` (same meaning as SQLite's ``incidents`` WHERE)."""
    clauses: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    if q.hot is not None:
        clauses.append({"term": {"listing.hot": q.hot}})
    if q.district is not None:
        clauses.append({"term": {"listing.district": q.district}})
    if q.category is not None:
        clauses.append({"term": {"listing.category": q.category}})
    if q.seen_since is not None:
        clauses.append({"range": {"listing.last_seen_us": {"gte": micros(q.seen_since)}}})
    if q.seen_until is not None:
        clauses.append({"range": {"listing.first_seen_us": {"lt": micros(q.seen_until)}}})
    score: dict[str, float] = {}
    if q.min_rumor_score is not None:
        score["gte"] = q.min_rumor_score
    if q.below_rumor_score is not None:
        score["lt"] = q.below_rumor_score
    if score:
        clauses.append({"range": {"listing.rumor_score": score}})
    if q.rumor_scored is True:
        clauses.append({"exists": {"field": "listing.rumor_score"}})
    elif q.rumor_scored is False:
        must_not.append({"exists": {"field": "listing.rumor_score"}})
    if q.text:
        pattern = "*" + wildcard_literal(fold(q.text)) + "*"
        clauses.append(
            {
                "bool": {
                    "should": [
                        {"wildcard": {"listing.title_lc": {"value": pattern}}},
                        {"wildcard": {"listing.keywords_lc": {"value": pattern}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    if q.tiers:
        either: list[dict[str, Any]] = []
        named = [t for t in q.tiers if t != NO_TIER]
        if named:
            either.append({"terms": {"listing.tier": named}})
        if NO_TIER in q.tiers:
            either.append({"bool": {"must_not": [{"exists": {"field": "listing.tier"}}]}})
        clauses.append({"bool": {"should": either, "minimum_should_match": 1}})
    if q.ids is not None:
        clauses.append({"terms": {"id": q.ids}})
    if q.exclude_ids:
        must_not.append({"terms": {"id": q.exclude_ids}})
    if not clauses and not must_not:
        return {"match_all": {}}
    query: dict[str, Any] = {}
    if clauses:
        query["filter"] = clauses
    if must_not:
        query["must_not"] = must_not
    return {"bool": query}


def incident_sort(sort: str) -> list[dict[str, Any]]:
    """Highest (latest) first, unknown values last, ties by id: SQLite's order."""
    return [
        {_INCIDENT_SORT_FIELD[sort]: {"order": "desc", "missing": "_last"}},
        {"id": {"order": "asc"}},
    ]


def incident_search_body(q: IncidentQuery) -> dict[str, Any]:
    return {
        "query": incident_query(q),
        "sort": incident_sort(q.sort),
        "from": q.offset,
        "size": q.limit,
        "track_total_hits": True,
    }
