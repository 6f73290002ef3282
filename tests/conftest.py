"""Shared fixtures: sample posts and paths to the shared data."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from models import SHANGHAI, Author, Post

ROOT = Path(__file__).resolve().parent.parent
CED_DIR = ROOT.parent / "shared" / "datasets" / "ced"
FILES = Path(__file__).resolve().parent / "files"


@pytest.fixture
def ced_dir() -> Path:
    if not (CED_DIR / "original-microblog").is_dir():
        pytest.skip(f"CED dataset not found at {CED_DIR} (../shared beside the repo)")
    return CED_DIR


BASE_TIME = datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI)


def make_post(native_id: str, text: str, minutes: int = 0, **kw: object) -> Post:
    data: dict[str, object] = {
        "source": "weibo",
        "native_id": native_id,
        "text": text,
        "created_at": BASE_TIME + timedelta(minutes=minutes),
        "fetched_at": BASE_TIME + timedelta(minutes=minutes + 5),
        "author": Author(id=f"u{native_id}", name=f"用户{native_id}"),
    }
    data.update(kw)
    return Post.model_validate(data)


@pytest.fixture
def sample_posts() -> list[Post]:
    return [
        make_post(
            "1", "青川市东城区人民医院门口发生纠纷，现场有城管执法", 0, region_tags=["东城区"]
        ),
        make_post("2", "网传东城区城管打死小贩，真的吗？求证", 30, region_tags=["东城区"]),
        make_post(
            "3",
            "西江区暴雨导致地铁三号线停运，市民注意出行安全",
            60 * 26,
            source="news",
            region_tags=["西江区"],
        ),
        make_post(
            "4",
            "南山县食品安全抽检结果公布，全部合格",
            60 * 50,
            source="news",
            region_tags=["南山县"],
        ),
        make_post("5", "", 45, kind="repost", parent_id="weibo:2", root_id="weibo:2"),
        make_post(
            "6",
            "辟谣：东城区城管与小贩发生肢体冲突，无人死亡",
            120,
            source="gov",
            author=Author(id="gov1", name="青川发布", verified=True, followers=1_200_000),
            region_tags=["东城区"],
        ),
    ]
