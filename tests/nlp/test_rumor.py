"""Rumor classifier: features, CLI train/evaluate, safe loading, explanations, bad input."""

from __future__ import annotations

import itertools
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from models import Author, Post
from nlp.rumor.evaluation import EARLY_HORIZONS
from nlp.rumor.explain import explain
from nlp.rumor.features import (
    COL_STAGE,
    N_TEXT_COLS,
    NUMERIC_INDEX,
    RepostLite,
    RumorInput,
    prepare,
    to_matrix,
)
from nlp.rumor.model import ModelError, RumorModel, load_model
from nlp.rumor.scoring import score_roots
from tests.conftest import BASE_TIME
from tests.nlp.rumor_factory import break_one_file, make_ced
from tingfeng.cli import app

runner = CliRunner()
METRICS = {"n", "accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc", "brier"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained through the CLI on a small synthetic directory (shared by tests)."""
    root = tmp_path_factory.mktemp("train")
    make_ced(root / "ced")
    out = root / "model.skops"
    result = runner.invoke(app, ["train", "--data", str(root / "ced"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    return out


@pytest.fixture(scope="module")
def model(trained: Path) -> RumorModel:
    return load_model(trained)


def _input(text: str | None = "网传东城区化工厂爆炸", reposts: int = 3, **kw: object) -> RumorInput:
    author = kw.pop("author", Author(id="u1", followers=10, friends=100))
    return RumorInput(
        source_id="weibo:1",
        text=text,
        created_at=kw.pop("created_at", BASE_TIME),  # type: ignore[arg-type]
        author=author,  # type: ignore[arg-type]
        reposts=[
            RepostLite(
                f"weibo:r{i}", "weibo:1", BASE_TIME + timedelta(minutes=10 * i + 1), "假的吧"
            )
            for i in range(reposts)
        ],
    )


# -- features -------------------------------------------------------------------------------
def test_horizon_keeps_only_reposts_seen_by_then() -> None:
    p = prepare(_input(reposts=10))
    assert p.count_until(timedelta(0)) == 0
    assert p.count_until(timedelta(minutes=30)) == 3
    assert p.count_until(None) == 10
    row_0h, _ = p.row(timedelta(0))
    assert row_0h[1] == ""  # no repost text at 0h


def test_time_of_day_is_not_a_feature() -> None:
    """Shifting an event (source, reposts and author) by hours changes no feature."""
    inp = _input(reposts=5, author=Author(id="u", created_at=BASE_TIME - timedelta(days=90)))
    shifted = RumorInput(
        source_id=inp.source_id,
        text=inp.text,
        created_at=inp.created_at + timedelta(hours=13),  # type: ignore[operator]
        author=Author(id="u", created_at=BASE_TIME - timedelta(days=90, hours=-13)),
        reposts=[
            RepostLite(r.id, r.parent_id, r.created_at + timedelta(hours=13), r.text)  # type: ignore[operator]
            for r in inp.reposts
        ],
    )
    assert prepare(inp).row()[0] == prepare(shifted).row()[0]


def test_tree_depth_from_parent_ids() -> None:
    inp = _input(reposts=0)
    inp.reposts = [
        RepostLite("a", "weibo:1", BASE_TIME + timedelta(minutes=1)),
        RepostLite("b", "a", BASE_TIME + timedelta(minutes=2)),
        RepostLite("c", "b", BASE_TIME + timedelta(minutes=3)),
        RepostLite("d", None, BASE_TIME + timedelta(minutes=4)),
    ]
    row, _ = prepare(inp).row()
    nums = row[N_TEXT_COLS:]
    assert nums[NUMERIC_INDEX["max_depth"]] == 3
    assert nums[NUMERIC_INDEX["share_direct"]] == 0.5


# -- CLI --------------------------------------------------------------------------------------
def test_evaluate_json_on_unseen_directory_with_a_broken_file(
    trained: Path, tmp_path: Path
) -> None:
    root = make_ced(tmp_path / "unseen", n_events=12, start=100)
    broken = break_one_file(root)
    result = runner.invoke(
        app, ["evaluate", "--data", str(root), "--model", str(trained), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out) >= METRICS
    assert set(out["early"]) == set(EARLY_HORIZONS) == {"0h", "1h", "3h", "6h", "12h", "24h", "all"}
    assert all(set(m) >= METRICS for m in out["early"].values())
    assert out["n"] == 11
    assert out["skipped"] == {"malformed JSON": 1}
    assert broken.name in result.stderr
    # The synthetic signal is easy; a working model must find it on unseen events.
    assert out["accuracy"] >= 0.9


def test_evaluate_cross_validation(tmp_path: Path) -> None:
    root = make_ced(tmp_path / "ced", n_events=24)
    result = runner.invoke(app, ["evaluate", "--data", str(root), "--cv", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["cv"]["folds"] == 2
    assert out["n"] == 24 and "1h" in out["early"]


def test_train_refuses_single_class(tmp_path: Path) -> None:
    from tests.ingest.cedfactory import write_event

    root = tmp_path / "ced"
    for n in range(4):
        write_event(root, n)
    result = runner.invoke(app, ["train", "--data", str(root), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "谣言与非谣言两类事件" in str(result.exception)


# -- model files ------------------------------------------------------------------------------
def test_saved_model_round_trips(model: RumorModel, trained: Path) -> None:
    again = load_model(trained)
    rows = [prepare(_input()).row()[0]]
    from nlp.rumor.features import to_matrix

    assert np.allclose(model.predict_proba(to_matrix(rows)), again.predict_proba(to_matrix(rows)))
    assert model.version and model.meta["trained_on"] == 32


def test_load_refuses_files_that_are_not_tingfeng_models(tmp_path: Path, trained: Path) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    text = tmp_path / "notes.skops"
    text.write_text("hello", "utf-8")
    with pytest.raises(ModelError, match="不是 skops 文件"):
        load_model(text)

    other = tmp_path / "other.skops"
    sio.dump({"format": "someone-else", "weights": [1, 2]}, other)
    with pytest.raises(ModelError, match="格式标记"):
        load_model(other)

    foreign = tmp_path / "foreign.skops"
    sio.dump(LogisticRegression(), foreign)
    with pytest.raises(ModelError, match=r"不会有的类型：sklearn\.linear_model"):
        load_model(foreign)

    with pytest.raises(ModelError, match="模型文件不存在"):
        load_model(tmp_path / "missing.skops")

    # A real model whose version marker says it is from the future.
    future = tmp_path / "future.skops"
    with zipfile.ZipFile(trained) as src, zipfile.ZipFile(future, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(data)
                schema["content"]["format_version"]["content"] = "99"
                data = json.dumps(schema).encode()
            dst.writestr(item, data)
    with pytest.raises(ModelError, match="格式版本"):
        load_model(future)


def test_cli_reports_a_bad_model_cleanly(tmp_path: Path) -> None:
    root = make_ced(tmp_path / "ced", n_events=4)
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"\x00\x01")
    result = runner.invoke(app, ["evaluate", "--data", str(root), "--model", str(bad)])
    assert result.exit_code != 0
    assert "不是听风谣言模型" in str(result.exception)


# -- explanations -----------------------------------------------------------------------------
def test_explanations_are_readable(model: RumorModel) -> None:
    rumor = RumorInput.from_dict(
        {
            "text": "紧急扩散：东城区自来水有毒，千万不要喝！",
            "time": "2014-05-14 00:53:20",
            "user": {"verified": False, "followers": 90, "friends": 300},
            "reposts": [
                {"mid": f"m{i}", "text": "谣言吧，求证", "date": f"2014-05-14 01:0{i}:00"}
                for i in range(5)
            ],
        }
    )
    out = explain(model, rumor)
    assert out["probability"] > 0.5
    texts = [r["text"] for r in out["toward_rumor"]]
    assert texts and all(isinstance(t, str) and t for t in texts)
    assert any("转发评论" in t or "原文" in t or "作者" in t for t in texts)
    assert all(r["weight"] > 0 for r in out["toward_rumor"])
    assert all(r["weight"] < 0 for r in out["toward_non_rumor"])


def test_explanations_without_reposts_do_not_describe_reposts(model: RumorModel) -> None:
    out = explain(model, _input(reposts=0))
    texts = [r["text"] for side in ("toward_rumor", "toward_non_rumor") for r in out[side]]
    assert texts
    assert not any("转发者" in t or "转发评论含" in t or "分钟内" in t for t in texts), texts


def test_explanations_do_not_state_placeholders_of_missing_author_data(
    model: RumorModel,
) -> None:
    # An unknown author's zeros are not facts ("作者粉丝数 0"): their pushes count toward
    # the reason that says the author is missing.
    out = explain(model, _input(author=None, reposts=0), top=100)
    texts = [r["text"] for side in ("toward_rumor", "toward_non_rumor") for r in out[side]]
    assert "缺少作者信息" in texts
    for placeholder in ("作者粉丝数", "作者关注数", "作者发博数", "账号注册", "作者未认证"):
        assert not any(t.startswith(placeholder) for t in texts), texts
    known = explain(model, _input(author=Author(id="u", followers=None, friends=3)), top=100)
    texts = [r["text"] for side in ("toward_rumor", "toward_non_rumor") for r in known[side]]
    assert not any(t.startswith("作者粉丝数") for t in texts), texts


def test_contributions_add_up_to_the_margin(model: RumorModel) -> None:
    # The linear pushes (scaled as in the blend's decision) plus the trees' entry make the
    # whole margin, up to the SVM's intercept: the reasons account for the score.
    from nlp.rumor.model import BOOST_FEATURE

    row, _ = prepare(_input(reposts=3)).row()
    matrix = to_matrix([row])
    pushes = model.contributions(matrix[0])
    assert [name for name, _, _ in pushes].count(BOOST_FEATURE) == 1
    final = model.pipeline.named_steps["svm"]
    intercept = final.svm_scale * float(final.intercept_[0])
    total = sum(push for _, push, _ in pushes) + intercept
    assert total == pytest.approx(float(model.margins(matrix)[0]), abs=1e-8)


def test_explain_cli_for_text(trained: Path) -> None:
    result = runner.invoke(
        app, ["explain", "--text", "【东城区发布】地铁三号线今日恢复运营", "--model", str(trained)]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    # A bare text has no author and no reposts: scored anyway, and says what it lacked.
    assert 0.0 <= out["probability"] <= 1.0
    assert {"author", "source time"} <= set(out["missing"])
    assert out["toward_rumor"] or out["toward_non_rumor"]


# -- bad input --------------------------------------------------------------------------------
def test_bad_records_are_scored_on_what_they_have(model: RumorModel) -> None:
    records = [
        {"text": "网传东城区化工厂爆炸"},  # no user, no time
        {"user": {"followers": "lots", "verified": True}, "time": "not a date"},  # no text
        {"text": "x", "time": 1400000000, "reposts": [{"mid": "a", "date": "garbage"}, "junk"]},
        {},
    ]
    scores = model.score(RumorInput.from_dict(r) for r in records)
    assert len(scores) == 4
    assert 0.0 <= scores[0].probability <= 1.0 and scores[0].reason is None
    # No text, or too little to say anything: not scored, with the reason.
    assert all(s.probability is None and s.reason == "文本过短" for s in scores[1:])
    assert {"author", "source time"} <= set(scores[0].missing)
    assert "text" in scores[1].missing and "source time" in scores[1].missing
    assert "time of 1 reposts" in scores[2].missing
    assert {"text", "author", "source time"} <= set(scores[3].missing)


def test_empty_batch(model: RumorModel) -> None:
    assert model.score([]) == []


def test_scoring_in_chunks_gives_the_same_scores(
    model: RumorModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nlp.rumor.model as rumor_model

    inputs = [_input(text=f"网传{n}号楼起火", reposts=n % 4) for n in range(7)]
    whole = [s.probability for s in model.score(inputs)]
    monkeypatch.setattr(rumor_model, "SCORE_CHUNK", 3)
    assert [s.probability for s in model.score(inputs)] == pytest.approx(whole, abs=1e-12)


@pytest.mark.parametrize("horizon", [None, timedelta(0), timedelta(minutes=15)])
def test_folded_margins_equal_the_pipeline(model: RumorModel, horizon: timedelta | None) -> None:
    # Scoring folds the stage copies into the weights instead of building them.
    inputs = [_input(reposts=n) for n in (0, 1, 5)] + [_input(text=None, author=None)]
    matrix = to_matrix([prepare(i).row(horizon)[0] for i in inputs])
    assert model._plan is not None
    np.testing.assert_allclose(
        model.margins(matrix), model.pipeline.decision_function(matrix), rtol=0, atol=1e-10
    )


# -- ingest-time scoring ----------------------------------------------------------------------
def test_score_roots_writes_rumor_score(model: RumorModel, tmp_path: Path) -> None:
    from store.sqlite import SQLiteStore

    source = Post(
        source="weibo", native_id="s1", text="紧急扩散：南山县自来水有毒，千万不要喝！",
        created_at=BASE_TIME, author=Author(id="u9", followers=50, friends=300),
    )  # fmt: skip
    reposts = [
        Post(
            source="weibo",
            native_id=f"r{i}",
            kind="repost",
            text="假的，已辟谣",
            created_at=BASE_TIME + timedelta(minutes=i + 1),
            parent_id=source.id,
            root_id=source.id,
        )
        for i in range(4)
    ]
    with SQLiteStore(tmp_path / "posts.db") as store:
        store.upsert_posts([source, *reposts])
        roots = [source.id, "weibo:unknown", reposts[0].id]
        assert score_roots(store, roots, model=model) == 1
        stored = {p.id: p for p in store.get_posts([source.id, *(r.id for r in reposts)])}
    scored = stored[source.id].rumor_score
    assert scored is not None and scored > 0.5
    assert all(stored[r.id].rumor_score is None for r in reposts)


# -- the shipped model on real data -----------------------------------------------------------
def test_shipped_model_on_a_real_sample(ced_dir: Path) -> None:
    """Sanity check on 200 real events (the model saw them in training: this checks the
    shipped file loads and scores real data, not its generalisation — see the model card)."""
    from ingest.ced import iter_events

    shipped = load_model()
    events = [e for e in itertools.islice(iter_events(ced_dir), 200) if e.label]
    inputs = [RumorInput.from_posts(e.source, e.reposts) for e in events]
    y = np.array([e.is_rumor for e in events])
    for horizon, floor in ((timedelta(hours=1), 0.85), (None, 0.9)):
        p = np.array([s.probability for s in shipped.score(inputs, horizon)])
        assert ((p >= 0.5) == y).mean() >= floor


def test_folded_scoring_equals_the_pipeline_on_real_posts(ced_dir: Path) -> None:
    """The scoring plan of the shipped model gives the pipeline's own margins on real posts
    at every stage, and on rows with an unseen verification type or nothing at all."""
    from ingest.ced import iter_events

    shipped = load_model()
    assert shipped._plan is not None
    events = list(itertools.islice(iter_events(ced_dir), 250))
    odd = [_input(author=Author(id="u", verified=True, verified_type=987)), _input(None, 0)]
    odd.append(RumorInput(None, None, None, None))
    for horizon in (timedelta(0), timedelta(hours=1), None):
        inputs = [RumorInput.from_posts(e.source, e.reposts) for e in events] + odd
        matrix = to_matrix([prepare(i).row(horizon)[0] for i in inputs])
        np.testing.assert_allclose(
            shipped.margins(matrix), shipped.pipeline.decision_function(matrix), atol=1e-10
        )


def test_an_unknown_stage_is_refused_as_the_pipeline_refuses_it(model: RumorModel) -> None:
    row, _ = prepare(_input()).row()
    row[COL_STAGE] = "bogus"
    with pytest.raises(ValueError, match="bogus"):
        model.margins(to_matrix([row]))


def test_pipelines_of_another_shape_are_scored_by_the_pipeline() -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    from nlp.rumor.plan import ScoringPlan

    assert ScoringPlan.build(Pipeline([("svm", LinearSVC())])) is None


# -- parallel reading and training ------------------------------------------------------------
def test_parallel_reading_and_training_match_sequential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes change the speed, never the result: same events, same skips, same
    model (the SVM's shuffling is seeded)."""
    import shutil

    from nlp.rumor import training
    from tests.ingest.cedfactory import write_event

    root = make_ced(tmp_path / "ced", n_events=40)
    # A duplicate of an early event that sorts into the last chunk, and an unlabelled event.
    for folder in ("original-microblog", "rumor-repost"):
        shutil.copy(root / folder / "1_Mid0001_1001.json", root / folder / "99_Mid0001_1001.json")
    write_event(root, 77, label=None)
    monkeypatch.setattr(training, "_PARALLEL_MIN_FILES", 4)

    one = training.load_dataset(root, n_jobs=1)
    two = training.load_dataset(root, n_jobs=2)
    assert one.event_ids == two.event_ids and one.labels == two.labels
    assert len(one) == 40 and "99_Mid0001_1001" not in one.event_ids
    assert one.report.skipped == two.report.skipped
    assert one.report.skipped["duplicate id"] == 1
    assert one.report.skipped["event without label"] == 1
    assert one.report.warnings == two.report.warnings

    a = training.train(one, n_jobs=1)
    b = training.train(two, n_jobs=2)
    assert np.allclose(a.coefficients, b.coefficients)
    assert np.allclose(a.calibration, b.calibration)


def test_model_card_describes_the_shipped_model() -> None:
    """docs/rumor.md links the card; the card must name the data, its citation and the
    version and training date of the model actually shipped (retraining means updating it)."""
    repo = Path(__file__).resolve().parents[2]
    card = repo / "nlp" / "models" / "MODEL_CARD.md"
    assert "../nlp/models/MODEL_CARD.md" in (repo / "docs" / "rumor.md").read_text("utf-8")
    text = card.read_text("utf-8")
    shipped = load_model()
    assert f"`{shipped.version}`" in text
    assert str(shipped.meta["date"]) in text
    assert "arXiv:1811.04175" in text and "2,721" in text


def test_worker_processes_cut_like_their_parent() -> None:
    """Words a parent added at run time (a gazetteer's place names) reach spawned workers."""
    import multiprocessing

    from nlp.tokenize import add_words, cut, restore, snapshot

    add_words(["青龙镇水厂路"])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1, initializer=restore, initargs=(snapshot(),)) as pool:
        assert pool.apply(cut, ("青龙镇水厂路停水了",)) == cut("青龙镇水厂路停水了")
    assert "青龙镇水厂路" in cut("青龙镇水厂路停水了")
