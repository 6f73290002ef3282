from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models import SHANGHAI, Incident, MetricSnapshot, Post, make_post_id


def test_id_is_derived_from_source_and_native_id() -> None:
    post = Post(source="weibo", native_id="Ab12", text="你好", created_at=datetime(2024, 1, 1))
    assert post.id == "weibo:Ab12" == make_post_id("weibo", "Ab12")


def test_naive_times_are_shanghai_and_aware_kept() -> None:
    post = Post(source="s", native_id="1", text="x", created_at="2024-01-01 08:00:00")
    assert post.created_at.tzinfo == SHANGHAI and post.created_at.hour == 8
    utc = Post(source="s", native_id="1", text="x", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert utc.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert post.fetched_at.tzinfo is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"native_id": "1", "text": "x", "created_at": "2024-01-01"}, "source"),
        (
            {"source": "s", "native_id": "1", "text": "x", "created_at": "yesterday-ish"},
            "created_at",
        ),
        (
            {
                "source": "s",
                "native_id": "1",
                "text": "x",
                "created_at": "2024-01-01",
                "reposts": -3,
            },
            "reposts",
        ),
        (
            {
                "source": "s",
                "native_id": "1",
                "text": "x",
                "created_at": "2024-01-01",
                "reposts": "many",
            },
            "reposts",
        ),
        ({"source": "s", "native_id": "1", "text": "  ", "created_at": "2024-01-01"}, "text"),
        (
            {
                "source": "s",
                "native_id": "1",
                "text": "x",
                "created_at": "2024-01-01",
                "rumor_score": 2,
            },
            "rumor_score",
        ),
    ],
)
def test_validation_error_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises((ValidationError, ValueError)) as info:
        Post.model_validate(data)
    assert field in str(info.value)


def test_reposts_may_be_empty() -> None:
    post = Post(source="s", native_id="r", kind="repost", text="", created_at="2024-01-01")
    assert post.text == ""


def test_snapshot_and_incident_defaults() -> None:
    snap = MetricSnapshot(post_id="s:1", observed_at="2024-01-01T00:00:00", reposts=3)
    assert snap.observed_at.tzinfo == SHANGHAI
    assert Incident(id="i").version == 0


def test_an_incident_change_reads_in_chinese() -> None:
    """Users never see Python values: the hot state is 否/是, an opening has no 「None →」."""
    from datetime import datetime

    from models import SHANGHAI
    from models.records import IncidentChange

    at = datetime(2026, 12, 2, 20, 30, tzinfo=SHANGHAI)
    assert IncidentChange(at=at, change="hot", old=False, new=True).shift_zh() == "否 → 是"
    opened = IncidentChange(at=at, change="opened", old=None, new="化工园异味")
    assert opened.shift_zh() == "化工园异味"
    band = IncidentChange(at=at, change="rumor_band", old="中", new="高")
    assert band.shift_zh() == "中 → 高"


def test_a_burst_reason_says_the_chance_in_words() -> None:
    from nlp.heat import chance

    assert chance(5.6e-35) == "不到百万分之一"
    assert chance(2.2e-6) == "约百万分之2"
    assert chance(5.8e-5) == "约十万分之6"
    assert chance(0.0031) == "约千分之3"
    assert chance(0.3) == "约 30%"
