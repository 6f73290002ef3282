"""Alert routes for every role: the feed and its filters, one alert, acknowledge, assign,
respond, close, silences, the tier policy, metrics — on a real SQLite store whose alerts
come from the real alerting pass (engine), with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alerting.config import AlertingConfig
from api.app import create_app
from api.services.auth import create_token
from models import Alert, AuditEntry, Incident, Role
from store.sqlite import SQLiteStore
from tests.api.conftest import SECRET, Env, FakeClock, make_config
from tests.api.factory import T0, USERS, seed_city
from tingfeng.services import alerts as svc

CHANGE_ROLES = [Role.MONITOR, Role.OFFICER, Role.ADMIN]


def alerting_config() -> AlertingConfig:
    """Every tier to a WeCom-style webhook on a closed local port: sends fail for real."""
    return AlertingConfig.model_validate(
        {
            "channels": {
                "duty": {"type": "webhook", "url": "http://127.0.0.1:9/duty", "secret": "s3"},
                "lead": {"type": "webhook", "url": "http://127.0.0.1:9/lead", "secret": "s3"},
            },
            "routes": {"duty": ["duty"], "supervisor": ["lead"], "admin": ["lead"]},
        }
    )


def fresh_incidents(now) -> list[Incident]:
    """Two more incidents of a second fictional town (青石镇), seen just now, hot for the
    town (the shipped policy's heat bands count for hot incidents)."""
    return [
        Incident(
            id="inc-q1",
            title="青石镇自来水发黄，网友称联系电话13900001111无人接听",
            district="青石镇",
            category="民生诉求",
            first_seen=now - timedelta(hours=1),
            last_seen=now - timedelta(minutes=2),
            post_count=14,
            heat=45.0,
            velocity={"posts_per_h_1h": 9.0},
            hot=True,
        ),
        Incident(
            id="inc-q2",
            title="青石镇中学食堂被指使用过期食材",
            district="青石镇",
            category="食品安全",
            first_seen=now - timedelta(minutes=50),
            last_seen=now - timedelta(minutes=1),
            post_count=30,
            heat=63.0,
            velocity={"posts_per_h_1h": 25.0},
            rumor_score=0.4,
            hot=True,
        ),
    ]


@pytest.fixture
def aenv(tmp_path: Path) -> Iterator[Env]:
    config = make_config(tmp_path)
    config = config.model_copy(update={"alerting": alerting_config()})
    store = SQLiteStore(config.store.path)
    # An hour after 临江's explosion rumor started: it is still spreading (not cooled).
    clock = FakeClock(T0 + timedelta(hours=1))
    seed_city(store, clock())
    for inc in fresh_incidents(clock()):
        store.save_record(inc)
    svc.run_pass(store, svc.load_runtime(config), clock(), send=False)
    app = create_app(config, store=store, clock=clock)
    yield Env(app, store, clock, config, config.store.path)
    store.close()


def alert(env: Env, alert_id: str) -> Alert:
    found = env.store.get_record(Alert, alert_id)
    assert found is not None
    return found


def post(c: TestClient, csrf: str, path: str, body: dict) -> object:
    return c.post(path, json=body, headers={"X-CSRF-Token": csrf})


# -- reading -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_feed_for_every_role_most_urgent_first_with_deadlines_and_masked(
    aenv: Env, role: Role
) -> None:
    c, _ = aenv.login(role)
    r = c.get("/api/v1/alerts")
    assert r.status_code == 200, r.text
    feed = r.json()
    ids = [a["id"] for a in feed["data"]]
    assert ids[:3] == ["alert-inc-a", "alert-inc-q2", "alert-inc-q1"]
    assert feed["server_time"].startswith(aenv.clock().isoformat()[:16])
    assert feed["clock_rate"] == 1.0  # the machine's clock (a demo's story clock: faster)
    a, q2, q1 = feed["data"][:3]
    assert (a["tier"], a["tier_name"], a["tier_label"], a["colour"]) == (
        "I",
        "Ⅰ级",
        "特别重大",
        "red",
    )
    assert (q2["tier"], q2["tier_label"], q2["colour"]) == ("II", "重大", "orange")
    assert (q1["tier"], q1["tier_label"], q1["colour"]) == ("III", "较大", "yellow")
    assert q1["next_deadline"]["name"] == "first_response"
    assert q1["next_deadline"]["overdue"] is False
    assert "13900001111" not in r.text and "139****1111" in q1["title"]
    # Counting against the server's clock: tier III first response is 4 hours from the pass.
    due = q1["next_deadline"]["due"]
    assert due.startswith((aenv.clock() + timedelta(hours=4)).isoformat()[:16])
    # The blocked portal is a source alert in the same feed.
    assert any(
        x["alert_kind"] == "source" and x["source_name"] == "lj-portal" for x in feed["data"]
    )
    assert feed["open_by_tier"]["I"] >= 1 and sum(feed["open_by_tier"].values()) == feed["count"]

    d = c.get("/api/v1/alerts/alert-inc-q1")
    assert d.status_code == 200
    detail = d.json()
    assert detail["history"][0]["action"] == "created"
    assert detail["departments"] and "13900001111" not in d.text
    assert c.get("/api/v1/alerts/no-such").json()["detail"][0]["field"] == "alert_id"
    assert c.get("/api/v1/alerts/assignees").status_code == 200
    assert c.get("/api/v1/alerts/policy").status_code == 200
    assert c.get("/api/v1/silences").status_code == 200


