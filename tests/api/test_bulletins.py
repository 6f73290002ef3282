"""Bulletin routes in process, for every role: draft, edit (409 on a stale version), submit,
approve by a second officer (never the drafter, never a monitor or analyst), publish,
export .docx and Weibo text; each change audited; personal numbers masked."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from docx import Document
from fastapi.testclient import TestClient

from api.services.auth import create_token
from models import AuditEntry, Bulletin, OfficialResponse, Role
from tests.api.conftest import SECRET, Env
from tests.api.factory import OFFICER2, OFFICER2_PASSWORD, USERS, seed_second_officer


def officer2(env: Env) -> tuple[TestClient, str]:
    seed_second_officer(env.store)
    c = env.client()
    r = c.post("/api/v1/login", json={"username": OFFICER2, "password": OFFICER2_PASSWORD})
    assert r.status_code == 200, r.text
    return c, r.json()["csrf_token"]


def draft(env: Env, kind: str = "rebuttal") -> tuple[TestClient, dict[str, str], dict]:
    c, csrf = env.login(Role.OFFICER)
    h = {"X-CSRF-Token": csrf}
    r = c.post("/api/v1/bulletins", json={"incident_id": "inc-a", "kind": kind}, headers=h)
    assert r.status_code == 201, r.text
    return c, h, r.json()


def fill_gaps(body: str) -> str:
    import re

    return re.sub(r"\[待核实[^\]]*\]", "市应急管理局", body)


def test_officer_drafts_rebuttal_with_gaps_masked_and_audited(env: Env) -> None:
    c, h, b = draft(env)
    assert b["kind"] == "辟谣声明" and b["status"] == "draft" and b["version"] == 1
    assert b["drafted_by"] == USERS[Role.OFFICER]
    assert len(b["placeholders"]) >= 2 and all("待核实" in p for p in b["placeholders"])
    # The incident's claim quotes a phone number: masked in title, body and notes.
    for text in (b["title"], b["body"], b["notes"]):
        assert "13812345678" not in text
    assert "138****5678" in b["body"]
    # The title names the claim, not the clause that carries the phone number.
    assert b["title"] == "关于网传“临江市江北区化工厂爆炸”的情况说明"
    assert b["actions"] == ["edit", "submit", "refresh"]
    assert "起草人" in b["withheld"]["approve"] or "提交" in b["withheld"]["approve"]
    entries = env.store.list_records(AuditEntry, action="bulletin.draft")
    assert len(entries) == 1 and entries[0].target_id == b["id"]
    assert entries[0].after["status"] == "draft" and "13812345678" not in str(entries[0].after)
    # situation bulletins draft too; the list shows both, newest first, with the incident.
    r = c.post("/api/v1/bulletins", json={"incident_id": "inc-a", "kind": "situation"}, headers=h)
    assert r.status_code == 201 and r.json()["kind"] == "情况通报"
    listed = c.get("/api/v1/bulletins", params={"incident_id": "inc-a"}).json()
    assert listed["count"] == 2 and listed["data"][0]["incident_title"]
    assert c.get("/api/v1/bulletins", params={"status": "approved"}).json()["count"] == 0


def test_full_workflow_two_officers_publish_and_exports(env: Env) -> None:
    c, h, b = draft(env)
    bid = b["id"]
    # Approving with gaps left, or before submission, is refused.
    c2, csrf2 = officer2(env)
    h2 = {"X-CSRF-Token": csrf2}
    r = c2.post(f"/api/v1/bulletins/{bid}/approve", json={"version": 1}, headers=h2)
    assert r.status_code == 409 and r.json()["detail"][0]["field"] == "status"
    r = c.patch(
        f"/api/v1/bulletins/{bid}", json={"version": 1, "body": fill_gaps(b["body"])}, headers=h
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["version"] == 2 and edited["placeholders"] == []
    r = c.post(f"/api/v1/bulletins/{bid}/submit", json={"version": 2}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    # The drafter sees no approve action and the forced call is 403 naming the field.
    assert "approve" not in c.get(f"/api/v1/bulletins/{bid}").json()["actions"]
    r = c.post(f"/api/v1/bulletins/{bid}/approve", json={"version": 3}, headers=h)
    assert r.status_code == 403 and r.json()["detail"][0]["field"] == "approved_by"
    # The second officer approves and publishes.
    assert "approve" in c2.get(f"/api/v1/bulletins/{bid}").json()["actions"]
    r = c2.post(f"/api/v1/bulletins/{bid}/approve", json={"version": 3}, headers=h2)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["approved_by"] == OFFICER2
    r = c2.post(
        f"/api/v1/bulletins/{bid}/publish",
        json={"version": 4, "url": "https://weibo.com/lj/123"},
        headers=h2,
    )
    assert r.status_code == 200 and r.json()["status"] == "published"
    history = [e["action"] for e in r.json()["history"]]
    assert history == ["draft", "edit", "submit", "approve", "publish"]
    # Published: the incident has a response and the edit is refused.
    assert env.store.list_records(OfficialResponse, incident_id="inc-a")
    r = c.patch(f"/api/v1/bulletins/{bid}", json={"version": 5, "title": "改"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"][0]["field"] == "status"
    actions = sorted(e.action for e in env.store.list_records(AuditEntry, target_id=bid))
    assert actions == [
        "bulletin.approve",
        "bulletin.draft",
        "bulletin.edit",
        "bulletin.publish",
        "bulletin.submit",
    ]
    approve = env.store.list_records(AuditEntry, action="bulletin.approve")[0]
    assert approve.before["status"] == "submitted" and approve.after["status"] == "approved"

    # Exports: .docx with a Chinese RFC 5987 filename; Weibo text; both masked.
    r = c.get(f"/api/v1/bulletins/{bid}/docx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = r.headers["content-disposition"]
    assert f'filename="{bid}.docx"' in disposition
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.endswith(f"-{bid}.docx") and "关于" in name and "草稿" not in name
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert edited["title"] in text and "市应急管理局" in text
    assert "13812345678" not in text and "138****5678" in text
    w = c.get(f"/api/v1/bulletins/{bid}/weibo").json()
    assert w["headline"] == f"【{edited['title']}】" and w["length"] == len(w["text"]) <= 2000
    assert "13812345678" not in w["text"]


def test_stale_edit_is_409_with_the_current_record(env: Env) -> None:
    c, h, b = draft(env)
    bid = b["id"]
    c2, csrf2 = officer2(env)
    h2 = {"X-CSRF-Token": csrf2}
    r = c2.patch(f"/api/v1/bulletins/{bid}", json={"version": 1, "title": "赵青的标题"}, headers=h2)
    assert r.status_code == 200 and r.json()["version"] == 2
    # The first officer saves over version 1: refused, and told what is stored now.
    r = c.patch(f"/api/v1/bulletins/{bid}", json={"version": 1, "title": "李伟的标题"}, headers=h)
    assert r.status_code == 409
    body = r.json()
    assert body["detail"][0]["field"] == "version" and "第 1 版" in body["detail"][0]["problem"]
    assert body["current"]["title"] == "赵青的标题" and body["current"]["version"] == 2
    assert env.store.get_record(Bulletin, bid).title == "赵青的标题"
    # Steps check the version too: submitting what you have not seen is refused.
    r = c.post(f"/api/v1/bulletins/{bid}/submit", json={"version": 1}, headers=h)
    assert r.status_code == 409 and r.json()["current"]["version"] == 2
    assert len(env.store.list_records(AuditEntry, action="bulletin.edit")) == 1


@pytest.mark.parametrize("role", [Role.MONITOR, Role.ANALYST])
def test_monitors_and_analysts_read_but_never_write(env: Env, role: Role) -> None:
    oc, oh, b = draft(env)
    bid = b["id"]
    filled = oc.patch(
        f"/api/v1/bulletins/{bid}", json={"version": 1, "body": fill_gaps(b["body"])}, headers=oh
    )
    oc.post(f"/api/v1/bulletins/{bid}/submit", json={"version": 2}, headers=oh)
    assert filled.status_code == 200
    c, csrf = env.login(role)
    h = {"X-CSRF-Token": csrf}
    got = c.get(f"/api/v1/bulletins/{bid}")
    assert got.status_code == 200 and got.json()["actions"] == []
    assert c.get(f"/api/v1/bulletins/{bid}/weibo").status_code == 200
    assert c.get(f"/api/v1/bulletins/{bid}/docx").status_code == 200
    assert c.get("/api/v1/bulletins").json()["count"] == 1
    calls = [
        ("post", "/api/v1/bulletins", {"incident_id": "inc-a"}),
        ("patch", f"/api/v1/bulletins/{bid}", {"version": 3, "title": "x"}),
        ("post", f"/api/v1/bulletins/{bid}/submit", {"version": 3}),
        ("post", f"/api/v1/bulletins/{bid}/approve", {"version": 3}),
        ("post", f"/api/v1/bulletins/{bid}/publish", {"version": 3}),
    ]
    for method, url, body in calls:
        r = getattr(c, method)(url, json=body, headers=h)
        assert r.status_code == 403, (method, url, r.text)
        assert r.json()["detail"][0]["field"] == "role"
    assert env.store.get_record(Bulletin, bid).status == "submitted"


def test_admin_approves_an_officers_bulletin_and_token_auth(env: Env) -> None:
    c, h, b = draft(env)
    bid = b["id"]
    c.patch(
        f"/api/v1/bulletins/{bid}", json={"version": 1, "body": fill_gaps(b["body"])}, headers=h
    )
    c.post(f"/api/v1/bulletins/{bid}/submit", json={"version": 2}, headers=h)
    _, token = create_token(env.store, "cms", Role.ANALYST, secret=SECRET, actor="test")
    t = env.client()
    auth = {"Authorization": f"Bearer {token}"}
    assert t.get(f"/api/v1/bulletins/{bid}", headers=auth).status_code == 200
    r = t.post(f"/api/v1/bulletins/{bid}/approve", json={"version": 3}, headers=auth)
    assert r.status_code == 403
    a, csrf = env.login(Role.ADMIN)
    r = a.post(
        f"/api/v1/bulletins/{bid}/approve", json={"version": 3}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and r.json()["approved_by"] == USERS[Role.ADMIN]


def test_bad_input_names_the_field(env: Env) -> None:
    c, csrf = env.login(Role.OFFICER)
    h = {"X-CSRF-Token": csrf}
    r = c.post("/api/v1/bulletins", json={"incident_id": "inc-zz"}, headers=h)
    assert r.status_code == 404 and r.json()["detail"][0]["field"] == "incident_id"
    r = c.post("/api/v1/bulletins", json={"incident_id": "inc-a", "kind": "诗歌"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.kind"
    assert c.get("/api/v1/bulletins/b-nope").status_code == 404
    assert c.get("/api/v1/bulletins/b-nope/docx").json()["detail"][0]["field"] == "bulletin_id"
    _, _, b = draft(env)
    r = c.patch(f"/api/v1/bulletins/{b['id']}", json={"version": 1}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"
    r = c.patch(f"/api/v1/bulletins/{b['id']}", json={"version": 1, "body": "x" * 20001}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.body"
    r = c.post(f"/api/v1/bulletins/{b['id']}/submit", json={}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.version"
    # Without the CSRF header a cookie session cannot change anything.
    r = c.post(f"/api/v1/bulletins/{b['id']}/submit", json={"version": 1})
    assert r.status_code == 403 and r.json()["detail"][0]["field"] == "X-CSRF-Token"
    assert env.client().get("/api/v1/bulletins").status_code == 401


def test_incident_response_panel(env: Env) -> None:
    from datetime import timedelta

    from models import Alert, AlertEvent, Tier
    from tests.api.factory import T0

    env.clock.now = t = T0 + timedelta(minutes=50)
    env.store.save_record(
        Alert(
            id="al-a",
            incident_id="inc-a",
            title="化工厂",
            tier=Tier.II,
            rule="rumor-fast",
            opened_at=t - timedelta(hours=3),
            history=[
                AlertEvent(at=t - timedelta(hours=3), action="created", text="Ⅲ级：规则「x」"),
                AlertEvent(
                    at=t - timedelta(hours=2),
                    action="escalated",
                    text="Ⅲ级 → Ⅱ级：规则「rumor-fast」",
                    detail={"from": "III", "to": "II", "rule": "rumor-fast"},
                ),
            ],
        )
    )
    c, h, b = draft(env)
    c2, csrf2 = officer2(env)
    h2 = {"X-CSRF-Token": csrf2}
    bid = b["id"]
    c.patch(
        f"/api/v1/bulletins/{bid}", json={"version": 1, "body": fill_gaps(b["body"])}, headers=h
    )
    c.post(f"/api/v1/bulletins/{bid}/submit", json={"version": 2}, headers=h)
    c2.post(f"/api/v1/bulletins/{bid}/approve", json={"version": 3}, headers=h2)
    r = c2.post(f"/api/v1/bulletins/{bid}/publish", json={"version": 4}, headers=h2)
    assert r.status_code == 200
    panel = c.get("/api/v1/incidents/inc-a/response").json()
    assert panel["tier"] == "II" and panel["can_draft"] is True
    assert [s["tier"] for s in panel["tier_history"] if s["source"] == "alert"] == ["III", "II"]
    # Tiers in words as everywhere else, also for histories stored as "III 级" / "III → II".
    texts = [s["text"] for s in panel["tier_history"] if s["source"] == "alert"]
    assert texts[:2] == ["预警开启：Ⅲ级：规则「x」", "升级：Ⅲ级 → Ⅱ级：规则「rumor-fast」"]
    assert panel["responses"] and panel["responses"][0]["bulletin_id"] == bid
    assert panel["bulletins"][0]["id"] == bid
    assert panel["effect"] is not None and panel["effect"]["before"]["claim_posts"] >= 3
    env.clock.advance(hours=2)
    effect = c.get("/api/v1/incidents/inc-a/response").json()["effect"]
    assert effect["after"]["hours"] == 2.0 and effect["after"]["claim_posts"] == 0
    # A later incident with the same claim is offered the earlier rebuttal.
    from models import Incident

    env.store.save_record(
        Incident(id="inc-e", title="又传江北化工厂爆炸", root_ids=["lj-weibo:1007"])
    )
    later = c.get("/api/v1/incidents/inc-e/response").json()
    assert later["rebuttals"] and later["rebuttals"][0]["bulletin_id"] == bid
    ac, _ = env.login(Role.ANALYST)
    assert ac.get("/api/v1/incidents/inc-a/response").json()["can_draft"] is False
    assert c.get("/api/v1/incidents/nope/response").status_code == 404


def test_pages_render_for_each_role(env: Env) -> None:
    _, _, b = draft(env)
    bid = b["id"]
    for role in Role:
        c, _ = env.login(role)
        editor = c.get(f"/bulletins/{bid}")
        assert editor.status_code == 200 and 'id="pv-title"' in editor.text
        writer = role in (Role.OFFICER, Role.ADMIN)
        # The save button is rendered hidden for readers (the server decides, the page shows).
        assert ('id="save" hidden' in editor.text) is not writer
        assert "13812345678" not in editor.text
        listing = c.get("/bulletins")
        assert listing.status_code == 200 and bid in listing.text
        assert 'href="/bulletins"' in listing.text and 'href="/reports"' in listing.text
        incident = c.get("/incidents/inc-a")
        assert ('id="draft-rebuttal"' in incident.text) is writer
        assert c.get("/reports?period=daily&on=2026-11-30").status_code == 200
    assert c.get("/bulletins/b-none").status_code == 404
    assert c.get("/bulletins?status=bogus").status_code == 200
    bad = c.get("/reports?period=yearly&on=x")
    assert bad.status_code == 422 and "报告周期或日期无效" in bad.text
    assert "<script>" not in editor.text  # CSP: no inline script, data in JSON blocks
    assert env.client().get("/bulletins", follow_redirects=False).status_code == 303


def test_a_blank_title_or_body_is_refused_and_nothing_is_saved(env: Env) -> None:
    c, h, b = draft(env)
    for change, field in (({"title": "   "}, "title"), ({"body": " \n\n\t "}, "body")):
        r = c.patch(f"/api/v1/bulletins/{b['id']}", json={"version": 1, **change}, headers=h)
        assert r.status_code == 422, r.text
        (problem,) = r.json()["detail"]
        assert problem["field"] == f"body.{field}" and "不能为空" in problem["problem"]
    stored = env.store.get_record(Bulletin, b["id"])
    assert stored.version == 1 and stored.title == b["title"]


def test_redraft_from_the_incident_as_it_is_now(env: Env) -> None:
    """POST /refresh drafts the version read again from the incident; nothing new is no new
    version; a new post of the incident is in the text; the replaced text is kept and the
    change audited; only a draft can be redrafted."""
    from datetime import timedelta

    from models import Author, Post

    c, h, b = draft(env, "situation")
    bid = b["id"]
    r = c.post(f"/api/v1/bulletins/{bid}/refresh", json={"version": 1}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 1  # the incident holds nothing new
    when = env.clock() - timedelta(minutes=5)
    env.store.upsert_posts(
        [
            Post(
                source="lj-weibo",
                native_id=f"late{i}",
                text=f"江北区化工厂附近的朋友说听到了巨响，第{i}位网友",
                created_at=when,
                fetched_at=when,
                author=Author(id=f"late{i}", name=f"晚到网友{i}"),
                incident_id="inc-a",
            )
            for i in range(3)
        ]
    )
    r = c.post(f"/api/v1/bulletins/{bid}/refresh", json={"version": 1}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    # The step in words, with the posts it was drafted from (the dashboard's history).
    label = r.json()["history"][-1]["action_label"]
    assert label.startswith("按最新情况重新生成（依据 ") and "条帖子" in label
    stored = env.store.get_record(Bulletin, bid)
    assert stored.history[-1]["action"] == "refresh"
    assert stored.history[-1]["previous"]["body"] == b["body"].replace("138****5678", "13812345678")
    assert len(env.store.list_records(AuditEntry, action="bulletin.refresh")) == 1
    r = c.post(f"/api/v1/bulletins/{bid}/refresh", json={"version": 1}, headers=h)
    assert r.status_code == 409  # stale version
    r = c.post(f"/api/v1/bulletins/{bid}/submit", json={"version": 2}, headers=h)
    assert "refresh" not in r.json()["actions"]
    assert r.json()["withheld"]["refresh"] == "只有草稿可以按最新情况重新生成"
    r = c.post(f"/api/v1/bulletins/{bid}/refresh", json={"version": 3}, headers=h)
    assert r.status_code == 409 and "只有草稿" in str(r.json()["detail"])
