"""Incident listing on Elasticsearch without a server: the query bodies, the typed
``listing`` fields every saved incident carries, and the upgrade of an older incident
index (its copies get their ``listing`` before the alias moves). Against a real ES the
behaviour is checked by tests/store/test_contract_incidents.py (TINGFENG_ES_URL)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from models import Alert, Incident, Tier
from store import IncidentQuery, StoreError, es_query
from store.es_mappings import MAPPING_VERSION, RECORDS_MAPPING
from store.es_records import record_document
from store.incident_fields import incident_fields, micros
from tests.conftest import BASE_TIME
from tests.store.test_elastic_unit import FakeES, fake_es, open_fake  # noqa: F401

SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}


def test_listing_fields_are_typed_for_ranges_and_sorting() -> None:
    listing = RECORDS_MAPPING["properties"]["listing"]["properties"]
    assert listing["hot"] == {"type": "boolean"}
    assert listing["rumor_score"]["type"] == listing["heat"]["type"] == "double"  # not float32
    assert listing["first_seen_us"] == listing["last_seen_us"] == {"type": "long"}
    for name in ("district", "category", "title_lc", "keywords_lc"):
        assert listing[name]["type"] == "keyword"
    assert MAPPING_VERSION >= 2


def test_incident_documents_carry_listing_other_records_do_not() -> None:
    at = BASE_TIME + timedelta(microseconds=7)
    inc = Incident(
        id="i1", title="Metro 停运", keywords=["地铁", "Metro"], hot=True, heat=12.5,
        rumor_score=0.8, district="江北区", first_seen=at, last_seen=at,
    )  # fmt: skip
    doc = record_document(inc)
    assert doc["listing"] == incident_fields(inc)
    assert doc["listing"]["title_lc"] == "metro 停运"
    assert doc["listing"]["keywords_lc"] == ["地铁", "metro"]
    assert doc["listing"]["last_seen_us"] == micros(at) and micros(at) % 1_000_000 == 7
    alert = Alert(id="a1", incident_id="i1", tier=Tier.II, rule="r")
    assert "listing" not in record_document(alert)


def test_incident_query_bodies() -> None:
    assert es_query.incident_query(IncidentQuery()) == {"match_all": {}}
    since = BASE_TIME + timedelta(microseconds=1)
    q = IncidentQuery(
        hot=False, district="江北区", category="交通", seen_since=since, seen_until=BASE_TIME,
        min_rumor_score=0.5, below_rumor_score=0.8,
    )  # fmt: skip
    assert es_query.incident_query(q) == {
        "bool": {
            "filter": [
                {"term": {"listing.hot": False}},
                {"term": {"listing.district": "江北区"}},
                {"term": {"listing.category": "交通"}},
                {"range": {"listing.last_seen_us": {"gte": micros(since)}}},
                {"range": {"listing.first_seen_us": {"lt": micros(BASE_TIME)}}},
                {"range": {"listing.rumor_score": {"gte": 0.5, "lt": 0.8}}},
            ]
        }
    }
    unscored = es_query.incident_query(IncidentQuery(rumor_scored=False))
    assert unscored == {"bool": {"must_not": [{"exists": {"field": "listing.rumor_score"}}]}}
    ids = es_query.incident_query(IncidentQuery(ids=["a", "b"], exclude_ids=["c"]))
    assert ids == {
        "bool": {"filter": [{"terms": {"id": ["a", "b"]}}], "must_not": [{"terms": {"id": ["c"]}}]}
    }
    assert es_query.incident_query(IncidentQuery(exclude_ids=[])) == {"match_all": {}}
    assert es_query.incident_sort("last_seen") == [
        {"listing.last_seen_us": {"order": "desc", "missing": "_last"}},
        {"id": {"order": "asc"}},
    ]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("地铁", "*地铁*"),
        ("METRO", "*metro*"),
        ("a*b?c\\d", "*a\\*b\\?c\\\\d*"),
        ("100%", "*100%*"),
    ],
)
def test_text_is_a_literal_case_insensitive_substring(text: str, pattern: str) -> None:
    body = es_query.incident_query(IncidentQuery(text=text))
    should = body["bool"]["filter"][0]["bool"]["should"]
    assert should == [
        {"wildcard": {"listing.title_lc": {"value": pattern}}},
        {"wildcard": {"listing.keywords_lc": {"value": pattern}}},
    ]


def test_list_incidents_is_one_search_with_the_exact_total(
    fake_es: tuple[FakeES, str],  # noqa: F811
) -> None:
    state, url = fake_es
    with open_fake(url) as store:
        page = store.list_incidents(IncidentQuery(hot=True, sort="rumor", offset=40, limit=20))
        assert (page.total, page.incidents) == (0, [])
        with pytest.raises(StoreError, match="offset"):
            store.list_incidents(IncidentQuery(offset=9990, limit=20))
    (body,) = [b for _, m, p, b in state.requests if p.startswith("/tf-records-incident/_search")]
    assert body["query"] == {"bool": {"filter": [{"term": {"listing.hot": True}}]}}
    assert body["sort"] == es_query.incident_sort("rumor")
    assert (body["from"], body["size"], body["track_total_hits"]) == (40, 20, True)


def test_an_older_incident_index_gets_listing_before_its_alias_moves(
    fake_es: tuple[FakeES, str],  # noqa: F811
) -> None:
    state, url = fake_es
    old, new = "tf-records-incident-v1", f"tf-records-incident-v{MAPPING_VERSION}"
    state.aliases = {"tf-records-incident": [old]}
    stored = Incident(id="inc-1", title="旧事件", hot=True, heat=3.0, version=4)
    inner = state.answer

    def answer(method: str, path: str, raw: bytes) -> tuple[int, Any]:
        route = path.split("?")[0]
        if route == f"/{new}/_search":  # the scan over the copy: one page, then none
            state.requests.append((0.0, method, path, json.loads(raw or b"null")))
            source = {"doc": stored.model_dump(mode="json")}
            hit = {"_index": new, "_id": "inc-1", "_source": source}
            hits = {"total": {"value": 1, "relation": "eq"}, "hits": [hit]}
            return 200, {"_scroll_id": "s1", "_shards": SHARDS, "took": 1, "hits": hits}
        if route == "/_search/scroll":
            state.requests.append((0.0, method, path, None))
            if method == "DELETE":
                return 200, {"succeeded": True, "num_freed": 1}
            empty = {"total": {"value": 1, "relation": "eq"}, "hits": []}
            return 200, {"_scroll_id": "s1", "_shards": SHARDS, "took": 1, "hits": empty}
        return inner(method, path, raw)

    state.answer = answer  # type: ignore[method-assign]
    with open_fake(url, ensure_schema=True):
        pass
    order = [p.split("?")[0] for _, m, p, b in state.requests]
    assert order.index("/_reindex") < order.index("/_bulk") < order.index("/_aliases")
    index, _, source = state.docs["inc-1"]
    assert index == new
    assert source == {"doc": {"listing": incident_fields(stored)}}  # a partial update


def test_tier_filter_body_and_the_tier_in_the_listing() -> None:
    body = es_query.incident_query(IncidentQuery(tiers=["I", "III", "none"]))
    (either,) = body["bool"]["filter"]
    assert either == {
        "bool": {
            "should": [
                {"terms": {"listing.tier": ["I", "III"]}},
                {"bool": {"must_not": [{"exists": {"field": "listing.tier"}}]}},
            ],
            "minimum_should_match": 1,
        }
    }
    only = es_query.incident_query(IncidentQuery(tiers=["II"]))["bool"]["filter"][0]
    assert only["bool"]["should"] == [{"terms": {"listing.tier": ["II"]}}]
    assert RECORDS_MAPPING["properties"]["listing"]["properties"]["tier"] == {"type": "keyword"}
    inc = Incident(id="i", title="t")
    assert record_document(inc, "II")["listing"]["tier"] == "II"
    assert "tier" not in record_document(inc)["listing"]
