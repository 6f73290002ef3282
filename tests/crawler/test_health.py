"""Source health evaluation (pure: no crawl, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.health import SourceHealth, evaluate, merge_previous, read_health
from models import SHANGHAI, Post, Source
from store.sqlite import SQLiteStore

NOW = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)


def health(**fields: object) -> SourceHealth:
    base = {
        "source": "s",
        "pages": 3,
        "pages_ok": 3,
        "first_crawl_at": NOW,
        "last_new_item_at": NOW - timedelta(minutes=10),
        "expect_new_within_minutes": 120,
    }
    return SourceHealth.model_validate({**base, **fields})


def test_working_source_is_healthy() -> None:
    assert evaluate(health(), NOW).healthy


def test_login_wall_is_unhealthy_with_reason() -> None:
    h = evaluate(health(errors={"blocked_login": 1}, blocked="http://x：页面提示“请先登录”"), NOW)
    assert not h.healthy and h.code == "blocked"
    assert h.reason == "被拦截：登录墙（http://x：页面提示“请先登录”）"


def test_captcha_and_432() -> None:
    assert evaluate(health(errors={"blocked_captcha": 1}), NOW).reason == "被拦截：验证码"
    assert evaluate(health(errors={"blocked_432": 2}), NOW).reason == "被拦截：HTTP 432 反爬"


def test_only_errors() -> None:
    h = evaluate(health(pages=4, pages_ok=0, errors={"http_500": 2, "timeout": 2}), NOW)
    assert h.code == "only_errors" and h.reason == "只有错误：HTTP 500×2、超时×2"
    refused = evaluate(health(pages=1, pages_ok=0, errors={"connection_refused": 1}), NOW)
    assert refused.reason == "只有错误：连接被拒绝×1"


def test_some_errors_are_fine() -> None:
    assert evaluate(health(errors={"timeout": 1}), NOW).healthy


def test_nothing_new_for_longer_than_expected() -> None:
    h = evaluate(health(last_new_item_at=NOW - timedelta(hours=5)), NOW)
    assert not h.healthy and h.code == "stale"
    assert h.reason == "停滞：5.0 小时没有新帖（应在 2.0 小时内有新帖）"


def test_never_a_new_item() -> None:
    h = evaluate(health(last_new_item_at=None, first_crawl_at=NOW - timedelta(days=3)), NOW)
    assert h.code == "never_new" and h.reason and "从未有新帖" in h.reason


def test_previous_facts_carry_over() -> None:
    old = health(
        last_new_item_at=NOW - timedelta(hours=1), first_crawl_at=NOW - timedelta(days=9), crawls=7
    ).model_dump(mode="json")
    h = merge_previous(health(last_new_item_at=None, crawls=1), old)
    assert h.crawls == 8
    assert h.first_crawl_at == NOW - timedelta(days=9)
    assert h.last_new_item_at == NOW - timedelta(hours=1)


def test_read_health_re_evaluates_and_knows_never_crawled(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "t.db") as store:
        store.set_state("source_health:s", health().model_dump(mode="json"))
        source = Source(name="s", kind="feed")
        assert read_health(store, source, NOW).healthy
        assert not read_health(store, source, NOW + timedelta(hours=3)).healthy  # stale now
        never = read_health(store, Source(name="t", kind="feed"), NOW)
    assert not never.healthy and never.code == "never_crawled" and never.reason == "从未采集"


def test_an_endpoint_that_keeps_failing_is_unhealthy() -> None:
    from crawler.health import endpoint_counts

    endpoints = endpoint_counts(
        {"timeline/ok": 3, "comments/failed/http_404": 5, "parse_detail/ok": 40,
         "parse_detail/failed/timeout": 1}
    )  # fmt: skip
    h = evaluate(health(endpoints=endpoints), NOW)
    assert not h.healthy
    assert h.code == "failing_endpoint"
    assert h.reason == "部分页面类型采集失败：评论（comments）5 次请求中 5 次失败（HTTP 404×5）"
    # One timeout among forty articles is weather, not a broken endpoint.
    del endpoints["comments"]
    assert evaluate(health(endpoints=endpoints), NOW).healthy


def test_an_api_error_answer_counts_as_a_failure_not_an_answer() -> None:
    from crawler.health import endpoint_counts

    e = endpoint_counts({"reposts/ok": 1, "reposts/failed/api_error": 3})["reposts"]
    assert (e.ok, e.failed, e.errors) == (1, 3, {"api_error": 3})
    assert not evaluate(health(endpoints={"reposts": e}), NOW).healthy


#: A small forum's week: two posts an hour from 09:00 to 22:59, nothing at night.
DAY0 = datetime(2026, 3, 10, tzinfo=SHANGHAI)


def _forum_week(store: SQLiteStore, days: int = 8) -> None:
    posts = [
        Post(source="s", native_id=f"{d}-{h}-{m}", kind="reply", text=f"码头第{d}天{h}点的帖子",
             created_at=DAY0 + timedelta(days=d, hours=h, minutes=m))
        for d in range(days) for h in range(9, 23) for m in (10, 40)
    ]  # fmt: skip
    store.upsert_posts(posts)


def _silent(store: SQLiteStore, since: datetime, **fields: object) -> None:
    """The source's record: watched for 8 days, the last new item at ``since``."""
    record = health(first_crawl_at=DAY0, last_new_item_at=since, **fields)
    store.set_state("source_health:s", record.model_dump(mode="json"))


def test_a_quiet_night_is_not_stale_but_the_same_silence_at_noon_is(tmp_path: Path) -> None:
    source = Source(name="s", kind="site")
    with SQLiteStore(tmp_path / "t.db") as store:
        _forum_week(store)
        # The last reply at 22:50; at 07:00 the forum has been silent 8 h 10 min, four
        # times its 2-hour limit, and that is every night of its week.
        night = DAY0 + timedelta(days=7, hours=22, minutes=50)
        _silent(store, night)
        h = read_health(store, source, night + timedelta(hours=8, minutes=10))
        assert h.healthy, h.reason
        # The same forum silent from 13:00 to 16:20: about six replies were due.
        noon = DAY0 + timedelta(days=7, hours=13)
        _silent(store, noon)
        h = read_health(store, source, noon + timedelta(hours=3, minutes=20))
        assert not h.healthy and h.code == "stale"
        assert h.reason == "停滞：3 小时 20 分没有新帖（按近 7 天同时段，此时段应有约 6 帖）"
        # Within the limit (the crawl cadence) a busy afternoon is no alarm either.
        assert read_health(store, source, noon + timedelta(minutes=110)).healthy
        # A night that never ends is stale all the same: 30 hours of silence.
        h = read_health(store, source, noon + timedelta(hours=30))
        assert h.code == "stale" and h.reason and h.reason.startswith("停滞：30 小时没有新帖")


def test_without_enough_history_the_configured_limit_decides(tmp_path: Path) -> None:
    source = Source(name="s", kind="site")
    with SQLiteStore(tmp_path / "t.db") as store:
        _forum_week(store, days=1)  # one day watched: too little
        night = DAY0 + timedelta(hours=22, minutes=50)
        store.set_state("source_health:s", health(
            first_crawl_at=DAY0, last_new_item_at=night).model_dump(mode="json"))  # fmt: skip
        h = read_health(store, source, night + timedelta(hours=8, minutes=10))
    assert h.code == "stale"
    assert h.reason == "停滞：8.2 小时没有新帖（应在 2.0 小时内有新帖）"
