"""Rumor scores on local posts: missing data is not evidence, short texts are not scored,
official accounts are never rumors, and the shipped model holds on a city it never saw."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from models import Author, Post
from nlp.rumor.explain import explain
from nlp.rumor.features import NUMERIC_INDEX, RumorInput, post_text, prepare, too_short
from nlp.rumor.incident import DENIED_FLOOR, OfficeAccounts, score_incident
from nlp.rumor.local import LocalSetError, evaluate_local, load_local
from nlp.rumor.model import RumorModel, load_model
from tests.conftest import BASE_TIME
from tingfeng.cli import app

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "nlp" / "data" / "local"
#: The held-out cities: written apart from the training cities, never trained or tuned on.
HELD_OUT = LOCAL / "yunxi.tsv"
#: The second held-out city (2026-12-04), written before the model was changed for it.
HELD_OUT_2 = LOCAL / "heting.tsv"
#: The cities the shipped model is trained on (``tingfeng train --local``).
TRAINING = (LOCAL / "linjiang.tsv", LOCAL / "wangchuan.tsv")
runner = CliRunner()


@pytest.fixture(scope="module")
def shipped() -> RumorModel:
    return load_model()


@pytest.fixture(scope="module")
def held_out():  # type: ignore[no-untyped-def]
    return load_local(HELD_OUT)


def _post(n: int, text: str, *, author: Author | None = None, score: float | None = None,
          source: str = "weibo", **kw: object) -> Post:  # fmt: skip
    return Post(
        source=source, native_id=str(n), text=text, created_at=BASE_TIME,
        author=author or Author(), rumor_score=score, **kw,
    )  # fmt: skip


# -- short texts --------------------------------------------------------------------------------
def test_explain_cli_plain_chatter_and_empty_text() -> None:
    result = runner.invoke(app, ["explain", "--text", "今天天气很好"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["probability"] is not None and out["probability"] < 0.5
    # The missing author is no longer the reason that decides it.
    top = out["toward_rumor"][:1]
    assert not top or top[0]["text"] != "缺少作者信息" or top[0]["weight"] < 1.0

    for text in ("", "   ", "哈哈", "[doge][doge]", "http://t.cn/A6x @某人"):
        result = runner.invoke(app, ["explain", "--text", text])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["probability"] is None and out["reason"] == "文本过短", (text, out)


def test_short_text_rule() -> None:
    assert too_short("") and too_short(None) and too_short("转起来！") and too_short("[蜡烛]雅安")
    assert not too_short("今天天气很好")
    assert not too_short("http://t.cn/a9689L我不是故意的")  # a link does not eat the words
    # The fast path agrees with the full count on links, mentions and emoticons anywhere.
    from nlp.rumor.features import MIN_TEXT_CHARS, meaningful_length

    odd = ["abhttp://t.cn/xyz", "xyt.cn/abc", "ab@someone", "[哈哈哈哈哈]好", "[蜡烛]" * 20]
    odd += ["//@a:网传化工厂爆炸了", "哈哈哈//@abc:网传化工厂爆炸了", "　　　　　abcd", "abcde"]
    for text in odd:
        assert too_short(text) == (meaningful_length(text) < MIN_TEXT_CHARS), text


def test_a_short_source_with_reposts_that_speak_is_scored(shipped: RumorModel) -> None:
    from nlp.rumor.features import RepostLite

    reposts = [
        RepostLite(f"r{i}", None, BASE_TIME + timedelta(minutes=i + 1), "谣言吧，已经辟谣了")
        for i in range(5)
    ]
    inp = RumorInput("s", "转起来！", BASE_TIME, Author(id="a", followers=30), reposts)
    lone, spread = shipped.score([inp], timedelta(0))[0], shipped.score([inp])[0]
    assert lone.probability is None and lone.reason == "文本过短"
    assert spread.probability is not None and spread.reason is None


# -- missing data is not evidence ---------------------------------------------------------------
def test_a_missing_profile_does_not_push_toward_rumor(shipped: RumorModel, held_out) -> None:  # type: ignore[no-untyped-def]
    """The same Weibo posts scored with and without their author's profile: the scores stay
    close, and the reason 缺少作者信息 carries little weight (it carried 8–13 before)."""
    weibo = [p for p in held_out.posts if p.shape == "weibo" and p.has_profile]
    with_profile = [p.input for p in weibo]
    without = [RumorInput(i.source_id, i.text, i.created_at, None) for i in with_profile]
    a = np.array([s.probability for s in shipped.score(with_profile)], dtype=float)
    b = np.array([s.probability for s in shipped.score(without)], dtype=float)
    ordinary = np.array([p.author_kind == "u" for p in weibo])
    # Ordinary users' posts: taking the profile away moves the score little, on average.
    assert abs(float((b - a)[ordinary].mean())) < 0.1
    assert float(np.median(np.abs(b - a)[ordinary])) < 0.15
    for inp in without[:20]:
        out = explain(shipped, inp, top=100)
        for reason in out["toward_rumor"] + out["toward_non_rumor"]:
            if reason["text"] == "缺少作者信息":
                assert abs(reason["weight"]) < 2.0, (inp.text, reason)


def test_missing_source_time_alone_moves_little(shipped: RumorModel, held_out) -> None:  # type: ignore[no-untyped-def]
    inputs = [p.input for p in held_out.posts if p.input.created_at is not None][:80]
    timeless = [RumorInput(i.source_id, i.text, None, i.author) for i in inputs]
    a = np.array([s.probability for s in shipped.score(inputs)], dtype=float)
    b = np.array([s.probability for s in shipped.score(timeless)], dtype=float)
    assert abs(float((b - a).mean())) < 0.1


def test_forum_names_and_titles() -> None:
    """A forum user name is no profile (no zero-follower account); a title is text."""
    thread = _post(1, "听说要拆迁了", author=Author(id="bbs-7", name="老张"), kind="thread",
                   title="南门街道拆迁补偿标准出来了")  # fmt: skip
    assert post_text(thread).startswith("南门街道拆迁补偿标准出来了\n")
    p = prepare(RumorInput.from_posts(thread))
    assert p.static[NUMERIC_INDEX["author_missing"]] == 1.0
    assert p.static[NUMERIC_INDEX["followers"]] == 0.0 and p.vtype == "none"


def test_training_masks_profiles_and_times() -> None:
    from nlp.rumor.training import MASK_AUTHOR_SHARE, Dataset, _stack

    author = Author(id="a", followers=900, friends=100, posts=50, verified_type=-1,
                    created_at=BASE_TIME - timedelta(days=400))  # fmt: skip
    data = Dataset()
    for n in range(200):
        data.event_ids.append(str(n))
        data.labels.append(n % 2 == 0)
        data.prepared.append(prepare(RumorInput(str(n), f"网传{n}号楼起火", BASE_TIME, author)))
    x, y, owner = _stack(data)
    masked = x[:, 4 + NUMERIC_INDEX["author_missing"]].astype(float) == 1.0
    share = masked.sum() / (4 * len(data))
    assert abs(share - MASK_AUTHOR_SHARE) < 0.05
    # A masked copy keeps its event's label and says nothing of the author.
    assert (y[masked] == data.y[owner[masked]]).all()
    assert (x[masked, 2] == "none").all()
    assert (x[masked, 4 + NUMERIC_INDEX["followers"]].astype(float) == 0).all()
    timeless = x[:, 4 + NUMERIC_INDEX["time_missing"]].astype(float) == 1.0
    assert timeless.any() and not (timeless & masked).any()


# -- official accounts and the incident score ----------------------------------------------------
OFFICE = OfficeAccounts(accounts=frozenset({"ofc-1"}), sources=frozenset({"gov-portal"}))


def test_official_posts_are_never_rumors_and_lower_the_incident() -> None:
    """Official posts that speak of the matter without denying a claim (announcements,
    notices) are never rumors and pull the incident down."""
    claims = [_post(i, "网传化工厂要搬迁到居民区旁边", score=0.62) for i in range(4)]
    bulletin = _post(9, "【通知】化工园区规划公示，欢迎市民提出意见", score=0.99,
                     author=Author(id="ofc-1", name="临江发布"))  # fmt: skip
    portal = _post(10, "关于化工园区应急演练的说明", source="gov-portal", score=0.97)
    gov = Author(id="g", verified=True, verified_type=1, followers=10**5)
    verified = _post(11, "化工园区搬迁听证会明天举行", score=0.95, author=gov)
    alone = score_incident(claims, OFFICE)
    answered = score_incident([*claims, bulletin, portal, verified], OFFICE)
    assert alone.score == pytest.approx(0.62)
    assert answered.official_post_ids == [bulletin.id, portal.id, verified.id]
    assert answered.denial_post_ids == []
    assert not set(answered.official_post_ids) & set(answered.claim_post_ids)
    assert answered.score is not None and answered.score < 0.5 < alone.score
    assert any("官方发布" in r and "降低" in r for r in answered.reasons)
    # An incident made only of official posts is no rumor at all, whatever they read like.
    assert score_incident([bulletin, portal], OFFICE).score == 0.0


def test_a_residents_message_on_an_official_board_is_not_official() -> None:
    """An office lists its 12345 board among its official sources (so the departments'
    replies there are responses): a resident's message on it stays a resident's — scored,
    never an official post, never a denial (「网传…是谣言吗？」 asked by a resident)."""
    office = OfficeAccounts(sources=frozenset({"board"}))
    claims = [_post(i, "网传化工厂爆炸死了十几个人", score=0.92) for i in range(3)]
    asked = _post(40, "网传化工厂爆炸，这是谣言吗？请政府公开", source="board",
                  kind="message", score=0.4)  # fmt: skip
    reply = _post(41, "经核实，网传内容不实", source="board", kind="reply", score=0.9)
    scored = score_incident([*claims, asked], office)
    assert scored.official_post_ids == [] and scored.denial_post_ids == []
    assert score_incident([*claims, asked, reply], office).denial_post_ids == [reply.id]


def test_an_official_denial_keeps_a_rebutted_rumor_a_rumor() -> None:
    """The office's 情况通报 saying the claim is false confirms the rumor: it never lowers
    the score (a list filtered on 谣言可能 高, or the report's 辟谣情况, would lose the
    year's main rumor), while corrections by residents still weigh as posts do."""
    claims = [_post(i, "网传化工厂爆炸死了十几个人", score=0.92) for i in range(4)]
    doubts = [_post(20 + i, "真的假的？有人知道吗", score=0.3) for i in range(6)]
    bulletin = _post(9, "【情况通报】网传化工厂爆炸不实，系应急演练", score=0.99,
                     author=Author(id="ofc-1", name="临江发布"))  # fmt: skip
    gov = Author(id="g", verified=True, verified_type=1, followers=10**5)
    verified = _post(11, "【辟谣】系应急演练", score=0.95, author=gov)
    before = score_incident([*claims, *doubts], OFFICE)
    after = score_incident([*claims, *doubts, bulletin, verified], OFFICE)
    assert after.official_post_ids == after.denial_post_ids == [bulletin.id, verified.id]
    assert after.score is not None and before.score is not None
    assert after.score >= max(before.score, DENIED_FLOOR)
    assert any("官方已辟谣" in r for r in after.reasons)
    # A denial with no claim post in the incident makes nothing a rumor.
    assert score_incident([bulletin], OFFICE).score == 0.0
    weak = [_post(30, "化工厂那边今天有演练", score=0.2)]
    assert score_incident([*weak, bulletin], OFFICE).score < 0.5


def test_the_incident_score_follows_its_claim_not_a_stray_post() -> None:
    chatter = [_post(i, f"二院新门诊今天开诊了{i}", score=0.1) for i in range(39)]
    stray = _post(50, "听说二院要关门", score=0.6)
    result = score_incident([*chatter, stray], None)
    assert result.score is not None and result.score < 0.3  # the maximum said 0.6
    assert result.claim_post_ids == [stray.id]
    unscored = score_incident([_post(1, "哈哈", score=None)], None)
    assert unscored.score is None


def test_office_config_section_is_accepted_and_scores_are_computed_when_missing(
    shipped: RumorModel,
) -> None:
    from tingfeng.config import OfficeConfig

    office = OfficeConfig(accounts=["ofc-1"], sources=[], verified_types=[1, 3])
    posts = [
        _post(1, "紧急扩散！化工厂爆炸了死了好多人，官方封锁消息，赶紧撤离"),
        _post(2, "【情况通报】网传化工厂爆炸不实，系应急演练", author=Author(id="ofc-1")),
        _post(3, "哈哈"),
    ]
    result = score_incident(posts, office, model=shipped)
    assert result.official_post_ids == [posts[1].id]
    assert result.scored == 1 and any("文本过短" in r for r in result.reasons)


def test_score_roots_leaves_official_and_short_posts_unscored(
    shipped: RumorModel, tmp_path: Path
) -> None:
    from nlp.rumor.scoring import score_roots
    from store.sqlite import SQLiteStore

    posts = [
        _post(1, "紧急扩散：南门街道自来水有毒，千万不要喝！", author=Author(id="u", followers=40)),
        _post(2, "【辟谣】网传自来水有毒不实", author=Author(id="ofc-1", name="发布")),
        _post(3, "转起来！"),
        _post(4, "【停水通知】明日文昌路停水", source="gov-portal"),
    ]
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert_posts(posts)
        score_roots(store, [p.id for p in posts], model=shipped, office=OFFICE)
        got = {p.id: p.rumor_score for p in store.get_posts([p.id for p in posts])}
    assert got[posts[0].id] is not None
    assert got[posts[1].id] is None and got[posts[2].id] is None and got[posts[3].id] is None


# -- the held-out city ----------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "size"), [(HELD_OUT, 300), (HELD_OUT_2, 250)])
def test_the_held_out_cities_are_real_test_sets(path: Path, size: int) -> None:
    held_out = load_local(path)
    assert len(held_out) >= size
    assert {p.shape for p in held_out.posts} == {"weibo", "forum", "news", "board"}
    kinds = {p.kind for p in held_out.posts}
    assert kinds >= {"notice", "news", "complaint", "consult", "claim", "doubt", "rebuttal"}
    assert kinds >= {"ad", "chatter"}
    assert any(p.has_profile for p in held_out.posts)
    assert sum(not p.has_profile for p in held_out.posts) >= 100
    # Never trained on: the training cities share no text with it, nor do the two held-out
    # cities with each other.
    texts = {p.post.text for p in held_out.posts}
    training = {p.post.text for p in load_local(*TRAINING).posts}
    assert not training & texts
    other = HELD_OUT_2 if path == HELD_OUT else HELD_OUT
    assert not {p.post.text for p in load_local(other).posts} & texts


@pytest.mark.parametrize("path", [HELD_OUT, HELD_OUT_2], ids=["yunxi", "heting"])
def test_shipped_model_on_the_held_out_cities(shipped: RumorModel, path: Path) -> None:
    """Goal of the issue: ROC-AUC ≥ 0.9 and at most 10 % of non-rumors at ≥ 0.5, on a
    city the model never saw (figures in the model card); and at most 10 % of the ordinary
    incidents (topics without a claim) reach 0.5 — a red team found 4 of 19 there on an
    unseen city with model 1.4.0 (鹤汀市, written after it, gave 4 of 16)."""
    result = evaluate_local(shipped, load_local(path))
    assert result["roc_auc"] >= 0.9, result
    assert result["false_rumor_rate"] <= 0.10, result
    assert result["by_profile"]["without profile"]["roc_auc"] >= 0.85, result
    ordinary = result["incidents"]["other"]
    assert ordinary["score_at_least"] <= 0.10 * ordinary["incidents"], result


def test_local_set_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "city.tsv"
    bad.write_text("# comment\n-\tweibo\tclaim\t1\tu\t-\t网传化工厂爆炸\n-\tfax\tclaim\t1\n",
                   encoding="utf-8")  # fmt: skip
    with pytest.raises(LocalSetError, match=r"city\.tsv:3: 应有 7 列"):
        load_local(bad)
    bad.write_text("-\tfax\tclaim\t1\tu\t-\t网传\n", encoding="utf-8")
    with pytest.raises(LocalSetError, match=r"city\.tsv:1: shape 的值 'fax'"):
        load_local(bad)
