"""TextRank summary of an incident's own posts, and drafting edge cases."""

from __future__ import annotations

from pathlib import Path

from alerting.bulletins.loader import TEMPLATES, TemplateSet
from alerting.summary import pagerank, split_sentences, summarise
from models import Incident
from tests.alerting.city import NOW
from tingfeng.services import bulletins as svc

POSTS = [
    ("p1", "青石镇自来水厂今天下午停水，说是水管爆裂。#青石# http://t.cn/x1 @青石发布"),
    ("p2", "青石镇自来水厂水管爆裂，全镇停水到晚上。邻居都在接水。"),
    ("p3", "青石镇自来水厂水管爆裂，全镇停水到晚上。邻居都在接水。"),  # a copy
    ("p4", "听说青石镇自来水厂爆裂的水管已经在抢修，停水预计到晚上十点。"),
    ("p5", "今天天气真好，适合去河边散步。"),
    ("p6", "求证！"),
]


def test_summary_takes_central_sentences_once_in_order():
    chosen = summarise(POSTS, sentences=2)
    texts = [s.text for s in chosen]
    assert len(texts) == 2
    assert all("自来水厂" in t for t in texts)  # the off-topic sentence is not central
    assert len(set(texts)) == 2  # a copied post is not quoted twice
    assert [s.position for s in chosen] == sorted(s.position for s in chosen)
    for s in chosen:  # every sentence is verbatim from its post
        assert s.text in dict(POSTS)[s.post_id]


def test_sentences_drop_links_mentions_and_fragments():
    parts = split_sentences(POSTS[0][1])
    assert parts == ["青石镇自来水厂今天下午停水，说是水管爆裂。"]
    assert split_sentences("求证！") == []


def test_pagerank_converges_on_a_star():
    w = [[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    scores = pagerank(w)
    assert scores[0] == max(scores) and abs(sum(scores) - 1) < 1e-6
    assert pagerank([]) == [] and summarise([]) == []


def test_draft_of_incident_without_posts_invents_nothing(city_store, city_config):
    city_store.save_record(Incident(id="inc-empty", title="某地传闻"))
    b = svc.draft(city_store, city_config, "inc-empty", now=NOW, by="a", kind="rebuttal")
    assert b.body.startswith("近日起，有网民在网络发帖称")
    assert b.facts["context"]["claims"] == [] and b.facts["context"]["summary"] == []
    assert len(b.placeholders) >= 4


def test_plugin_template_by_entry_point_style_registration(tmp_path: Path):
    path = tmp_path / "notice.jinja"
    path.write_text(
        "{% block kind %}回应{% endblock %}{% block title %}答复{% endblock %}"
        "{% block body %}{{ office.name }}答复：{{ gap('答复内容') }}{% endblock %}",
        "utf-8",
    )
    TEMPLATES.add("plugin_notice", path)  # what an entry point's load() would return
    try:
        templates = TemplateSet()
        assert templates.get("plugin_notice").spec.origin == "plugin"
        assert templates.get("plugin_notice").kind.value == "回应"
    finally:
        TEMPLATES._items.pop("plugin_notice")
