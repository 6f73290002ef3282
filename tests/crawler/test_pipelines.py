"""The item pipelines one by one, and bad input: never a crash, always a count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import PostItem
from crawler.pipelines.boilerplate import BoilerplatePipeline
from crawler.pipelines.dedup import DedupPipeline
from crawler.pipelines.normalise import NormalisePipeline
from crawler.pipelines.region import RegionPipeline
from crawler.pipelines.store import StorePipeline
from crawler.pipelines.validate import ValidatePipeline, parse_count
from crawler.registry import spider_for
from crawler.storage import close_all
from tests.crawler.conftest import FETCHED, GAZETTEER, WWW

RAIN = (
    "5月27日晚，青川市遭遇今年入汛以来最强降雨，西江区滨江路、江北街道一带部分路段积水超过半米，"
    "多辆汽车被困。市消防救援支队接警后迅速出动。"
)


def crawler_with(settings: dict[str, Any] | None = None, **source: Any):
    crawler = get_crawler(spider_for("feed"), settings or {})
    crawler.spider = crawler.spidercls.from_crawler(
        crawler, source={"name": "src", "kind": "feed", "settings": {"urls": ["x"]}, **source}
    )
    return crawler


def item(**fields: Any) -> PostItem:
    base: dict[str, Any] = {
        "source": "src",
        "native_id": "1",
        "html": "<p>正文</p>",
        "created_at": "2026-05-28 08:00",
        "fetched_at": FETCHED,
    }
    return PostItem(**{**base, **fields})


def problems(crawler: Any) -> dict[str, int]:
    prefix = "tingfeng/problems/"
    return {
        k[len(prefix) :]: v for k, v in crawler.stats.get_stats().items() if k.startswith(prefix)
    }


@pytest.fixture
def validate() -> ValidatePipeline:
    return ValidatePipeline(crawler_with())


def test_dates_become_aware(validate: ValidatePipeline) -> None:
    out = validate.process_item(item(created_at="昨天 12:30"))
    assert out.created_at == datetime(2026, 5, 27, 4, 30, tzinfo=UTC)


def test_future_date_is_counted_and_replaced(validate: ValidatePipeline) -> None:
    out = validate.process_item(item(created_at="2099-12-31 23:59"))
    assert out.created_at == FETCHED
    assert out.extra["raw_created_at"] == "2099-12-31 23:59"
    assert problems(validate.crawler) == {"date_future": 1}


def test_1970_is_counted_and_replaced(validate: ValidatePipeline) -> None:
    out = validate.process_item(item(created_at=0))
    assert out.created_at == FETCHED and out.extra["created_at_estimated"] is True
    assert problems(validate.crawler) == {"date_too_old": 1}


def test_missing_and_unreadable_dates_are_counted(validate: ValidatePipeline) -> None:
    validate.process_item(item(created_at=None))
    validate.process_item(item(created_at="某天下午"))
    assert problems(validate.crawler) == {"date_missing": 1, "date_unparsed": 1}


def test_a_little_clock_skew_is_tolerated(validate: ValidatePipeline) -> None:
    skewed = FETCHED + timedelta(minutes=5)
    assert validate.process_item(item(created_at=skewed)).created_at == skewed


def test_missing_id_is_derived_from_the_url(validate: ValidatePipeline) -> None:
    out = validate.process_item(item(native_id=None, url="http://x/a.html"))
    assert out.native_id and out.native_id.startswith("u")
    assert problems(validate.crawler) == {"missing_id": 1}


def test_no_id_and_no_url_is_dropped(validate: ValidatePipeline) -> None:
    with pytest.raises(DropItem, match="missing_id"):
        validate.process_item(item(native_id=None, url=None))


def test_no_text_is_dropped_except_for_reposts(validate: ValidatePipeline) -> None:
    with pytest.raises(DropItem, match="missing_text"):
        validate.process_item(item(html=None, text=None, title=None))
    assert validate.process_item(item(html=None, kind="repost")).kind == "repost"


def test_unknown_kind_becomes_post(validate: ValidatePipeline) -> None:
    assert validate.process_item(item(kind="tweet")).kind == "post"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (12, 12),
        ("1,234", 1234),
        ("1.2万", 12000),
        ("100万+", 1_000_000),
        ("", 0),
        (None, 0),
        ("很多", None),
        (-1, None),
    ],
)
def test_counts(raw: object, value: int | None) -> None:
    assert parse_count(raw) == value


def test_bad_counts_are_counted_and_zeroed(validate: ValidatePipeline) -> None:
    out = validate.process_item(
        item(reposts="很多", author={"followers": "abc", "name": "作者：李明"})
    )
    assert out.reposts == 0 and "followers" not in out.author
    assert out.author["name"] == "李明"
    assert problems(validate.crawler) == {"bad_count": 2}


def test_normalise_makes_text_and_lists_links_and_emoticons() -> None:
    step = NormalisePipeline(crawler_with())
    out = step.process_item(
        item(
            html='滨江路<img alt="[泪]"> 详情 <a href="http://t.cn/A6x">网页链接</a>',
            title="  <b>标题</b> ",
        )
    )
    assert out.text == "滨江路[泪] 详情 http://t.cn/A6x"
    assert out.title == "标题" and out.html is None
    assert out.extra["emoticons"] == ["[泪]"] and out.extra["links"] == ["http://t.cn/A6x"]


def test_markup_with_no_text_is_dropped() -> None:
    with pytest.raises(DropItem, match="empty_after_markup"):
        NormalisePipeline(crawler_with()).process_item(item(html="<script>x</script><br>"))


def test_binary_junk_does_not_crash() -> None:
    out = NormalisePipeline(crawler_with()).process_item(item(html="\x00\x01<p>字</p>\ufffd"))
    assert "字" in out.text


def test_boilerplate_step_strips_a_real_article() -> None:
    html = (WWW / "news/2026/1003.html").read_text("utf-8")
    it = NormalisePipeline(crawler_with()).process_item(item(html=html))
    out = BoilerplatePipeline(crawler_with()).process_item(it)
    assert "首付" not in out.text and "相关阅读" not in out.text
    assert "龙潭水库" in out.text and out.extra["stripped"]


def test_only_boilerplate_is_dropped() -> None:
    with pytest.raises(DropItem, match="only_boilerplate"):
        BoilerplatePipeline(crawler_with()).process_item(
            item(text="版权所有 © 青川新闻网 蜀ICP备12345678号", title=None)
        )


def test_dedup_links_copies_and_drops_repeats_of_one_id() -> None:
    step = DedupPipeline(crawler_with())
    step.open_spider()
    step.process_item(item(native_id="a", text=RAIN))
    copy = step.process_item(item(native_id="b", text=RAIN + "（来源：青川日报）"))
    exact = step.process_item(item(native_id="c", text=RAIN))
    other = step.process_item(
        item(native_id="d", text="南山县白石镇今年脐橙大丰收，果农笑开颜，收购价比去年高两成。")
    )
    assert copy.near_duplicate_of == "src:a" and copy.extra["similarity"] >= 0.7
    assert exact.near_duplicate_of == "src:a" and exact.extra["similarity"] == 1.0
    assert other.near_duplicate_of is None
    with pytest.raises(DropItem, match="duplicate_id"):
        step.process_item(item(native_id="a", text=RAIN))


def test_short_texts_are_not_compared() -> None:
    step = DedupPipeline(crawler_with())
    step.open_spider()
    step.process_item(item(native_id="a", text="顶"))
    assert step.process_item(item(native_id="b", text="顶")).near_duplicate_of is None


def test_region_from_text_parent_or_source() -> None:
    step = RegionPipeline(crawler_with({"TINGFENG_GAZETTEER": GAZETTEER}, region="东城区"))
    thread = step.process_item(item(native_id="t", text="白石镇要被淹了？"))
    reply = step.process_item(item(native_id="r", text="真的假的", parent_native_id="t"))
    lone = step.process_item(item(native_id="x", text="今天天气不错"))
    assert thread.region_tags == ["南山县"]
    assert reply.region_tags == ["南山县"]
    assert lone.region_tags == ["东城区"]


def test_store_batches_and_snapshots(tmp_path: Path) -> None:
    settings = {"TINGFENG_STORE": {"path": str(tmp_path / "t.db")}, "TINGFENG_STORE_BATCH": 2}
    try:
        step = StorePipeline(crawler_with(settings))
        step.open_spider()
        for n in range(3):
            it = ValidatePipeline(step.crawler).process_item(
                item(native_id=str(n), text=f"第{n}条")
            )
            step.process_item(it)
        assert step.store is not None and step.store.count_posts() == 2  # one full batch
        step.close_spider()
        assert step.store.count_posts() == 3
        assert len(step.store.get_snapshots(["src:0", "src:1", "src:2"])) == 3
        assert step.crawler.stats.get_value("tingfeng/items/new") == 3
    finally:
        close_all()


def test_invalid_post_is_dropped_with_reason(tmp_path: Path) -> None:
    step = StorePipeline(crawler_with())
    bad = item(text="x", created_at=FETCHED, reposts=-5)
    with pytest.raises(DropItem, match="invalid"):
        step.process_item(bad)
    assert problems(step.crawler) == {"invalid": 1}


def test_derived_ids_keep_entries_of_one_page_apart(validate: ValidatePipeline) -> None:
    a = validate.process_item(item(native_id=None, url="http://x/api", html="第一条"))
    b = validate.process_item(item(native_id=None, url="http://x/api", html="第二条"))
    again = validate.process_item(item(native_id=None, url="http://x/api", html="第一条"))
    assert a.native_id != b.native_id and a.native_id == again.native_id


# -- relative dates and the reference clock ------------------------------------------------
def test_relative_dates_count_from_the_http_date() -> None:
    step = ValidatePipeline(crawler_with())
    served = datetime(2026, 6, 12, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    later = served + timedelta(minutes=30)
    out = step.process_item(item(created_at="3 小时前", served_at=served, fetched_at=later))
    assert out.created_at == served - timedelta(hours=3)
    out = step.process_item(item(created_at="昨天 22:10", served_at=served, fetched_at=later))
    assert out.created_at.isoformat() == "2026-06-11T22:10:00+08:00"


def test_without_a_date_header_the_fetch_time_or_the_clock() -> None:
    out = ValidatePipeline(crawler_with()).process_item(item(created_at="5分钟前"))
    assert out.created_at == FETCHED - timedelta(minutes=5)
    clock = ValidatePipeline(crawler_with({"TINGFENG_NOW": "2026-06-12T23:00:00+08:00"}))
    bare = item(created_at="刚刚")
    bare.fetched_at = None
    out = clock.process_item(bare)
    assert out.fetched_at.isoformat() == "2026-06-12T23:00:00+08:00" == out.created_at.isoformat()


def test_a_post_after_the_reference_clock_is_left_out() -> None:
    crawler = crawler_with({"TINGFENG_NOW": "2026-06-12T20:00:00+08:00"})
    clock = datetime.fromisoformat("2026-06-12T20:00:00+08:00")
    with pytest.raises(DropItem, match=r"after_clock: .* written 2026-06-12T20:01:00"):
        ValidatePipeline(crawler).process_item(
            item(created_at="2026-06-12 20:01", fetched_at=clock)
        )
    assert problems(crawler) == {"after_clock": 1}
    on_time = ValidatePipeline(crawler).process_item(
        item(created_at="2026-06-12 20:00", fetched_at=clock)
    )
    assert on_time.created_at == clock
    far = ValidatePipeline(crawler).process_item(
        item(created_at="2099-12-31 23:59", fetched_at=clock)
    )
    assert far.created_at == clock and far.extra["created_at_estimated"] is True
