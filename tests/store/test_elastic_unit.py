"""Elasticsearch backend checks that need no Elasticsearch server.

- Pure unit tests of the mapping/template bodies and of the query builders.
- Bulk retry behaviour against a real HTTP server on 127.0.0.1 that speaks just enough of
  the ES protocol (``_bulk``, ``_mget``, ``_search`` and the schema calls, with the
  ``X-Elastic-Product`` header the official client insists on) to reject items with 429,
  refuse others for good, or report a version conflict, and that records every request.

The full behaviour runs in ``tests/store/test_contract.py`` when ``TINGFENG_ES_URL`` is set.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from hypothesis import given
from hypothesis import strategies as st

from models import SHANGHAI, AlertStatus, MetricSnapshot, Post, Tier
from nlp.tokenize import cut, index_text
from store import es_query
from store.base import PostFilter, SearchQuery, StoreError
from store.elastic import ElasticStore, post_document, post_from_source, snapshot_id
from store.es_mappings import (
    MAPPING_VERSION,
    POSTS_MAPPING,
    RECORDS_MAPPING,
    TOKENS_ANALYZER,
    IndexNames,
    fixed_index_body,
    posts_template,
)
from tingfeng.config import StoreConfig


def make_post(native_id: str, **kw: Any) -> Post:
    data: dict[str, Any] = {
        "source": "weibo",
        "native_id": native_id,
        "text": "德阳旌阳区发生交通事故，伤者已送医抢救",
        "created_at": datetime(2024, 5, 20, 10, 0, tzinfo=SHANGHAI),
        "fetched_at": datetime(2024, 5, 20, 11, 0, tzinfo=UTC),
    }
    data.update(kw)
    return Post(**data)


# -- mappings and templates -----------------------------------------------------------------
def test_posts_template_is_versioned_and_puts_monthly_indices_behind_the_alias() -> None:
    names = IndexNames("tf")
    body = posts_template(names)
    assert body["index_patterns"] == ["tf-posts-*"]
    assert body["version"] == MAPPING_VERSION
    assert body["_meta"]["mapping_version"] == MAPPING_VERSION
    assert body["priority"] > 100  # above the built-in logs-*/metrics-* templates
    assert body["template"]["aliases"] == {"tf-posts": {}}
    analyzer = body["template"]["settings"]["analysis"]["analyzer"][TOKENS_ANALYZER]
    assert analyzer == {"type": "custom", "tokenizer": "whitespace"}  # no plugin needed
    assert body["template"]["mappings"] is POSTS_MAPPING
    settings = body["template"]["settings"]
    assert settings["auto_expand_replicas"] == "0-1" and "number_of_replicas" not in settings
    fixed = posts_template(names, replicas=2)["template"]["settings"]
    assert fixed["number_of_replicas"] == 2 and "auto_expand_replicas" not in fixed


def test_posts_mapping_fields() -> None:
    props = POSTS_MAPPING["properties"]
    assert props["tokens"]["analyzer"] == TOKENS_ANALYZER
    for field in ("text", "title"):  # original text kept, not analysed for search
        assert props[field] == {"type": "text", "index": False}
    for field in (
        "id",
        "source",
        "native_id",
        "kind",
        "root_id",
        "parent_id",
        "incident_id",
        "region_tags",
        "near_duplicate_of",
    ):
        assert props[field]["type"] == "keyword", field
    assert props["author"]["properties"]["id"]["type"] == "keyword"
    for field in ("created_at", "fetched_at"):
        assert props[field]["type"] == "date"
    assert props["extra"] == {"type": "object", "enabled": False}
    # Every field of the model is mapped (so nothing silently becomes unsearchable).
    assert set(Post.model_fields) <= set(props)


def test_fixed_indices_and_records_mapping() -> None:
    body = fixed_index_body(RECORDS_MAPPING)
    assert body["mappings"]["_meta"]["mapping_version"] == MAPPING_VERSION
    assert body["mappings"]["properties"]["fields"]["type"] == "flattened"
    assert body["mappings"]["properties"]["doc"]["enabled"] is False
    assert IndexNames.versioned("tf-snapshots") == f"tf-snapshots-v{MAPPING_VERSION}"


def test_monthly_index_is_chosen_in_utc() -> None:
    names = IndexNames("tf")
    # 02:00 on 1 June in Shanghai is still May in UTC: one stable rule, whatever the zone.
    assert names.posts_index(datetime(2024, 6, 1, 2, 0, tzinfo=SHANGHAI)) == "tf-posts-2024.05"
    assert names.posts_index(datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI)) == "tf-posts-2024.06"


@pytest.mark.parametrize("prefix", ["", "TF", "a b", "x*", "a,b", "a/b"])
def test_bad_index_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="index_prefix"):
        IndexNames(prefix)


def test_post_document_round_trip() -> None:
    post = make_post("1", title="标题", region_tags=["旌阳区"], extra={"raw": {"a": 1}})
    doc = post_document(post)
    assert doc["tokens"] == index_text(post.title, post.text)
    assert post_from_source(json.loads(json.dumps(doc))) == post


def test_snapshot_id_is_the_same_instant_in_any_zone() -> None:
    at = datetime(2024, 5, 20, 10, 0, 5, 123456, tzinfo=SHANGHAI)
    a = MetricSnapshot(post_id="weibo:1", observed_at=at, reposts=1)
    b = MetricSnapshot(post_id="weibo:1", observed_at=at.astimezone(timezone(timedelta(hours=-5))))
    assert snapshot_id(a) == snapshot_id(b) == f"weibo:1@{int(at.timestamp())}"


# -- query building ---------------------------------------------------------------------
def test_filters_become_bool_filter_clauses() -> None:
    flt = PostFilter(
        since=datetime(2024, 5, 1, tzinfo=SHANGHAI),
        until=datetime(2024, 6, 1, tzinfo=SHANGHAI),
        fetched_since=datetime(2024, 6, 2, tzinfo=SHANGHAI),
        sources=["weibo", "tieba"],
        regions=["旌阳区"],
        authors=["u1"],
        incident_ids=["inc-1"],
        kinds=["post"],
        root_ids=["weibo:9"],
        min_rumor_score=0.5,
        max_rumor_score=0.9,
    )
    assert es_query.filter_clauses(flt) == [
        {
            "range": {
                "created_at": {
                    "gte": "2024-04-30T16:00:00+00:00",
                    "lt": "2024-05-31T16:00:00+00:00",
                }
            }
        },
        {"range": {"fetched_at": {"gte": "2024-06-01T16:00:00+00:00"}}},
        {"terms": {"source": ["weibo", "tieba"]}},
        {"terms": {"region_tags": ["旌阳区"]}},
        {"terms": {"author.id": ["u1"]}},
        {"terms": {"incident_id": ["inc-1"]}},
        {"terms": {"kind": ["post"]}},
        {"terms": {"root_id": ["weibo:9"]}},
        {"range": {"rumor_score": {"gte": 0.5, "lte": 0.9}}},
    ]


def test_query_without_text_or_filters_matches_all() -> None:
    assert es_query.post_query(PostFilter()) == {"match_all": {}}


def test_text_becomes_an_and_match_on_tokens() -> None:
    q = es_query.post_query(PostFilter(sources=["weibo"]), "交通事故 抢救")
    assert q == {
        "bool": {
            "must": [
                {"match": {"tokens": {"query": " ".join(cut("交通事故 抢救")), "operator": "and"}}}
            ],
            "filter": [{"terms": {"source": ["weibo"]}}],
        }
    }


@pytest.mark.parametrize("text", ["!!!", "（）", "   ", "*"])
def test_text_without_tokens(text: str) -> None:
    q = es_query.post_query(PostFilter(), text)
    if text.strip():
        assert q is None  # nothing can match, as in the SQLite backend
    else:
        assert q == {"match_all": {}}


@given(st.text(max_size=60))
def test_user_text_never_reaches_a_query_parser(text: str) -> None:
    body = es_query.search_body(SearchQuery(text=text, facets=["day", "source"]))
    if body is None:
        return
    dumped = json.dumps(body)
    assert "query_string" not in dumped and "simple_query_string" not in dumped
    must = body["query"].get("bool", {}).get("must", [])
    if must:
        sent = must[0]["match"]["tokens"]["query"].split(" ")
        assert sent == list(dict.fromkeys(cut(text)))


def test_search_body_sort_paging_and_facets() -> None:
    body = es_query.search_body(
        SearchQuery(text="事故", offset=40, limit=20, facets=["day", "hour", "source", "region"])
    )
    assert body is not None
    assert body["from"] == 40 and body["size"] == 20 and body["track_total_hits"] is True
    assert body["sort"] == ["_score", {"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]
    day, hour = body["aggs"]["day"]["date_histogram"], body["aggs"]["hour"]["date_histogram"]
    assert day["time_zone"] == hour["time_zone"] == "Asia/Shanghai"
    assert (day["calendar_interval"], day["format"]) == ("day", "yyyy-MM-dd")
    assert (hour["calendar_interval"], hour["format"]) == ("hour", "yyyy-MM-dd'T'HH:00")
    assert body["aggs"]["source"]["terms"]["field"] == "source"
    assert body["aggs"]["region"]["terms"]["field"] == "region_tags"
    assert body["aggs"]["region"]["terms"]["order"] == [{"_count": "desc"}, {"_key": "asc"}]


@pytest.mark.parametrize(
    ("sort", "text", "expected"),
    [
        ("relevance", "", [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]),
        ("time", "事故", [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]),
        ("time_asc", "事故", [{"created_at": {"order": "asc"}}, {"id": {"order": "asc"}}]),
    ],
)
def test_sorting(sort: str, text: str, expected: list[Any]) -> None:
    assert es_query.search_sort(SearchQuery(text=text, sort=sort)) == expected  # type: ignore[arg-type]


def test_read_facets_uses_local_day_keys() -> None:
    aggs = {
        "day": {
            "buckets": [
                {"key_as_string": "2024-05-20", "key": 1, "doc_count": 3},
                {"key_as_string": "2024-05-21", "key": 2, "doc_count": 0},
            ]
        },
        "source": {"buckets": [{"key": "weibo", "doc_count": 5}]},
    }
    assert es_query.read_facets(aggs, ["day", "source", "region"]) == {
        "day": [("2024-05-20", 3)],
        "source": [("weibo", 5)],
        "region": [],
    }


def test_record_fields_and_equality_query() -> None:
    fields = es_query.record_fields(
        {
            "id": "a1",
            "tier": Tier.II,
            "status": AlertStatus.NEW,
            "heat": 1,
            "burst": True,
            "keywords": ["地震", "德阳"],
            "history": [{"at": 1}],
            "extra": {"x": 1},
            "assignee": None,
        }
    )
    assert fields == {
        "id": "a1",
        "tier": "II",
        "status": "new",
        "heat": "1.0",
        "burst": "true",
        "keywords": ["地震", "德阳"],
    }
    assert es_query.records_query({"status": AlertStatus.NEW, "heat": 1.0, "assignee": None}) == {
        "bool": {
            "filter": [{"term": {"fields.status": "new"}}, {"term": {"fields.heat": "1.0"}}],
            "must_not": [{"exists": {"field": "fields.assignee"}}],
        }
    }
    assert es_query.records_query({}) == {"match_all": {}}


# -- a local receiver speaking enough of the ES protocol ----------------------------------------
class FakeES:
    """State of the local receiver: rules for which bulk items to reject, and a log."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, str, Any]] = []
        self.docs: dict[str, tuple[str, int, dict[str, Any]]] = {}  # id -> (index, seq, src)
        self.reject_429: dict[str, int] = {}  # id -> how many more times to answer 429
        self.reject_request_429 = 0  # whole _bulk requests to answer with HTTP 429
        self.permanent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.race: dict[str, dict[str, Any]] = {}  # written "by someone else" on first create
        self.aliases: dict[str, list[str]] = {}  # alias -> indices already behind it
        self.template_version: int | None = None  # stored posts template, if any
        self.seq = 0
        self.lock = threading.Lock()

    def bulk_requests(self) -> list[tuple[float, list[str]]]:
        return [
            (t, [a["_id"] for a in body])
            for t, m, p, body in self.requests
            if p.startswith("/_bulk")
        ]

    def answer(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        route = path.split("?")[0]
        if route == "/_bulk":  # items carry their index; refresh etc. are in the query
            lines = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
            actions = []
            it = iter(lines)
            for header in it:
                op, meta = next(iter(header.items()))
                actions.append({"op": op, **meta, "source": next(it)})
            self.requests.append(
                (
                    time.monotonic(),
                    method,
                    path,
                    [
                        {"_id": a["_id"], "op": a["op"], "guarded": "if_seq_no" in a}
                        for a in actions
                    ],
                )
            )
            if self.reject_request_429:
                self.reject_request_429 -= 1
                return 429, {
                    "error": {
                        "type": "es_rejected_execution_exception",
                        "reason": "rejected execution of coordinating operation",
                    },
                    "status": 429,
                }
            items = [{a["op"]: self.bulk_item(a)} for a in actions]
            errors = any(next(iter(i.values()))["status"] >= 300 for i in items)
            return 200, {"took": 1, "errors": errors, "items": items}
        self.requests.append((time.monotonic(), method, path, json.loads(raw or b"null")))
        if route == "/_mget":
            body = json.loads(raw)
            return 200, {"docs": [self.get_doc(d["_index"], d["_id"]) for d in body["docs"]]}
        if method == "GET" and route.startswith("/_alias/") and route[8:] in self.aliases:
            name = route[8:]
            return 200, {index: {"aliases": {name: {}}} for index in self.aliases[name]}
        if method == "GET" and route == "/_index_template/tf-posts" and self.template_version:
            template = {"index_patterns": ["tf-posts-*"], "version": self.template_version}
            return 200, {"index_templates": [{"name": "tf-posts", "index_template": template}]}
        if method == "GET" and route == "/_alias/tf-posts" and self.docs:
            return 200, {index: {"aliases": {"tf-posts": {}}} for index, _, _ in self.docs.values()}
        if method == "GET" and "*" in route:  # GET <patterns>: the indices they match
            return 200, {"tf-posts-2024.05": {"aliases": {"tf-posts": {}}}}
        if route.endswith("/_pit"):
            return 200, {"id": "pit-1"}
        if route.endswith("/_count"):
            return 200, {"count": 0}
        if method == "GET" and "/_doc/" in route:
            return 404, {
                "_index": route.split("/")[1],
                "_id": route.rsplit("/", 1)[1],
                "found": False,
            }
        if route.endswith("/_search"):
            return 200, {
                "took": 1,
                "timed_out": False,
                "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
            }
        if method == "GET" and (
            route.startswith("/_index_template/")
            or "/_alias/" in route
            or route.startswith("/_alias/")
        ):
            return 404, {
                "error": {"type": "resource_not_found_exception", "reason": "missing"},
                "status": 404,
            }
        return 200, {"acknowledged": True}

    def bulk_item(self, action: dict[str, Any]) -> dict[str, Any]:
        doc_id, index = action["_id"], action["_index"]
        base = {"_index": index, "_id": doc_id}
        if self.reject_429.get(doc_id, 0) > 0:
            self.reject_429[doc_id] -= 1
            return {
                **base,
                "status": 429,
                "error": {
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of primary operation",
                },
            }
        if doc_id in self.permanent:
            status, error = self.permanent[doc_id]
            return {**base, "status": status, "error": error}
        if action["op"] == "create" and doc_id in self.race:
            self.store(index, doc_id, self.race.pop(doc_id))
            return {
                **base,
                "status": 409,
                "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists",
                },
            }
        if action["op"] == "create" and doc_id in self.docs:
            return {
                **base,
                "status": 409,
                "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists",
                },
            }
        if action["op"] == "index" and "if_seq_no" in action:
            stored = self.docs.get(doc_id)
            if stored is None or stored[1] != action["if_seq_no"]:
                return {
                    **base,
                    "status": 409,
                    "error": {
                        "type": "version_conflict_engine_exception",
                        "reason": "seq_no mismatch",
                    },
                }
        created = doc_id not in self.docs
        self.store(index, doc_id, action["source"])
        return {
            **base,
            "status": 201 if created else 200,
            "result": "created" if created else "updated",
        }

    def store(self, index: str, doc_id: str, source: dict[str, Any]) -> None:
        self.seq += 1
        self.docs[doc_id] = (index, self.seq, source)

    def get_doc(self, index: str, doc_id: str) -> dict[str, Any]:
        stored = self.docs.get(doc_id)
        if stored is None or stored[0] != index:
            return {"_index": index, "_id": doc_id, "found": False}
        return {
            "_index": index,
            "_id": doc_id,
            "found": True,
            "_seq_no": stored[1],
            "_primary_term": 1,
            "_source": stored[2],
        }


