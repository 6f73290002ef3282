"""Reports over the 岚州 store: counts, top incidents, rebuttals, compliance, complaints."""

from __future__ import annotations

from datetime import timedelta

from docx import Document

from alerting.reports import build_report, charts, cjk_font, period_bounds, to_markdown
from alerting.responses import link_responses
from tests.alerting.city import ANSWER_AT, NOW
from tingfeng.services import bulletins as bsvc
from tingfeng.services import reports as svc


def _publish_rebuttal(store, config):
    b = bsvc.draft(
        store,
        config,
        "inc-lz-1",
        now=ANSWER_AT - timedelta(minutes=20),
        by="王编辑",
        kind="rebuttal",
    )
    body = b.body
    for gap in b.placeholders:
        body = body.replace(gap, "已核实")
    bsvc.edit(store, b.id, by="王编辑", now=ANSWER_AT, body=body)
    bsvc.submit(store, b.id, by="王编辑", now=ANSWER_AT)
    bsvc.approve(store, b.id, by="赵主任", now=ANSWER_AT)
    return bsvc.publish(store, b.id, by="赵主任", now=ANSWER_AT, url="https://weibo.example/9001")


def test_weekly_report(city_store, city_config):
    _publish_rebuttal(city_store, city_config)
    link_responses(city_store, city_config.office, now=NOW)
    report = svc.build(city_store, city_config, "weekly", at=NOW)
    assert report.start.isoformat() == "2026-06-08T00:00:00+08:00"  # Monday
    assert report.incidents == 2
    assert dict(report.by_category) == {"执法冲突": 1, "城市管理": 1}
    assert dict(report.by_district) == {"北塘区": 1, "云溪区": 1}
    assert [t["id"] for t in report.top] == ["inc-lz-1", "inc-lz-2"]
    assert [r["incident_id"] for r in report.rebutted] == ["inc-lz-1"]
    tiers = {c.tier: c for c in report.compliance}
    assert (tiers["I"].on_time, tiers["I"].late, tiers["I"].open) == (0, 1, 0)  # 125 min > 1 h
    # the complaint was answered on the (official) board 200 minutes in: within 4 hours
    assert (tiers["III"].on_time, tiers["III"].late, tiers["III"].open) == (1, 0, 0)
    assert report.complaints == 3 and report.resolved == 2
    md = to_markdown(report)
    assert "本周网民反映问题 3 件，已办结 2 件" in md
    assert "| Ⅰ级 | 1 | 0 | 1 | 0 | 0% |" in md
    assert "关于网传“" in md


def test_open_deadline_counts_as_open(city_store, city_config):
    report = build_report(
        city_store, "daily", at=ANSWER_AT - timedelta(minutes=80), office=city_config.office
    )
    tiers = {c.tier: c for c in report.compliance}
    assert tiers["I"].open == 1 and tiers["I"].late == 0  # 20:50: due 21:05, unanswered


def test_period_bounds():
    start, end = period_bounds("monthly", NOW)
    assert start.isoformat() == "2026-06-01T00:00:00+08:00" and end == NOW
    start, end = period_bounds("daily", NOW)
    assert start.isoformat() == "2026-06-11T00:00:00+08:00"


def test_docx_with_charts(city_store, city_config, tmp_path):
    assert cjk_font() is not None, "fonts-noto-cjk expected on this machine"
    report = svc.build(city_store, city_config, "weekly", at=NOW)
    pngs = charts(report)
    assert [c for _, c, _ in pngs] == [
        "图：事件数（按类别）",
        "图：事件数（按区域）",
        "图：响应时效（按级别）",
    ]
    assert all(png.startswith(b"\x89PNG") for _, _, png in pngs)
    path = tmp_path / "weekly.docx"
    svc.docx(report, city_config, path)
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    assert texts[0].startswith("岚州市委网信办舆情周报")
    assert any("本周网民反映问题 3 件，已办结 2 件" in t for t in texts)
    assert len(doc.inline_shapes) == 3
    # the tables are Word tables: tiers with on time / late / open
    compliance = doc.tables[-1]
    assert [c.text for c in compliance.rows[0].cells][:4] == [
        "响应级别",
        "预警数",
        "按时回应",
        "超时",
    ]
    assert [c.text for c in compliance.rows[1].cells] == ["Ⅰ级", "1", "0", "1", "0", "0%"]
    assert texts[-1] == "2026年6月11日"


def test_rumor_answered_by_an_official_post_counts_as_rebutted(city_store, city_config):
    link_responses(city_store, city_config.office, now=NOW)  # no bulletin, only the post
    report = svc.build(city_store, city_config, "daily", at=ANSWER_AT + timedelta(hours=1))
    assert [(r["incident_id"], r["url"]) for r in report.rebutted] == [
        ("inc-lz-1", "https://weibo.example/9001")
    ]
    assert "北塘区东门菜市场城管打死卖菜老人（2026-06-10）" in to_markdown(report)


def test_charts_without_a_cjk_font_fall_back_clearly(city_store, city_config, monkeypatch, caplog):
    import alerting.reports as reports

    monkeypatch.setattr(reports, "FONT_DIRS", ())
    report = svc.build(city_store, city_config, "weekly", at=NOW)
    with caplog.at_level("WARNING"):
        pngs = charts(report)  # no "glyph missing" warning: labels are numbered instead
    assert len(pngs) == 3 and "no CJK font found" in caplog.text
