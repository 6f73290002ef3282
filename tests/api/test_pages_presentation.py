"""How the dashboard words what it shows (UX audit findings 8 and 26), in-process: search
facets name the sources as the configuration does, an ``OR`` query gets the CLI's hint,
the incident page hands its script the deadlines' Chinese labels, tiers read Ⅰ级…Ⅳ级."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from models import Alert, Deadline, Role, Tier
from tests.api.conftest import Env
from tests.api.factory import T0


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found, "the page has no page data"
    return json.loads(found.group(1))


def test_search_facets_and_results_name_sources_by_their_title(env: Env) -> None:
    c, _ = env.login(Role.ANALYST)
    html = c.get("/search?q=化工厂").text
    facets = html.split('class="card facets"', 1)[1].split("</aside>", 1)[0]
    links = re.findall(r'data-source="([^"]+)">([^<]+)</a>', facets)
    assert ("lj-weibo", "临江微博搜索") in links, links
    assert all(name != text for name, text in links)  # never the id as the label
    results = html.split('id="results"', 1)[1]
    assert "临江微博搜索" in results and " · lj-weibo · " not in results


def test_search_with_or_gives_one_search_per_alternative(env: Env) -> None:
    c, _ = env.login(Role.ANALYST)
    r = c.get("/search", params={"q": "化工厂 OR 暴雨 地铁"})
    assert r.status_code == 200
    hint = r.text.split('id="or-hint"', 1)[1].split("</section>", 1)[0]
    assert "检索不支持 OR" in hint and "分别检索" in hint
    alternatives = re.findall(r'<a href="([^"]+)">([^<]+)</a>', hint)
    assert [text for _, text in alternatives] == ["化工厂", "暴雨 地铁"]
    assert "q=%E5%8C%96%E5%B7%A5%E5%8E%82" in alternatives[0][0]
    assert "共 0 条" not in r.text and "没有找到符合条件的帖子" not in r.text
    # "|" is the same; OR inside a phrase is part of the phrase, not an alternative.
    assert 'id="or-hint"' in c.get("/search", params={"q": "化工厂 | 暴雨"}).text
    plain = c.get("/search", params={"q": '"化工厂 OR 暴雨"'}).text
    assert 'id="or-hint"' not in plain and "共 " in plain
    assert 'id="or-hint"' not in c.get("/search", params={"q": "化工厂"}).text


def test_incident_page_gives_the_deadline_labels_not_their_names(env: Env) -> None:
    env.store.save_record(
        Alert(
            id="al-inc-a",
            incident_id="inc-a",
            title="网传江北区化工厂爆炸致多人死亡",
            tier=Tier.I,
            rule="伤亡或群体性事件",
            opened_at=T0,
            deadlines=[
                Deadline(name="first_response", label="首次回应", hours=1, due=T0),
                Deadline(name="briefing_x", label="情况说明", hours=6, due=T0 + timedelta(hours=6)),
            ],
        )
    )
    c, _ = env.login(Role.OFFICER)
    labels = page_data(c.get("/incidents/inc-a").text)["deadline_labels"]
    assert labels["tonggao"] == "通稿"  # a rule's track in alerting/policy.yaml
    assert labels["first_response"] == "首次回应"
    assert labels["briefing_x"] == "情况说明"  # the alert's own clock, unknown to the policy
    assert all(re.search(r"[\u4e00-\u9fff]", v) for v in labels.values()), labels


def test_reports_write_tiers_as_roman_numeral_and_ji(env: Env) -> None:
    env.store.save_record(
        Alert(id="al-r", incident_id="inc-a", title="t", tier=Tier.II, rule="r", opened_at=T0)
    )
    c, _ = env.login(Role.ANALYST)
    html = c.get("/reports?period=monthly&on=2026-11-30").text
    cells = re.findall(r'<span class="tier tier-(\w+)">([^<]*)</span>', html)
    assert ("II", "Ⅱ级") in cells, cells
    assert all(text.endswith("级") and not re.search(r"[IV]", text) for _, text in cells)
