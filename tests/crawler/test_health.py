"""Source health evaluation (pure: no crawl, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.health import SourceHealth, evaluate, merge_previous

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


def test_read_health_re_evaluates_and_knows_never_crawled() -> None:
    from models import Source

    class Store:
        def __init__(self) -> None:
            self.state = {"source_health:s": health().model_dump(mode="json")}

        def get_state(self, key: str) -> object:
            return self.state.get(key)

    from crawler.health import read_health

    source = Source(name="s", kind="feed")
    assert read_health(Store(), source, NOW).healthy
    assert not read_health(Store(), source, NOW + timedelta(hours=3)).healthy  # stale now
    never = read_health(Store(), Source(name="t", kind="feed"), NOW)
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
