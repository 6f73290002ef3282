"""Headers, size limits, JSON errors, masking, stale versions."""

from __future__ import annotations

import re

from api.middleware import CSP
from api.security import mask_personal
from models import Role, User
from tests.api.conftest import Env
from tests.api.factory import USERS


def test_security_headers_on_pages_api_and_errors(env: Env) -> None:
    c, _ = env.login(Role.MONITOR)
    for path in ("/", "/api/v1/incidents", "/api/v1/nope", "/healthz", "/static/app.css"):
        r = c.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    script_src = re.search(r"script-src ([^;]*)", CSP).group(1)
    assert script_src.strip() == "'self'"
    assert "frame-ancestors 'none'" in CSP


def test_pages_have_no_inline_script(env: Env) -> None:
    c, _ = env.login(Role.ADMIN)
    for path in (
        "/",
        "/incidents/inc-a",
        "/search?q=爆炸",
        "/sources",
        "/admin",
        "/docs",
        "/login",
    ):
        html = c.get(path).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), path  # no event-handler attributes
        assert not re.search(r"javascript:", html, re.I), path
        # Scripts, styles and images come from this server only (never a CDN).
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html), path


def test_every_4xx_is_json_naming_field_and_problem(env: Env) -> None:
    c, csrf = env.login(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    cases = [
        c.get("/api/v1/nothing-here"),
        c.post("/api/v1/incidents", headers=h),
        c.get("/api/v1/posts?per_page=1000"),
        c.get("/api/v1/posts?since=yesterday"),
        c.get("/api/v1/posts?bogus=1"),
        c.get("/api/v1/incidents?rumor=maybe"),
        c.get("/api/v1/incidents/does-not-exist"),
        c.post(
            "/api/v1/users", content=b"{not json", headers={**h, "content-type": "application/json"}
        ),
        c.post("/api/v1/users", json={"name": "x", "role": "boss", "password": "1"}, headers=h),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, r.request.url
        assert r.headers["content-type"].startswith("application/json")
        detail = r.json()["detail"]
        assert detail and all(d["field"] and d["problem"] for d in detail), r.text
    assert cases[2].json()["detail"][0]["field"] == "query.per_page"
    assert cases[3].json()["detail"][0]["field"] == "query.since"
    assert cases[6].json()["detail"][0]["field"] == "incident_id"
    fields = {d["field"] for d in cases[8].json()["detail"]}
    assert {"body.name", "body.role", "body.password"} <= fields


class CountingStore:
    """Wraps the real store and counts post queries (the expensive ones)."""

    def __init__(self, inner) -> None:
        self.inner, self.post_queries = inner, 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in ("search", "iter_posts", "count_posts", "get_posts", "get_post"):

            def counted(*a, **kw):
                self.post_queries += 1
                return attr(*a, **kw)

            return counted
        return attr


def test_oversized_requests_refused_without_querying_posts(env: Env) -> None:
    counting = CountingStore(env.store)
    env.app.state.store = counting
    c, csrf = env.login(Role.ADMIN)
    r = c.get("/api/v1/posts", params={"q": "爆" * 201})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.q"
    r = c.get("/api/v1/posts?" + "&".join(f"source=s{i}" for i in range(800)))
    assert r.status_code == 413 and r.json()["detail"][0]["field"] == "query"
    big = b'{"name": "' + b"a" * 70000 + b'"}'
    r = c.post(
        "/api/v1/users",
        content=big,
        headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["detail"][0]["field"] == "body"

    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    r = c.post("/api/v1/users", content=chunks(), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 413
    assert counting.post_queries == 0


def test_stale_version_is_409_with_current_record(env: Env) -> None:
    c, csrf = env.login(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    name = USERS[Role.OFFICER]
    v = env.store.get_record(User, name).version
    assert (
        c.patch(
            f"/api/v1/users/{name}",
            json={"version": v, "display_name": "李伟（新闻办）"},
            headers=h,
        ).status_code
        == 200
    )
    r = c.patch(f"/api/v1/users/{name}", json={"version": v, "role": "admin"}, headers=h)
    assert r.status_code == 409
    body = r.json()
    assert body["detail"][0]["field"] == "version"
    assert body["current"]["display_name"] == "李伟（新闻办）"
    assert body["current"]["version"] == v + 1
    assert "password_hash" not in body["current"]
    assert env.store.get_record(User, name).role == Role.OFFICER


def test_mask_personal_numbers() -> None:
    assert mask_personal("电话 13812345678。") == "电话 138****5678。"
    assert mask_personal("+86 139-1234-5678") == "+86 139****5678"
    assert mask_personal("身份证 11010119900307451X") == "身份证 110101********451X"
    # Post ids, timestamps and longer digit runs are left alone.
    for text in ("5023000000000001", "20261201083000", "订单号 213812345678"):
        assert mask_personal(text) == text
