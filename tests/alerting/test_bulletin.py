"""Bulletin drafts from a real incident in a real SQLite store (岚州市, see conftest)."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from alerting.bulletins.loader import TemplateError, TemplateSet, TemplateSpec, load_template
from alerting.bulletins.weibo import HEADLINE_LIMIT, TEXT_LIMIT, TooLong, weibo_text
from models import Bulletin, BulletinKind, BulletinStatus
from store import ConflictError
from tests.alerting.city import ANSWER_AT, NOW, T0
from tingfeng.services import bulletins as svc


def _draft(store, config, kind="rebuttal", now=ANSWER_AT - timedelta(minutes=20)):
    return svc.draft(store, config, "inc-lz-1", now=now, by="王编辑", kind=kind)


def test_rebuttal_draft_quotes_the_claim_with_counts_and_first_appearance(city_store, city_config):
    b = _draft(city_store, city_config)
    assert b.bulletin_kind == BulletinKind.REBUTTAL and b.status == BulletinStatus.DRAFT
    # the title names the claim in the posts' own words (its longest clause)
    assert b.title == "关于网传“四个城管把一个卖菜的老人活活打死了”的情况说明"
    # time and place come from the posts: the first post at 20:05 in 北塘区, on 微博
    assert b.body.startswith("6月10日20时5分许起，有网民在微博")
    assert "四个城管把一个卖菜的老人活活打死了" in b.body
    # links and hashtags of the post are not part of the quote
    assert "http" not in b.body and "t.cn" not in b.body and "#岚州#" not in b.body
    # the verifying unit, the finding, the facts and the action are visible gaps
    assert "[待核实：核实单位]" in b.body
    assert len(b.placeholders) >= 4
    # the 2025 rebuttal of a similar rumor is referred to, with its date
    assert "2025年4月2日，已就类似说法发布通报" in b.body
    notes = b.facts["notes"]
    claims = b.facts["context"]["claims"]
    assert claims[0]["posts"] == 3 and claims[0]["reposts"] >= 30
    assert claims[0]["first_seen_text"] == "6月10日20时5分许"
    assert any("围观群众" in c["quote"] for c in claims[1:])
    assert "帖文 3 条" in notes and "https://weibo.example/1001" in notes
    assert b.facts["context"]["sources_text"] == "微博、岚州论坛"  # by posts, source titles
    # the official answer posted later is not part of what circulated before the draft
    assert "情况通报】6月10日" not in notes
    # the summary quotes the posts' own sentences
    for line in b.facts["context"]["summary"]:
        assert any(
            line["text"] in p.text or line["text"] in (p.title or "") + "。" + p.text
            for p in city_store.iter_posts()
        )


def test_no_invented_facts_in_situation_bulletin(city_store, city_config):
    b = _draft(city_store, city_config, kind="情况通报")
    assert b.bulletin_kind == BulletinKind.SITUATION
    for gap in ("伤亡情况", "采取的处置措施", "原因", "负责调查核实的单位"):
        assert any(gap in p for p in b.placeholders), gap
    # outside the gaps and the quoted claim, the text asserts no fact of its own
    stated = re.sub(r"\[待核实[^\]]*\]|“[^”]*”", "", b.body)
    for invented in ("死亡", "受伤", "无生命危险", "谣言", "不实", "已依法", "已责令", "系"):
        assert invented not in stated, invented
    assert "无生命危险" not in b.body  # only the official post says so, and it came later
    # the place is as precise as the posts and the gazetteer make it
    assert "发帖反映北塘区东门菜市场相关情况" in b.body
    assert b.facts["context"]["place"]["landmarks"][0] == "东门菜市场"


def test_all_kinds_render_and_fit_weibo(city_store, city_config):
    for kind in ("situation", "rebuttal", "response", "progress"):
        b = _draft(city_store, city_config, kind=kind, now=NOW)
        text = weibo_text(b)
        assert len(text.headline) <= HEADLINE_LIMIT
        assert len(text.text) <= TEXT_LIMIT
        assert text.text.startswith(f"【{b.title}】\n")
        assert text.text.endswith("岚州市委网信办\n2026年6月11日")


def test_weibo_text_over_limit_is_refused_not_cut():
    long = Bulletin(id="x", title="标" * 150, body="正文")
    with pytest.raises(TooLong, match="152 字"):
        weibo_text(long)
    with pytest.raises(TooLong, match="上限 2000"):
        weibo_text(Bulletin(id="y", title="标题", body="字" * 2100))


def test_workflow_needs_second_person_and_no_gaps(city_store, city_config):
    b = _draft(city_store, city_config)
    b = svc.submit(city_store, b.id, by="王编辑", now=ANSWER_AT)
    with pytest.raises(svc.BulletinServiceError, match="待核实"):
        svc.approve(city_store, b.id, by="赵主任", now=ANSWER_AT)
    filled = b.body
    for gap in b.placeholders:
        filled = filled.replace(gap, "（已核实）")
    b = svc.edit(city_store, b.id, by="王编辑", now=ANSWER_AT, body=filled)
    assert b.status == BulletinStatus.DRAFT and b.placeholders == []
    b = svc.submit(city_store, b.id, by="王编辑", now=ANSWER_AT)
    with pytest.raises(svc.BulletinServiceError, match="起草人"):
        svc.approve(city_store, b.id, by="王编辑", now=ANSWER_AT)
    with pytest.raises(svc.BulletinServiceError, match="审核通过后"):
        svc.publish(city_store, b.id, by="赵主任", now=ANSWER_AT)
    b = svc.approve(city_store, b.id, by="赵主任", now=ANSWER_AT)
    assert b.approved_by == "赵主任"
    b = svc.publish(city_store, b.id, by="赵主任", now=ANSWER_AT, url="https://weibo.example/9001")
    assert [h["action"] for h in b.history] == [
        "draft",
        "submit",
        "edit",
        "submit",
        "approve",
        "publish",
    ]
    with pytest.raises(svc.BulletinServiceError, match="已发布"):
        svc.edit(city_store, b.id, by="王编辑", now=NOW, body="改")
    # publishing records a response against the alert's deadlines (1 h: late; 5 h: on time)
    (resp,) = [r for r in svc.responses(city_store, "inc-lz-1") if r.bulletin_id == b.id]
    assert resp.on_time == {"first_response": False, "follow_up": True}


def test_model_refuses_approval_with_gaps_or_by_drafter():
    with pytest.raises(ValueError, match="placeholders"):
        Bulletin(id="z", body="[待核实：原因]", status="approved", drafted_by="a", approved_by="b")
    with pytest.raises(ValueError, match="different person"):
        Bulletin(id="z", body="好", drafted_by="a", approved_by="a")


def test_stale_edit_conflicts(city_store, city_config):
    b = _draft(city_store, city_config)
    svc.edit(city_store, b.id, by="甲", now=NOW, body="甲的版本", version=b.version)
    with pytest.raises(ConflictError):
        svc.edit(city_store, b.id, by="乙", now=NOW, body="乙的版本", version=b.version)


def test_every_step_is_a_compare_and_set_on_the_version_read(city_store, city_config):
    """The approver read version v (submitted); the drafter edits and resubmits (v + 2,
    submitted again): approving "v" is a conflict and changes nothing, never an approval
    of a text the approver did not read. Submit and publish likewise."""
    b = _draft(city_store, city_config)
    filled = b.body
    for gap in b.placeholders:
        filled = filled.replace(gap, "（已核实）")
    b = svc.edit(city_store, b.id, by="王编辑", now=NOW, body=filled, version=b.version)
    with pytest.raises(ConflictError):
        svc.submit(city_store, b.id, by="王编辑", now=NOW, version=b.version - 1)
    seen = svc.submit(city_store, b.id, by="王编辑", now=NOW, version=b.version)
    edited = svc.edit(city_store, b.id, by="王编辑", now=NOW, body=filled + "补充。")
    svc.submit(city_store, b.id, by="王编辑", now=NOW, version=edited.version)
    with pytest.raises(ConflictError) as caught:
        svc.approve(city_store, b.id, by="赵主任", now=NOW, version=seen.version)
    assert (caught.value.expected, caught.value.actual) == (seen.version, seen.version + 2)
    stored = svc.get(city_store, b.id)
    assert stored.status == BulletinStatus.SUBMITTED and stored.approved_by is None
    approved = svc.approve(city_store, b.id, by="赵主任", now=NOW, version=stored.version)
    with pytest.raises(ConflictError):
        svc.publish(city_store, b.id, by="赵主任", now=NOW, version=stored.version)
    assert svc.publish(city_store, b.id, by="赵主任", now=NOW, version=approved.version).status == (
        BulletinStatus.PUBLISHED
    )


def test_progress_refers_to_previous_bulletin(city_store, city_config):
    b = _draft(city_store, city_config, kind="situation")
    body = b.body
    for gap in b.placeholders:
        body = body.replace(gap, "北塘区东门菜市场摊贩纠纷")
    b = svc.edit(
        city_store,
        b.id,
        by="王编辑",
        now=ANSWER_AT,
        title="关于北塘区东门菜市场摊贩纠纷的情况通报",
        body=body,
    )
    svc.submit(city_store, b.id, by="王编辑", now=ANSWER_AT)
    svc.approve(city_store, b.id, by="赵主任", now=ANSWER_AT)
    svc.publish(city_store, b.id, by="赵主任", now=ANSWER_AT)
    p = _draft(city_store, city_config, kind="progress", now=NOW)
    assert p.title == "关于北塘区东门菜市场摊贩纠纷的进展通报"
    assert p.body.startswith(
        "6月10日22时10分许，岚州市委网信办发布《关于北塘区东门菜市场摊贩纠纷的情况通报》"
    )
    assert "截至6月11日2时许" in p.body


def test_unknown_incident_and_kind_are_clear_errors(city_store, city_config):
    with pytest.raises(svc.BulletinServiceError, match="没有编号为 nope 的事件"):
        svc.draft(city_store, city_config, "nope", now=NOW, by="a")
    with pytest.raises(svc.BulletinServiceError, match="未知的通报类型 'memo'"):
        svc.draft(city_store, city_config, "inc-lz-1", now=NOW, by="a", kind="memo")


# -- templates -------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.jinja"
    path.write_text(text, "utf-8")
    return path


HEAD = "{% block kind %}rebuttal{% endblock %}\n{% block title %}关于{{ topic }}{% endblock %}\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("{% block body %}\n第一段\n\n{{ incident.titel }}\n{% endblock %}\n", 6, "titel"),
        (
            "{% block body %}\n{{ office.name }}\n{{ casualties }}\n{% endblock %}\n",
            5,
            "casualties",
        ),
        (
            "{% block body %}\n{% for c in claims %}\n{{ c.qoute }}\n{% endfor %}\n"
            "{% endblock %}\n",
            5,
            "qoute",
        ),
        (
            "{% block body %}\n{% if earlier and not claims %}\n\n{{ earlier[0].dat }}\n{% endif %}"
            "\n{% endblock %}\n",
            6,
            "dat",
        ),
        (
            "{% block body %}\n{{ spread.posts | nosuchfilter }}\n{% endblock %}\n",
            4,
            "nosuchfilter",
        ),
    ],
)
def test_template_with_unknown_field_fails_at_load_with_file_and_line(
    tmp_path, body, line, message
):
    path = _write(tmp_path, "office_rebuttal", HEAD + body)
    with pytest.raises(TemplateError, match=message) as err:
        TemplateSet([tmp_path])
    assert str(err.value).startswith(f"{path}:{line}:")


def test_template_missing_block_or_bad_kind(tmp_path):
    path = _write(tmp_path, "t", "{% block title %}x{% endblock %}")
    with pytest.raises(TemplateError, match="缺少 block"):
        load_template(TemplateSpec("t", path))
    path = _write(
        tmp_path,
        "t2",
        "{% block kind %}memo{% endblock %}{% block title %}x"
        "{% endblock %}{% block body %}y{% endblock %}",
    )
    with pytest.raises(TemplateError, match="'memo' 不是通报类型"):
        load_template(TemplateSpec("t2", path))


def test_office_template_by_config_is_used(tmp_path, city_store, city_config):
    folder = tmp_path / "tpl"
    folder.mkdir()
    _write(
        folder,
        "yuanzhou_rebuttal",
        HEAD + "{% block body %}\n{{ office.name }}提醒："
        "{{ claims[0].quote if claims else topic }}，经{{ gap('核实单位') }}核实……\n"
        "{% endblock %}\n",
    )
    config = city_config.model_copy(
        update={"bulletins": city_config.bulletins.model_copy(update={"templates": [folder]})}
    )
    assert "yuanzhou_rebuttal" in svc.load_templates(config).names()
    b = svc.draft(city_store, config, "inc-lz-1", now=NOW, by="a", kind="yuanzhou_rebuttal")
    assert b.template == "yuanzhou_rebuttal" and b.body.startswith("岚州市委网信办提醒：")
    assert b.placeholders == ["[待核实：核实单位]"]


def test_builtin_templates_are_registered_by_name():
    from alerting.bulletins.loader import TEMPLATES

    assert {"situation", "rebuttal", "response", "progress"} <= set(TEMPLATES.names())
    assert TEMPLATES.group == "bulletin_templates"
    assert T0.tzinfo is not None


def test_claim_index_offers_published_bulletins_only(city_store, city_config):
    from nlp.claims import index_from_store

    _draft(city_store, city_config)  # a draft, full of gaps, is nobody's answer yet
    matches = index_from_store(city_store).match("北塘区城管打死菜市场卖菜老人", threshold=0.2)
    assert [(m.id, m.link) for m in matches if m.kind == "bulletin"] == [
        ("b-2025", "https://weibo.example/lz_gov/2025")
    ]


def test_response_draft_lists_the_official_replies_already_given(city_store, city_config):
    b = svc.draft(city_store, city_config, "inc-lz-2", now=NOW, by="王编辑", kind="response")
    assert b.bulletin_kind == BulletinKind.RESPONSE
    assert "云溪区" in b.title and "[待核实：问题简称]" in b.title
    official = b.facts["context"]["official"]
    assert [o["post_id"] for o in official] == ["lz-board:M1-r", "lz-board:M2-r"]
    assert "已有官方发布/答复：" in b.facts["notes"]
    assert "云溪区住房和城乡建设局：您好！经查，该工地未办理夜间施工许可" in b.facts["notes"]
    # the replies are the office's words, not residents' claims
    assert all("您好" not in c["quote"] for c in b.facts["context"]["claims"])


def test_a_claim_opened_by_an_urgency_cry_is_named_by_what_it_says() -> None:
    """「紧急扩散！北塘化工园刚刚爆炸泄漏了」 gave the title 关于网传“”的情况说明."""
    from alerting.bulletins.context import topic_of

    assert topic_of("紧急扩散！北塘化工园刚刚爆炸泄漏了，有人晕倒") == "北塘化工园刚刚爆炸泄漏了"
    assert topic_of("急急急！！！") == ""  # nothing said: the caller falls back


def test_an_incident_title_skips_the_opener_and_is_cut_at_a_clause() -> None:
    from datetime import datetime

    from models import Post
    from nlp.incidents import title_of

    def title(text: str) -> str:
        return title_of(Post(source="x", native_id="1", text=text, created_at=datetime.now(UTC)))

    assert (
        title("紧急扩散！北塘化工园刚刚爆炸泄漏了，有人晕倒")
        == "北塘化工园刚刚爆炸泄漏了，有人晕倒"
    )
    long = (
        "今晚临江区滨江夜市疑似发生城管执法冲突，有网友称一名烧烤摊主被打后送医、"
        "已无生命体征，待官方核实"
    )
    cut = title(long)
    assert cut.endswith("…") and len(cut) <= 40 and "已无生命" not in cut