@pytest.fixture
def fake_es() -> Iterator[tuple[FakeES, str]]:
    state = FakeES()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                status, body = state.answer(self.command, self.path, raw)
            data = b"" if self.command == "HEAD" else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def open_fake(url: str, **kw: Any) -> ElasticStore:
    client = Elasticsearch(url, max_retries=0)
    options: dict[str, Any] = {
        "index_prefix": "tf",
        "max_retries": 3,
        "initial_backoff": 0.02,
        "max_backoff": 1.0,
        "ensure_schema": False,
        "owns_client": True,
    }
    options.update(kw)
    return ElasticStore(client, **options)


def test_items_rejected_with_429_are_retried(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    state.reject_429 = {"weibo:2": 1, "weibo:4": 2}
    with open_fake(url) as store:
        result = store.upsert_posts([make_post(str(i)) for i in range(1, 6)])
    assert result.inserted == 5 and result.failed == []
    sent = [ids for _, ids in state.bulk_requests()]
    assert sent == [
        ["weibo:1", "weibo:2", "weibo:3", "weibo:4", "weibo:5"],
        ["weibo:2", "weibo:4"],
        ["weibo:4"],
    ]
    assert set(state.docs) == {f"weibo:{i}" for i in range(1, 6)}
    assert state.docs["weibo:1"][0] == "tf-posts-2024.05"


def test_backoff_doubles_then_reports_the_item_as_failed(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    state.reject_429 = {"weibo:2": 100}
    with open_fake(url, max_retries=3, initial_backoff=0.05) as store:
        result = store.upsert_posts([make_post("1"), make_post("2")])
    assert result.inserted == 1
    assert len(result.failed) == 1
    failed_id, reason = result.failed[0]
    assert failed_id == "weibo:2"
    assert "429" in reason and "es_rejected_execution_exception" in reason
    times = [t for t, _ in state.bulk_requests()]
    assert len(times) == 4  # first try + 3 retries
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for gap, expected in zip(gaps, [0.05, 0.1, 0.2], strict=True):
        assert gap >= expected * 0.9, gaps


def test_permanent_item_failures_are_reported_not_retried(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    state.permanent["weibo:3"] = (
        400,
        {
            "type": "document_parsing_exception",
            "reason": "[1:20] failed to parse field [likes]",
            "caused_by": {"type": "illegal_argument_exception", "reason": "bad number"},
        },
    )
    with open_fake(url) as store:
        result = store.upsert_posts([make_post(str(i)) for i in range(1, 4)])
    assert result.inserted == 2
    assert result.failed == [
        (
            "weibo:3",
            "document_parsing_exception: [1:20] failed to parse "
            "field [likes] (illegal_argument_exception: bad number)",
        )
    ]
    assert len(state.bulk_requests()) == 1


def test_whole_bulk_request_rejected_with_429_is_retried(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    state.reject_request_429 = 2
    with open_fake(url) as store:
        result = store.upsert_posts([make_post("1"), make_post("2")])
    assert result.inserted == 2 and not result.failed
    assert len(state.bulk_requests()) == 3


def test_whole_request_rejected_every_time_fails_each_item(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    state.reject_request_429 = 100
    with open_fake(url, max_retries=2) as store:
        result = store.upsert_posts([make_post("1"), make_post("2")])
    assert result.inserted == 0
    assert [pid for pid, _ in result.failed] == ["weibo:1", "weibo:2"]
    assert all("429" in reason for _, reason in result.failed)


def test_upsert_merges_with_the_stored_copy(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    with open_fake(url) as store:
        assert store.upsert_posts([make_post("1", reposts=5, region_tags=["旌阳区"])]).inserted == 1
        later = make_post(
            "1", reposts=9, region_tags=["罗江区"], fetched_at=datetime(2024, 5, 21, tzinfo=UTC)
        )
        result = store.upsert_posts([later])
        assert (result.updated, result.inserted) == (1, 0)
        assert store.upsert_posts([later]).unchanged == 1
    index, _, src = state.docs["weibo:1"]
    assert index == "tf-posts-2024.05"
    assert src["reposts"] == 9 and src["region_tags"] == ["旌阳区", "罗江区"]
    # The overwrite was guarded by the sequence number read just before.
    index_ops = [b for _, _, p, b in state.requests if p.startswith("/_bulk")]
    assert index_ops[1] == [{"_id": "weibo:1", "op": "index", "guarded": True}]


def test_concurrent_writer_is_merged_not_overwritten(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    # Another importer stores the post between our read and our write: our create gets 409.
    theirs = make_post(
        "7",
        likes=40,
        region_tags=["旌阳区"],
        incident_id="inc-1",
        fetched_at=datetime(2024, 5, 20, 12, 0, tzinfo=UTC),
    )
    state.race["weibo:7"] = post_document(theirs)
    with open_fake(url) as store:
        result = store.upsert_posts([make_post("7", likes=3, region_tags=["罗江区"])])
    assert result.failed == [] and result.updated == 1
    src = state.docs["weibo:7"][2]
    assert src["likes"] == 40  # their copy was fetched later: its counts win
    assert src["incident_id"] == "inc-1"
    assert src["region_tags"] == ["旌阳区", "罗江区"]


def test_duplicates_in_one_call_become_one_write(fake_es: tuple[FakeES, str]) -> None:
    state, url = fake_es
    with open_fake(url) as store:
        result = store.upsert_posts(
            [
                make_post("1", likes=1),
                make_post("1", likes=2, fetched_at=datetime(2024, 5, 22, tzinfo=UTC)),
            ]
        )
    assert result.inserted == 1 and result.updated == 0
    assert state.docs["weibo:1"][2]["likes"] == 2


def test_ensure_schema_installs_template_and_versioned_indices(
    fake_es: tuple[FakeES, str],
) -> None:
    state, url = fake_es
    with open_fake(url, ensure_schema=True):
        pass
    puts = {p.split("?")[0]: body for _, m, p, body in state.requests if m == "PUT"}
    template = json.loads(json.dumps(posts_template(IndexNames("tf"))))
    assert puts["/_index_template/tf-posts"] == template
    v = MAPPING_VERSION
    for alias in (
        "tf-snapshots",
        "tf-state",
        "tf-records-incident",
        "tf-records-alert",
        "tf-records-bulletin",
    ):
        assert puts[f"/{alias}-v{v}"]["aliases"] == {alias: {}}


def test_from_config_and_errors(fake_es: tuple[FakeES, str], tmp_path: Path) -> None:
    _, url = fake_es
    cfg = StoreConfig(
        backend="elasticsearch",
        url=url,
        username="elastic",
        password="pw",
        index_prefix="tfcfg",
        batch_size=7,
    )
    with ElasticStore.from_config(cfg, ensure_schema=False) as store:
        assert (store.names.prefix, store.batch_size) == ("tfcfg", 7)
        with pytest.raises(StoreError, match="offset"):
            store.search(SearchQuery(text="事故", offset=9990, limit=20))
        assert store.search(SearchQuery(text="？？")).total == 0
    closed = StoreConfig(backend="elasticsearch", url="http://127.0.0.1:9", index_prefix="tfx")
    with pytest.raises(StoreError, match="elasticsearch: setting up indices failed"):
        ElasticStore.from_config(closed, max_retries=0)


def test_every_call_is_accepted_by_the_client(fake_es: tuple[FakeES, str]) -> None:
    """Smoke test of the client calls (parameter names, paths) of every Store method."""
    from models import Incident

    state, url = fake_es
    with open_fake(url, refresh="wait_for") as store:
        found = store.search(
            SearchQuery(
                text="交通事故",
                sources=["weibo"],
                offset=20,
                limit=10,
                facets=["day", "hour", "source", "region"],
            )
        )
        assert (found.total, found.hits, found.facets["day"]) == (0, [], [])
        assert store.count_posts(PostFilter(regions=["旌阳区"])) == 0
        assert list(store.iter_posts(PostFilter(), text="事故", order="time_desc")) == []
        assert store.get_post("weibo:1") is None
        assert store.set_post_fields({"weibo:1": {"incident_id": "i"}}) == 0
        snap = MetricSnapshot(post_id="weibo:1", observed_at=datetime(2024, 5, 20, tzinfo=UTC))
        assert store.add_snapshots([snap, snap]) == 1  # the second create is a 409 here
        assert store.get_snapshots(["weibo:1"], since=datetime(2024, 5, 1, tzinfo=UTC)) == []
        saved = store.save_record(Incident(id="inc-1", title="t"))
        assert saved.version == 1
        assert store.get_record(Incident, "inc-1") is None  # the receiver keeps no records
        assert store.list_records(Incident, status="open") == []
        assert store.count_records(Incident) == 0
        store.set_state("cursor", {"at": datetime(2024, 5, 20, tzinfo=UTC)})
        assert store.get_state("cursor") is None
        assert store.stats()["posts"] == 0
    paths = [(m, p.split("?")[0]) for _, m, p, _ in state.requests]
    assert ("POST", "/tf-posts/_search") in paths
    assert ("POST", "/tf-posts/_pit") in paths and ("DELETE", "/_pit") in paths
    assert ("PUT", "/tf-records-incident/_create/inc-1") in paths
    assert ("PUT", "/tf-state/_doc/cursor") in paths
    search = next(
        b
        for _, m, p, b in state.requests
        if p.startswith("/tf-posts/_search") and b and "aggs" in b
    )
    assert (search["from"], search["size"]) == (20, 10)
    bulk_paths = [p for _, _, p, _ in state.requests if p.startswith("/_bulk")]
    assert all("refresh=wait_for" in p for p in bulk_paths)


def test_drop_all_deletes_concrete_indices_and_the_template(
    fake_es: tuple[FakeES, str],
) -> None:
    state, url = fake_es
    with open_fake(url) as store:
        store.drop_all()
    deletes = [p.split("?")[0] for _, m, p, _ in state.requests if m == "DELETE"]
    assert deletes == ["/tf-posts-2024.05", "/_index_template/tf-posts"]  # no wildcards


def test_prepared_tokens_are_reused_and_recomputed_when_text_changes(
    fake_es: tuple[FakeES, str],
) -> None:
    from store.base import PreparedPost

    state, url = fake_es
    first = PreparedPost.of(make_post("1"))._replace(tokens="prepared tokens")
    with open_fake(url) as store:
        assert store.upsert_prepared([first]).inserted == 1
        assert state.docs["weibo:1"][2]["tokens"] == "prepared tokens"  # not re-tokenised
        assert store.set_post_fields({"weibo:1": {"incident_id": "inc-1"}}) == 1
        assert state.docs["weibo:1"][2]["tokens"] == "prepared tokens"  # text unchanged
        edited = make_post(
            "1", text="旌阳区交通事故伤者已脱离危险", fetched_at=datetime(2024, 5, 22, tzinfo=UTC)
        )
        assert store.upsert_posts([edited]).updated == 1
    assert state.docs["weibo:1"][2]["tokens"] == index_text(None, edited.text)
    assert state.docs["weibo:1"][2]["incident_id"] == "inc-1"


def test_unverified_tls_is_logged_once_not_warned_per_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # filterwarnings=error would turn the client's SecurityWarning into a failure here.
    cfg = StoreConfig(backend="elasticsearch", url="https://127.0.0.1:9", verify_certs=False)
    with ElasticStore.from_config(cfg, ensure_schema=False):
        pass
    assert "verify_certs is false" in caplog.text


def test_older_fixed_index_is_reindexed_and_its_alias_swapped(
    fake_es: tuple[FakeES, str],
) -> None:
    state, url = fake_es
    state.aliases = {"tf-state": ["tf-state-v0"]}
    with open_fake(url, ensure_schema=True):
        pass
    calls = [(m, p.split("?")[0], b) for _, m, p, b in state.requests]
    v = f"v{MAPPING_VERSION}"
    create = next(b for m, p, b in calls if (m, p) == ("PUT", f"/tf-state-{v}"))
    assert "aliases" not in create  # the alias moves only once the copy is complete
    reindex = next(b for m, p, b in calls if p == "/_reindex")
    assert reindex == {"source": {"index": "tf-state"}, "dest": {"index": f"tf-state-{v}"}}
    swap = next(b for m, p, b in calls if p == "/_aliases")
    assert swap == {
        "actions": [
            {"remove": {"index": "tf-state-v0", "alias": "tf-state"}},
            {"add": {"index": f"tf-state-{v}", "alias": "tf-state"}},
        ]
    }
    order = [p for m, p, b in calls]
    assert order.index(f"/tf-state-{v}") < order.index("/_reindex") < order.index("/_aliases")


@pytest.mark.parametrize("newer", ["template", "index"])
def test_a_layout_from_a_newer_tingfeng_is_refused(fake_es: tuple[FakeES, str], newer: str) -> None:
    state, url = fake_es
    if newer == "template":
        state.template_version = MAPPING_VERSION + 1
    else:
        state.aliases = {"tf-snapshots": [f"tf-snapshots-v{MAPPING_VERSION + 1}"]}
    with pytest.raises(StoreError, match="newer"):
        open_fake(url, ensure_schema=True)
    assert not any(m == "PUT" and "snapshots" in p for _, m, p, _ in state.requests)
