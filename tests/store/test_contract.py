"""The storage contract, run against every backend (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Alert, Bulletin, Incident, MetricSnapshot, Post, Tier
from store import ConflictError, PostFilter, SearchQuery, Store
from tests.conftest import BASE_TIME, make_post


def test_upsert_is_idempotent(store: Store, sample_posts: list[Post]) -> None:
    first = store.upsert_posts(sample_posts)
    assert first.inserted == len(sample_posts)
    again = store.upsert_posts(sample_posts)
    assert again.inserted == 0 and again.unchanged == len(sample_posts)
    assert store.count_posts() == len(sample_posts)


def test_an_estimated_date_keeps_the_earliest_and_yields_to_a_read_one(store: Store) -> None:
    # The fetch time stands in for a date that could not be read: re-reading the post an
    # hour later must not move it later; a copy whose date was read replaces the estimate.
    est = {"created_at_estimated": True, "raw_created_at": "发表于"}
    first = make_post("e1", "日期读不出的帖子", extra=dict(est))
    store.upsert_posts([first])
    later = first.model_copy(
        update={
            "created_at": first.created_at + timedelta(hours=1),
            "fetched_at": first.fetched_at + timedelta(hours=1),
            "likes": 5,
        }
    )
    store.upsert_posts([later])
    got = store.get_post(first.id)
    assert got is not None and got.created_at == first.created_at and got.likes == 5
    assert got.extra.get("created_at_estimated")
    read = first.model_copy(
        update={
            "created_at": first.created_at - timedelta(minutes=30),
            "fetched_at": first.fetched_at + timedelta(hours=2),
            "extra": {},
        }
    )
    store.upsert_posts([read])
    got = store.get_post(first.id)
    assert got is not None and got.created_at == first.created_at - timedelta(minutes=30)
    assert "created_at_estimated" not in got.extra and "raw_created_at" not in got.extra
    # An estimate arriving after a read date does not replace it.
    store.upsert_posts(
        [later.model_copy(update={"fetched_at": later.fetched_at + timedelta(hours=3)})]
    )
    got = store.get_post(first.id)
    assert got is not None and got.created_at == first.created_at - timedelta(minutes=30)
    assert "created_at_estimated" not in got.extra


def test_newer_counts_win_and_nothing_is_lost(store: Store) -> None:
    old = make_post("9", "原帖内容", reposts=10, url="http://m.example/9", region_tags=["东城区"])
    store.upsert_posts([old])
    newer = old.model_copy(
        update={
            "reposts": 250,
            "url": None,
            "region_tags": ["青川市"],
            "fetched_at": old.fetched_at + timedelta(hours=1),
        }
    )
    stale = old.model_copy(update={"reposts": 3, "fetched_at": old.fetched_at - timedelta(hours=1)})
    result = store.upsert_posts([newer])
    assert result.updated == 1
    store.upsert_posts([stale])
    got = store.get_post(old.id)
    assert got is not None
    assert got.reposts == 250  # the later fetch wins, the stale one does not
    assert got.url == "http://m.example/9"  # a field the new copy lacks is kept
    assert set(got.region_tags) == {"东城区", "青川市"}


def test_same_id_twice_in_one_batch_is_one_post(store: Store) -> None:
    a = make_post("7", "同一条", reposts=1)
    b = a.model_copy(update={"reposts": 5, "fetched_at": a.fetched_at + timedelta(minutes=1)})
    store.upsert_posts([a, b])
    assert store.count_posts() == 1
    got = store.get_post(a.id)
    assert got is not None and got.reposts == 5


def test_get_posts_keeps_order_and_skips_missing(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    ids = [sample_posts[3].id, "weibo:missing", sample_posts[0].id]
    assert [p.id for p in store.get_posts(ids)] == [sample_posts[3].id, sample_posts[0].id]
    assert store.get_post("nope:1") is None


def test_round_trip_keeps_every_field(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    for post in sample_posts:
        assert store.get_post(post.id) == post


def test_search_finds_chinese_words_with_snippets(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    result = store.search(SearchQuery(text="城管"))
    assert {h.post.native_id for h in result.hits} == {"1", "2", "6"}
    assert result.total == 3
    assert all("<mark>城管</mark>" in h.snippet for h in result.hits)


def test_search_subword_of_indexed_word(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    # "食品安全" is one jieba word; indexing in search mode lets "食品" find it.
    assert [h.post.native_id for h in store.search(SearchQuery(text="食品")).hits] == ["4"]


def test_search_filters(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    by_source = store.search(SearchQuery(text="东城区", sources=["gov"]))
    assert [h.post.native_id for h in by_source.hits] == ["6"]
    by_region = store.search(SearchQuery(regions=["西江区"]))
    assert [h.post.native_id for h in by_region.hits] == ["3"]
    by_time = store.search(
        SearchQuery(since=BASE_TIME + timedelta(hours=1), until=BASE_TIME + timedelta(hours=30))
    )
    assert {h.post.native_id for h in by_time.hits} == {"3", "6"}
    by_author = store.search(SearchQuery(authors=["gov1"]))
    assert [h.post.native_id for h in by_author.hits] == ["6"]
    by_root = store.search(SearchQuery(root_ids=["weibo:2"]))
    assert [h.post.native_id for h in by_root.hits] == ["5"]


def test_search_rumor_score_and_incident_filters(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    changed = store.set_post_fields(
        {
            sample_posts[1].id: {"rumor_score": 0.93, "incident_id": "inc-1"},
            sample_posts[0].id: {"rumor_score": 0.2, "incident_id": "inc-1"},
            "weibo:does-not-exist": {"rumor_score": 0.5},
        }
    )
    assert changed == 2
    likely = store.search(SearchQuery(min_rumor_score=0.9))
    assert [h.post.native_id for h in likely.hits] == ["2"]
    unlikely = store.search(SearchQuery(max_rumor_score=0.5))
    assert [h.post.native_id for h in unlikely.hits] == ["1"]
    in_incident = store.search(SearchQuery(incident_ids=["inc-1"], sort="time_asc"))
    assert [h.post.native_id for h in in_incident.hits] == ["1", "2"]
    # a later crawl of the same post must not wipe what the store derived
    store.upsert_posts([sample_posts[1].model_copy(update={"likes": 9})])
    got = store.get_post(sample_posts[1].id)
    assert got is not None and got.rumor_score == 0.93 and got.incident_id == "inc-1"


def test_search_sort_and_pagination(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    newest = store.search(SearchQuery(sort="time", limit=2))
    assert [h.post.native_id for h in newest.hits] == ["4", "3"]
    assert newest.total == len(sample_posts)
    page2 = store.search(SearchQuery(sort="time", limit=2, offset=2))
    assert [h.post.native_id for h in page2.hits] == ["6", "5"]
    oldest = store.search(SearchQuery(sort="time_asc", limit=1))
    assert oldest.hits[0].post.native_id == "1"


def test_default_repost_text_is_stored_but_not_searchable(store: Store) -> None:
    store.upsert_posts(
        [
            make_post("r1", "转发微博", parent_id="weibo:s", root_id="weibo:s"),
            make_post("r2", "轉發微博。", minutes=1),
            make_post("r3", "刚看到的微博：大桥塌了", minutes=2),
        ]
    )
    assert store.count_posts() == 3
    found = store.search(SearchQuery(text="微博", facets=["day", "source"]))
    assert [h.post.native_id for h in found.hits] == ["r3"]
    assert found.total == 1 and found.facets["source"] == [("weibo", 1)]
    assert store.search(SearchQuery(root_ids=["weibo:s"])).total == 1


def test_relevance_and_time_sort_agree_on_the_matches(store: Store) -> None:
    store.upsert_posts([make_post(str(i), f"城管 执法 第{i}次", minutes=i) for i in range(6)])
    since = BASE_TIME + timedelta(minutes=2)
    by_rank = store.search(SearchQuery(text="城管", since=since, limit=10))
    by_time = store.search(SearchQuery(text="城管", since=since, sort="time", limit=10))
    assert by_rank.total == by_time.total == 4
    assert {h.post.native_id for h in by_rank.hits} == {"2", "3", "4", "5"}
    assert [h.post.native_id for h in by_time.hits] == ["5", "4", "3", "2"]
    assert all(h.score is not None for h in by_rank.hits)


def test_fetched_since_finds_posts_collected_late(store: Store) -> None:
    on_time = make_post("a", "按时抓取", minutes=0)
    late = make_post(
        "b", "晚了五小时才抓到", minutes=-300, fetched_at=BASE_TIME + timedelta(minutes=30)
    )
    store.upsert_posts([on_time, late])
    got = store.search(SearchQuery(fetched_since=BASE_TIME + timedelta(minutes=20)))
    assert [h.post.native_id for h in got.hits] == ["b"]
    # a re-crawl moves fetched_at forward: the post is "seen again" after that moment
    store.upsert_posts([on_time.model_copy(update={"fetched_at": BASE_TIME + timedelta(hours=2)})])
    assert store.count_posts(PostFilter(fetched_since=BASE_TIME + timedelta(hours=1))) == 1


def test_relevance_ranks_denser_match_first(store: Store) -> None:
    store.upsert_posts(
        [
            make_post("a", "地铁 地铁 地铁 停运，地铁站关闭", 0),
            make_post("b", "今天天气很好，顺便说一句地铁有点挤，然后去公园散步很久很久", 1),
        ]
    )
    hits = store.search(SearchQuery(text="地铁")).hits
    assert [h.post.native_id for h in hits] == ["a", "b"]
    assert hits[0].score is not None and hits[0].score >= (hits[1].score or 0)


def test_facets(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    result = store.search(SearchQuery(facets=["day", "hour", "source", "region"], limit=0))
    assert result.total == 6 and result.hits == []
    assert dict(result.facets["source"]) == {"weibo": 3, "news": 2, "gov": 1}
    assert dict(result.facets["day"]) == {"2024-05-01": 4, "2024-05-02": 1, "2024-05-03": 1}
    assert dict(result.facets["hour"])["2024-05-01T09:00"] == 3
    assert dict(result.facets["region"]) == {"东城区": 3, "西江区": 1, "南山县": 1}
    filtered = store.search(SearchQuery(text="城管", facets=["source"]))
    assert dict(filtered.facets["source"]) == {"weibo": 2, "gov": 1}


@pytest.mark.parametrize(
    "text",
    ['"', "*", "NEAR(", "a -b", "col:val", "((", ")", "' OR 1=1 --", "AND OR NOT", "^", "", "   "],
)
def test_hostile_queries_never_fail(store: Store, sample_posts: list[Post], text: str) -> None:
    store.upsert_posts(sample_posts)
    result = store.search(SearchQuery(text=text))
    assert result.total >= 0


def test_iter_posts_streams_in_time_order(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    times = [p.created_at for p in store.iter_posts()]
    assert times == sorted(times) and len(times) == 6
    only_news = list(store.iter_posts(PostFilter(sources=["news"])))
    assert [p.native_id for p in only_news] == ["3", "4"]
    matching = list(store.iter_posts(text="城管"))
    assert {p.native_id for p in matching} == {"1", "2", "6"}
    assert store.count_posts(PostFilter(sources=["weibo"])) == 3


def test_snapshots_are_appended_once(store: Store) -> None:
    at = BASE_TIME
    snaps = [
        MetricSnapshot(post_id="weibo:1", observed_at=at, reposts=1),
        MetricSnapshot(post_id="weibo:1", observed_at=at + timedelta(hours=1), reposts=40),
        MetricSnapshot(post_id="weibo:2", observed_at=at, reposts=2),
    ]
    assert store.add_snapshots(snaps) == 3
    assert store.add_snapshots(snaps[:1]) == 0
    got = store.get_snapshots(["weibo:1"])
    assert [s.reposts for s in got] == [1, 40]
    later = store.get_snapshots(["weibo:1", "weibo:2"], since=at + timedelta(minutes=30))
    assert [(s.post_id, s.reposts) for s in later] == [("weibo:1", 40)]


def test_records_optimistic_concurrency(store: Store) -> None:
    incident = store.save_record(Incident(id="inc-1", title="东城区城管执法冲突"))
    assert incident.version == 1
    alice = store.get_record(Incident, "inc-1")
    bob = store.get_record(Incident, "inc-1")
    assert alice is not None and bob is not None
    alice.title = "东城区城管执法冲突（已核实）"
    saved = store.save_record(alice)
    assert saved.version == 2
    bob.title = "别的标题"
    with pytest.raises(ConflictError) as info:
        store.save_record(bob)
    assert "changed by someone else" in str(info.value)
    stored = store.get_record(Incident, "inc-1")
    assert stored is not None and stored.title == "东城区城管执法冲突（已核实）"
    with pytest.raises(ConflictError):  # creating an id that exists is a conflict too
        store.save_record(Incident(id="inc-1"))


def test_records_list_and_count(store: Store) -> None:
    store.save_record(Alert(id="a1", incident_id="inc-1", tier=Tier.II, rule="heat>80"))
    store.save_record(Alert(id="a2", incident_id="inc-2", tier=Tier.I, rule="stability"))
    store.save_record(Bulletin(id="b1", incident_id="inc-1", title="情况通报"))
    assert store.count_records(Alert) == 2
    assert [a.id for a in store.list_records(Alert, incident_id="inc-2")] == ["a2"]
    assert [a.id for a in store.list_records(Alert, tier=Tier.II)] == ["a1"]
    assert store.get_record(Bulletin, "b1") is not None
    assert store.get_record(Alert, "b1") is None


def test_save_records_saves_several_records_together(store: Store) -> None:
    """Alerting stores an outbox message with the alert change that caused it."""
    from models import OutboxMessage

    when = BASE_TIME
    alert = Alert(id="a1", incident_id="inc-1", tier=Tier.II, rule="heat>60")
    msg = OutboxMessage(
        id="k1", channel="duty", alert_id="a1", revision=1, event="created", enqueued_at=when
    )
    saved = store.save_records([msg, alert])
    assert [r.version for r in saved] == [1, 1]
    assert store.get_record(OutboxMessage, "k1") is not None
    # The same message twice (same idempotency key) is a conflict: never queued twice.
    with pytest.raises(ConflictError):
        store.save_records([msg])
    if store.backend == "sqlite":  # one transaction: a conflict saves none of them
        fresh = OutboxMessage(
            id="k2", channel="duty", alert_id="a1", revision=2, event="escalated", enqueued_at=when
        )
        with pytest.raises(ConflictError):
            store.save_records([fresh, alert])  # alert is stale (version 0, stored 1)
        assert store.get_record(OutboxMessage, "k2") is None


def test_state(store: Store) -> None:
    assert store.get_state("cursor:weibo") is None
    store.set_state("cursor:weibo", {"since_id": "123", "n": 4})
    store.set_state("cursor:weibo", {"since_id": "456", "n": 5})
    assert store.get_state("cursor:weibo") == {"since_id": "456", "n": 5}


def test_stats(store: Store, sample_posts: list[Post]) -> None:
    store.upsert_posts(sample_posts)
    store.save_record(Incident(id="inc-1"))
    figures = store.stats()
    assert figures["posts"] == 6 and figures["incidents"] == 1 and figures["alerts"] == 0
    assert figures["per_source"] == {"gov": 1, "news": 2, "weibo": 3}


def test_update_state_loses_no_change_between_writers(store: Store) -> None:
    """``update_state`` is a read-modify-write that no concurrent writer can interleave:
    eight threads adding 25 each leave 200; ``None`` deletes the key."""
    import threading

    def add(value: int | None) -> int:
        return (value or 0) + 1

    def work() -> None:
        for _ in range(25):
            store.update_state("counter", add)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get_state("counter") == 200
    assert store.update_state("counter", lambda v: None) is None
    assert store.get_state("counter") is None
    assert store.update_state("fresh", lambda v: ["a"] if v is None else [*v, "b"]) == ["a"]
    assert store.update_state("fresh", lambda v: ["a"] if v is None else [*v, "b"]) == ["a", "b"]
