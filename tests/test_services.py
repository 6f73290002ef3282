"""The service layer on a real SQLite store, without the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from models import Incident
from store import PostFilter
from store.config import StoreConfig
from store.factory import open_store
from tests.conftest import make_post
from tingfeng.services import ServiceError
from tingfeng.services.export import CSV_COLUMNS, check_output_path, export_posts
from tingfeng.services.incidents import list_incidents
from tingfeng.services.search import ParsedQuery, SearchRequest, parse_query, search_posts
from tingfeng.services.stats import store_stats

TEXTS = [
    "柳湾社区今天停水，物业说明天恢复",
    "柳湾社区停电了，停水也还没恢复",
    "停电通知：柳湾社区 周五检修",
    "柳湾小学门口交通拥堵",
    "网传柳湾社区水源污染，停水是因为这个？",
]


@pytest.fixture
def store(tmp_path: Path):
    with open_store(StoreConfig(path=tmp_path / "s.db")) as s:
        s.upsert_posts(
            make_post(str(i), text, minutes=60 * i, region_tags=["柳湾"] if i in (1, 4) else [])
            for i, text in enumerate(TEXTS)
        )
        yield s


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("柳湾 停水", ParsedQuery(words=["柳湾", "停水"])),
        ('"停电 通知" 柳湾', ParsedQuery(words=["柳湾"], phrases=["停电 通知"])),
        ("停水 -停电 -“水源污染”", ParsedQuery(words=["停水"], excluded=["停电", "水源污染"])),
        ('地铁 *(:"', ParsedQuery(words=["地铁", "*(:"])),  # a lone quote is a character
        ("-", ParsedQuery(words=["-"])),
    ],
)
def test_parse_query(text: str, expected: ParsedQuery) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    ("text", "message"), [("停水 OR 停电", "不支持 OR"), ("-停水", "只有排除词")]
)
def test_refused_queries(text: str, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        parse_query(text)


def test_plain_search_is_the_stores(store) -> None:
    page = search_posts(store, SearchRequest(text="柳湾 停水", limit=2, sort="time_asc"))
    assert page.total == 3 and (page.first, page.last) == (1, 2)
    assert [h.post.native_id for h in page.hits] == ["0", "1"]
    assert dict(page.facets["source"]) == {"weibo": 3}


def test_phrases_and_exclusions_page_and_facet_the_kept_posts(store) -> None:
    page = search_posts(store, SearchRequest(text="停水 -停电", sort="time_asc"))
    assert [h.post.native_id for h in page.hits] == ["0", "4"]
    assert page.total == 2 and page.facets["region"] == [("柳湾", 1)]
    assert page.facets["day"] == [("2024-05-01", 2)]
    second = search_posts(store, SearchRequest(text="停水 -停电", sort="time_asc", offset=1))
    assert [h.post.native_id for h in second.hits] == ["4"] and second.first == 2
    phrase = search_posts(store, SearchRequest(text="“停电通知”"))
    assert [h.post.native_id for h in phrase.hits] == ["2"]
    assert "<mark>" in phrase.hits[0].snippet


def test_export_and_stats(store, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    assert export_posts(store, buffer, fmt="csv", flt=PostFilter(), query="停水") == 3
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert rows[0] == CSV_COLUMNS and len(rows) == 4
    with pytest.raises(ServiceError, match="是文件夹"):
        check_output_path(tmp_path)
    with pytest.raises(ServiceError, match="不存在"):
        check_output_path(tmp_path / "nope" / "x.csv")
    with pytest.raises(ServiceError, match="应为 jsonl 或 csv"):
        export_posts(store, buffer, fmt="xml")  # type: ignore[arg-type]
    stats = store_stats(store)
    assert stats.posts == 5 and stats.per_source == {"weibo": 5} and stats.backend == "sqlite"


def test_incidents_by_heat(store) -> None:
    for i, heat in enumerate([3.0, 9.0, 1.0]):
        store.save_record(Incident(id=f"inc-{i}", title=f"事件{i}", heat=heat, hot=heat > 2))
    listing = list_incidents(store, limit=2)
    assert listing.total == 3 and [r.id for r in listing.data] == ["inc-1", "inc-0"]
    assert [r.id for r in list_incidents(store, hot_only=True).data] == ["inc-1", "inc-0"]
