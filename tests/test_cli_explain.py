"""``tingfeng explain --post`` / ``--incident``: a stored post explained with its author
as stored, an incident's score with its claim posts and official responses, and an
unknown id one Chinese line naming it, exit 2."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from models import Author, Incident, Post
from store.sqlite import SQLiteStore
from tests.api.factory import T0
from tests.cli import run_main

RUMOR = "网传龙潭水库今晚开闸泄洪，白石镇要被淹了，大家赶紧转移！！！转起来"
DENIAL = "网传龙潭水库开闸泄洪系谣言，水库水位正常，请勿信谣传谣。"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("explain")
    (tmp / "tingfeng.yaml").write_text(
        "store:\n  path: t.db\noffice:\n  accounts: ['gov-1']\n", "utf-8"
    )
    posts = [
        Post(source="wb", native_id="1", text=RUMOR, created_at=T0, rumor_score=0.93,
             author=Author(id="u1", name="山里人", followers=12, friends=300, posts=40,
                           created_at=T0 - timedelta(days=20))),
        Post(source="wb", native_id="2", text=DENIAL, created_at=T0 + timedelta(hours=1),
             author=Author(id="gov-1", name="南山县发布", verified=True, verified_type=1,
                           followers=80000)),
        Post(source="wb", native_id="3", text="转发微博", created_at=T0 + timedelta(minutes=5),
             kind="repost", parent_id="wb:1", root_id="wb:1", author=Author(id="u2")),
    ]  # fmt: skip
    with SQLiteStore(tmp / "t.db") as store:
        store.upsert_posts(posts)
        store.save_record(
            Incident(id="inc-1", title="龙潭水库开闸谣言", root_ids=["wb:1", "wb:2"],
                     first_seen=T0, last_seen=T0 + timedelta(hours=1), rumor_score=0.9)
        )  # fmt: skip
    return tmp


def _json(home: Path, *args: str) -> dict:
    proc = run_main("explain", *args, cwd=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_stored_post_is_explained_with_its_author_as_stored(home: Path) -> None:
    out = _json(home, "--post", "wb:1")
    assert out["post"]["id"] == "wb:1" and out["post"]["stored_rumor_score"] == 0.93
    assert out["post"]["author"]["followers"] == 12
    assert out["probability"] is not None
    assert "author" not in out["missing"]  # the stored profile is used, unlike --text
    assert out["reposts_used"] == 1
    text = _json(home, "--text", RUMOR)
    assert "author" in text["missing"]


def test_a_repost_is_explained_by_its_thread_s_source(home: Path) -> None:
    out = _json(home, "--post", "wb:3")
    assert out["post"]["id"] == "wb:3" and out["thread_source"]["id"] == "wb:1"


def test_an_incident_shows_claims_official_responses_and_why(home: Path) -> None:
    out = _json(home, "--incident", "inc-1")
    assert out["incident"]["id"] == "inc-1" and out["incident"]["title"] == "龙潭水库开闸谣言"
    assert out["score"] == 0.93  # a denied claim: at least the floor, here its own score
    assert out["claim_post_ids"] == ["wb:1"] and out["official_post_ids"] == ["wb:2"]
    assert out["denial_post_ids"] == ["wb:2"]
    assert out["claim_posts"][0]["text"] == RUMOR
    assert out["official_posts"][0]["author"]["name"] == "南山县发布"
    assert any("官方已辟谣" in r for r in out["reasons"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--post", "wb:99"), "错误：--post：没有编号为 'wb:99' 的帖子"),
        (("--incident", "inc-404"), "错误：--incident：没有编号为 'inc-404' 的事件"),
        (("--post", "wb:1", "--incident", "inc-1"), "错误：--post、--incident 只能选一个"),
    ],
)
def test_unknown_ids_and_two_choices_are_one_chinese_line(
    home: Path, args: tuple[str, ...], expected: str
) -> None:
    proc = run_main("explain", *args, cwd=home)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(expected), proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