def test_feed_filters_and_pages(aenv: Env) -> None:
    c, csrf = aenv.login(Role.MONITOR)
    by_tier = c.get("/api/v1/alerts?tier=II&tier=III&kind=incident").json()
    assert [a["id"] for a in by_tier["data"]] == ["alert-inc-q2", "alert-inc-q1"]
    one = c.get("/api/v1/alerts?incident=inc-q1").json()
    assert [a["id"] for a in one["data"]] == ["alert-inc-q1"]
    page = c.get("/api/v1/alerts?per_page=1&page=2").json()
    assert page["count"] >= 3 and len(page["data"]) == 1
    assert page["data"][0]["id"] == "alert-inc-q2"
    assert c.get("/api/v1/alerts?state=closed").json()["count"] == 0
    q1 = alert(aenv, "alert-inc-q1")
    r = post(
        c, csrf, "/api/v1/alerts/alert-inc-q1/close", {"version": q1.version, "reason": "误报"}
    )
    assert r.status_code == 200, r.text
    closed = c.get("/api/v1/alerts?state=closed").json()
    assert [a["id"] for a in closed["data"]] == ["alert-inc-q1"]
    assert "alert-inc-q1" not in [a["id"] for a in c.get("/api/v1/alerts").json()["data"]]
    assert c.get("/api/v1/alerts?state=all").json()["count"] == page["count"]
    notified = c.get("/api/v1/alerts?state=notified").json()
    assert all(a["status"] == "notified" for a in notified["data"])
    for bad, field in (
        ("tier=V", "query.tier.0"),
        ("state=gone", "query.state"),
        ("per_page=500", "query.per_page"),
        ("colour=red", "query.colour"),
    ):
        r = c.get("/api/v1/alerts?" + bad)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, (bad, r.text)


# -- authorization -------------------------------------------------------------------------
def _change_calls(c: TestClient, csrf: str, version: int) -> list:
    return [
        post(c, csrf, "/api/v1/alerts/alert-inc-a/acknowledge", {"version": version}),
        post(
            c,
            csrf,
            "/api/v1/alerts/alert-inc-a/assign",
            {"version": version, "assignee": USERS[Role.OFFICER]},
        ),
        post(
            c,
            csrf,
            "/api/v1/alerts/alert-inc-a/respond",
            {"version": version, "url": "https://weibo.example/lj/1"},
        ),
        post(c, csrf, "/api/v1/alerts/alert-inc-a/close", {"version": version, "reason": "已处置"}),
        post(
            c,
            csrf,
            "/api/v1/silences",
            {"target": "keyword", "value": "演练", "reason": "x", "minutes": 60},
        ),
        c.delete("/api/v1/silences/silence-1-0", headers={"X-CSRF-Token": csrf}),
    ]


def test_analysts_read_but_cannot_change_alerts(aenv: Env) -> None:
    before = alert(aenv, "alert-inc-a")
    c, csrf = aenv.login(Role.ANALYST)
    for r in _change_calls(c, csrf, before.version):
        assert r.status_code == 403, r.text
        assert r.json()["detail"][0]["field"] == "role"
    # An analyst's API token is refused the same way.
    _, token = create_token(aenv.store, "ro", Role.ANALYST, secret=SECRET, actor="admin1")
    t = aenv.client()
    r = t.post(
        "/api/v1/alerts/alert-inc-a/acknowledge",
        json={"version": before.version},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403 and r.json()["detail"][0]["field"] == "role"
    after = alert(aenv, "alert-inc-a")
    assert after.version == before.version and after.acknowledged_by is None
    assert not aenv.store.list_records(AuditEntry, action="alert.acknowledge")
    # Without a session or token nothing is readable; with a session, a change needs CSRF.
    assert aenv.client().get("/api/v1/alerts").status_code == 401
    m, _ = aenv.login(Role.MONITOR)
    r = m.post("/api/v1/alerts/alert-inc-a/acknowledge", json={"version": before.version})
    assert r.status_code == 403 and r.json()["detail"][0]["field"] == "X-CSRF-Token"


@pytest.mark.parametrize("role", CHANGE_ROLES)
def test_monitor_officer_admin_walk_the_lifecycle_audited(aenv: Env, role: Role) -> None:
    c, csrf = aenv.login(role)
    me = USERS[role]
    v = alert(aenv, "alert-inc-a").version
    r = post(c, csrf, "/api/v1/alerts/alert-inc-a/acknowledge", {"version": v, "comment": "收到"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == me
    assert body["version"] == v + 1 and body["history"][-1]["text"] == "收到"

    aenv.clock.advance(minutes=5)
    r = post(
        c,
        csrf,
        "/api/v1/alerts/alert-inc-a/assign",
        {"version": body["version"], "assignee": USERS[Role.OFFICER]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "assigned" and body["assignee"] == USERS[Role.OFFICER]
    assert body["assignee_name"] == "李伟"

    aenv.clock.advance(minutes=20)
    r = post(
        c,
        csrf,
        "/api/v1/alerts/alert-inc-a/respond",
        {"version": body["version"], "url": "https://weibo.example/linjiang/4990"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "responded"
    first = next(d for d in body["deadlines"] if d["name"] == "first_response")
    assert first["met_at"] is not None

    r = post(
        c,
        csrf,
        "/api/v1/alerts/alert-inc-a/close",
        {"version": body["version"], "reason": "已辟谣"},
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"

    entries = aenv.store.list_records(AuditEntry, actor=me, limit=100)
    actions = sorted(e.action for e in entries if e.action.startswith("alert."))
    assert actions == ["alert.acknowledge", "alert.assign", "alert.close", "alert.respond"]
    ack = next(e for e in entries if e.action == "alert.acknowledge")
    assert ack.target_kind == "alert" and ack.target_id == "alert-inc-a"
    assert ack.before["status"] == "notified" and ack.after["status"] == "acknowledged"
    assert ack.after["acknowledged_by"] == me and ack.at == aenv.clock() - timedelta(minutes=25)
    assign = next(e for e in entries if e.action == "alert.assign")
    assert assign.before["assignee"] is None and assign.after["assignee"] == USERS[Role.OFFICER]


def test_stale_version_is_409_with_the_current_record(aenv: Env) -> None:
    c, csrf = aenv.login(Role.MONITOR)
    o, ocsrf = aenv.login(Role.OFFICER)
    v = alert(aenv, "alert-inc-q2").version
    assert (
        post(c, csrf, "/api/v1/alerts/alert-inc-q2/acknowledge", {"version": v}).status_code == 200
    )
    r = post(
        o,
        ocsrf,
        "/api/v1/alerts/alert-inc-q2/assign",
        {"version": v, "assignee": USERS[Role.OFFICER]},
    )
    assert r.status_code == 409
    err = r.json()
    assert err["detail"][0]["field"] == "version"
    assert err["current"]["version"] == v + 1
    assert err["current"]["acknowledged_by"] == USERS[Role.MONITOR]
    assert alert(aenv, "alert-inc-q2").assignee is None  # nothing overwritten
    # The current record in a 409 is served like any alert: personal numbers masked.
    r = post(c, csrf, "/api/v1/alerts/alert-inc-q1/acknowledge", {"version": 99})
    assert r.status_code == 409 and "13900001111" not in r.text
    assert "139****1111" in r.json()["current"]["title"]
    # A closed alert takes no further step: 409 naming the status, with the record.
    v = alert(aenv, "alert-inc-q2").version
    assert (
        post(
            c, csrf, "/api/v1/alerts/alert-inc-q2/close", {"version": v, "reason": "重复"}
        ).status_code
        == 200
    )
    r = post(c, csrf, "/api/v1/alerts/alert-inc-q2/acknowledge", {"version": v + 1})
    assert r.status_code == 409 and r.json()["detail"][0]["field"] == "status"
    assert r.json()["current"]["status"] == "closed"


def test_bad_bodies_name_the_field(aenv: Env) -> None:
    c, csrf = aenv.login(Role.OFFICER)
    v = alert(aenv, "alert-inc-q1").version
    cases = [
        ("assign", {"version": v, "assignee": "nobody"}, 422, "body.assignee"),
        ("assign", {"version": v, "assignee": USERS[Role.ANALYST]}, 422, "body.assignee"),
        ("assign", {"version": v}, 422, "body.assignee"),
        ("respond", {"version": v, "url": "weibo.com/x"}, 422, "body.url"),
        (
            "respond",
            {"version": v, "url": "https://x.example/1", "deadline": "nope"},
            422,
            "body.deadline",
        ),
        ("close", {"version": v, "reason": "   "}, 422, "body.reason"),
        ("acknowledge", {}, 422, "body.version"),
        ("acknowledge", {"version": v, "extra": 1}, 422, "body.extra"),
        ("acknowledge", {"version": "x"}, 422, "body.version"),
    ]
    for action, body, status, field in cases:
        r = post(c, csrf, f"/api/v1/alerts/alert-inc-q1/{action}", body)
        assert r.status_code == status, (action, body, r.text)
        assert r.json()["detail"][0]["field"] == field, (action, body, r.text)
    assert alert(aenv, "alert-inc-q1").version == v  # nothing saved
    r = post(c, csrf, "/api/v1/alerts/no-such/acknowledge", {"version": 1})
    assert r.status_code == 404 and r.json()["detail"][0]["field"] == "alert_id"
    # A disabled officer cannot be handed an alert.
    admin, acsrf = aenv.login(Role.ADMIN)
    u = admin.get("/api/v1/users").json()["data"]
    officer = next(x for x in u if x["name"] == USERS[Role.OFFICER])
    r = admin.patch(
        f"/api/v1/users/{officer['name']}",
        json={"version": officer["version"], "disabled": True},
        headers={"X-CSRF-Token": acsrf},
    )
    assert r.status_code == 200
    m, mcsrf = aenv.login(Role.MONITOR)
    r = post(
        m, mcsrf, "/api/v1/alerts/alert-inc-q1/assign", {"version": v, "assignee": officer["name"]}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.assignee"


def test_assignees_are_enabled_officers_first(aenv: Env) -> None:
    c, _ = aenv.login(Role.ANALYST)
    data = c.get("/api/v1/alerts/assignees").json()["data"]
    assert data[0] == {
        "name": USERS[Role.OFFICER],
        "display_name": "李伟",
        "role": "officer",
        "role_label": "宣传/发言人",
    }
    assert USERS[Role.ANALYST] not in [d["name"] for d in data]


# -- silences --------------------------------------------------------------------------------
def test_silences_add_list_remove_audited(aenv: Env) -> None:
    c, csrf = aenv.login(Role.MONITOR)
    r = post(
        c,
        csrf,
        "/api/v1/silences",
        {
            "target": "incident",
            "value": "inc-q1",
            "reason": "已知停水检修，电话13900001111",
            "minutes": 90,
        },
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["active"] is True and s["created_by"] == USERS[Role.MONITOR]
    assert "139****1111" in s["reason"]
    assert s["ends_at"].startswith((aenv.clock() + timedelta(minutes=90)).isoformat()[:16])
    until = (aenv.clock() + timedelta(hours=3)).isoformat()
    r = post(
        c,
        csrf,
        "/api/v1/silences",
        {"target": "source", "value": "lj-portal", "reason": "登录墙已知", "until": until},
    )
    assert r.status_code == 201, r.text
    listed = c.get("/api/v1/silences").json()
    assert [x["value"] for x in listed["data"]] == ["inc-q1", "lj-portal"]

    aenv.clock.advance(minutes=10)
    r = c.delete(f"/api/v1/silences/{s['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["removed_by"] == USERS[Role.MONITOR]
    again = c.delete(f"/api/v1/silences/{s['id']}", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and again.json()["detail"][0]["field"] == "silence_id"
    missing = c.delete("/api/v1/silences/nope", headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 404 and missing.json()["detail"][0]["field"] == "silence_id"
    assert [x["value"] for x in c.get("/api/v1/silences").json()["data"]] == ["lj-portal"]
    ended = c.get("/api/v1/silences?include_ended=true").json()
    assert {x["value"] for x in ended["data"]} == {"inc-q1", "lj-portal"}
    actions = [e.action for e in aenv.store.list_records(AuditEntry, limit=100)]
    assert actions.count("silence.create") == 2 and actions.count("silence.remove") == 1

    for body, field in (
        ({"target": "incident", "value": "x", "reason": "r"}, "body"),
        ({"target": "incident", "value": "x", "reason": "r", "minutes": 5, "until": until}, "body"),
        ({"target": "district", "value": "x", "reason": "r", "minutes": 5}, "body.target"),
        ({"target": "incident", "value": "x", "reason": "", "minutes": 5}, "body.reason"),
        ({"target": "incident", "value": "x", "reason": "r", "minutes": -5}, "body.minutes"),
        (
            {
                "target": "incident",
                "value": "x",
                "reason": "r",
                "until": "2020-01-01T00:00:00+08:00",
            },
            "body.until",
        ),
        (
            {"target": "incident", "value": "x", "reason": "r", "until": "2030-01-01T00:00:00"},
            "body",
        ),
    ):
        r = post(c, csrf, "/api/v1/silences", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["field"] == field, (body, r.text)


# -- policy and metrics ----------------------------------------------------------------------
def test_policy_in_force_lists_tiers_deadlines_and_channels(aenv: Env) -> None:
    c, _ = aenv.login(Role.ADMIN)
    p = c.get("/api/v1/alerts/policy").json()
    assert p["source"].startswith("内置默认策略")
    tiers = {t["tier"]: t for t in p["tiers"]}
    assert [t["tier"] for t in p["tiers"]] == ["I", "II", "III", "IV"]
    assert tiers["I"]["label"] == "特别重大" and tiers["I"]["colour"] == "red"
    assert [(d["label"], d["hours"]) for d in tiers["I"]["deadlines"]] == [
        ("首次回应", 1.0),
        ("权威信息发布", 5.0),
        ("新闻发布会/通稿", 24.0),
    ]
    assert tiers["I"]["channels"] == ["duty（webhook）", "lead（webhook）"]
    assert tiers["IV"]["deadlines"] == [] and tiers["IV"]["channels"] == []
    rule = next(r for r in p["rules"] if r["name"] == "社会稳定")
    assert rule["when"]["min_posts"] == 5 and rule["tracks"][0]["label"] == "通稿"


def test_a_broken_policy_file_is_a_503_naming_the_setting(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("tiers: [1, 2]\n", "utf-8")
    config = make_config(tmp_path)
    config = config.model_copy(
        update={"alerting": AlertingConfig.model_validate({"policy": str(bad)})}
    )
    with SQLiteStore(config.store.path) as store:
        seed_city(store, FakeClock()())
        env = Env(
            create_app(config, store=store, clock=FakeClock()), store, FakeClock(), config, tmp_path
        )
        c, _ = env.login(Role.MONITOR)
        r = c.get("/api/v1/alerts")
        assert r.status_code == 503 and r.json()["detail"][0]["field"] == "alerting.policy"
        assert str(bad) in r.json()["detail"][0]["problem"]


def test_metrics_alert_queue_outbox_and_send_failures(aenv: Env) -> None:
    runtime = svc.load_runtime(aenv.config, clock=aenv.clock)
    report = svc.send_pending(aenv.store, runtime, aenv.clock())
    assert report.failed >= 2 and report.sent == 0  # the real sender, a closed local port
    aenv.clock.advance(minutes=30)
    c, _ = aenv.login(Role.ANALYST)
    text = c.get("/metrics").text
    lines = {
        ln.split(" ")[0]: float(ln.split(" ")[1])
        for ln in text.splitlines()
        if ln and not ln.startswith("#")
    }
    assert lines['tingfeng_alert_queue_depth{tier="I"}'] >= 1
    assert lines['tingfeng_alert_queue_depth{tier="III"}'] == 2  # inc-q1 and the portal
    assert lines["tingfeng_alert_queue_oldest_age_seconds"] == pytest.approx(1800, abs=1)
    assert lines['tingfeng_outbox_queue_depth{channel="duty"}'] >= 3
    assert lines['tingfeng_outbox_queue_oldest_age_seconds{channel="duty"}'] >= 1800
    assert lines['tingfeng_send_failures{channel="duty",state="retrying"}'] >= 1
    assert lines['tingfeng_send_failures{channel="duty",state="dead"}'] == 0
    # Acknowledging takes the alert out of the queue.
    m, mcsrf = aenv.login(Role.MONITOR)
    v = alert(aenv, "alert-inc-q1").version
    assert (
        post(m, mcsrf, "/api/v1/alerts/alert-inc-q1/acknowledge", {"version": v}).status_code == 200
    )
    text = c.get("/metrics").text
    assert 'tingfeng_alert_queue_depth{tier="III"} 1.0' in text


# -- pages -----------------------------------------------------------------------------------
def test_monitor_page_carries_the_feed_and_buttons_only_for_changers(aenv: Env) -> None:
    for role, can in ((Role.MONITOR, True), (Role.ANALYST, False)):
        c, _ = aenv.login(role)
        html = c.get("/").text
        assert 'id="alert-feed"' in html and "/static/js/monitor.js" in html
        assert ('"can_change": true' in html) is can
        assert ('"name": "liwei"' in html) is can  # the officers to hand alerts to
        assert ('id="alert-readonly"' in html) is not can
    admin, _ = aenv.login(Role.ADMIN)
    html = admin.get("/admin").text
    assert 'id="silences"' in html and 'id="policy"' in html and "/static/js/admin.js" in html


def test_store_reads_per_feed_do_not_grow_with_alerts(aenv: Env) -> None:
    from tests.api.test_resources import CallCounter

    counter = CallCounter(aenv.store)
    aenv.app.state.store = counter
    c, csrf = aenv.login(Role.MONITOR)
    assign = {"version": alert(aenv, "alert-inc-q1").version, "assignee": USERS[Role.OFFICER]}
    assert post(c, csrf, "/api/v1/alerts/alert-inc-q1/assign", assign).status_code == 200
    paths = ("/api/v1/alerts?per_page=100", "/api/v1/alerts/alert-inc-q1", "/")

    def calls() -> list[int]:
        out = []
        for path in paths:
            counter.calls = 0
            assert c.get(path).status_code == 200, path
            out.append(counter.calls)
        return out

    few = calls()
    now = aenv.clock()
    for i in range(40):
        inc = fresh_incidents(now)[i % 2].model_copy(update={"id": f"inc-bulk-{i}"})
        aenv.store.save_record(inc)
    svc.run_pass(aenv.store, svc.load_runtime(aenv.config), now, send=False)
    assert c.get("/api/v1/alerts?per_page=100").json()["count"] >= 44
    many = calls()
    assert few == many, (few, many)
    assert many[0] <= 8, many  # session + one read per open state + display names
