"""Login, sessions, CSRF, rate limits, tokens, settings: the API's doors."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers import openapi as _openapi  # noqa: F401
from api.settings import ApiSettings, SettingsError
from models import ApiToken, AuditEntry, Role, Session, User
from tests.api.conftest import SECRET, Env, make_config
from tests.api.factory import PASSWORDS, USERS

PUBLIC = {"/healthz", "/login", "/static", "/api/v1/login"}


def _routes(router) -> list:
    """Every route, through FastAPI's included-router wrappers."""
    out = []
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        out.extend(_routes(inner) if inner is not None else [route])
    return out


def _paths(env: Env) -> list[tuple[str, str]]:
    out = []
    for route in _routes(env.app.router):
        path = getattr(route, "path", "")
        if any(path.startswith(p) for p in PUBLIC):
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method == "HEAD":
                continue
            out.append((method, path.replace("{", "").replace("}", "")))
    return out


def test_only_healthz_is_readable_without_auth(env: Env) -> None:
    c = env.client()
    assert c.get("/healthz").json() == {
        "status": "ok",
        "store": "ok",
        "scheduler": "disabled",
        "backend": "sqlite",
    }
    paths = _paths(env)
    assert len(paths) > 15
    for method, path in paths:
        r = c.request(method, path, follow_redirects=False)
        if path.startswith("/api/") or path == "/metrics":
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["detail"][0]["field"] == "authorization"
        else:  # dashboard pages send the browser to the login page
            assert r.status_code in (303, 401, 422), (method, path, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/login")


def test_login_sets_http_only_session_and_logout_ends_it(env: Env) -> None:
    c, csrf = env.login(Role.MONITOR)
    cookie = c.cookies.get("tf_session")
    assert cookie and len(cookie) > 30
    assert c.get("/api/v1/me").json()["role_label"] == "监测员"
    # Stored hashed: the cookie value is nowhere in the store.
    assert cookie.encode() not in env.path.read_bytes()
    assert all(s.id != cookie for s in env.store.list_records(Session))
    assert c.post("/api/v1/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    c.cookies.set("tf_session", cookie)
    assert c.get("/api/v1/me").status_code == 401


def test_session_expires_by_the_injected_clock(env: Env) -> None:
    c, _ = env.login(Role.OFFICER)
    env.clock.advance(hours=env.config.api.session_hours - 0.1)
    assert c.get("/api/v1/me").status_code == 200
    env.clock.advance(hours=0.2)
    assert c.get("/api/v1/me").status_code == 401


def test_wrong_password_is_401_naming_the_field(env: Env) -> None:
    r = env.client().post("/api/v1/login", json={"username": USERS[Role.ADMIN], "password": "x"})
    assert r.status_code == 401
    assert r.json()["detail"][0]["field"] == "password"
    r = env.client().post("/api/v1/login", json={"username": "nobody", "password": "whatever1"})
    assert r.status_code == 401


def test_login_rate_limited_per_user_then_released_by_clock(env: Env) -> None:
    c = env.client()
    name = USERS[Role.ANALYST]
    for _ in range(env.config.api.login_max_failures):
        assert (
            c.post("/api/v1/login", json={"username": name, "password": "bad"}).status_code == 401
        )
    r = c.post("/api/v1/login", json={"username": name, "password": PASSWORDS[Role.ANALYST]})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["detail"][0]["field"] == "username"
    env.clock.advance(minutes=env.config.api.login_window_minutes + 1)
    r = c.post("/api/v1/login", json={"username": name, "password": PASSWORDS[Role.ANALYST]})
    assert r.status_code == 200


def test_login_rate_limited_per_ip_across_user_names(env: Env) -> None:
    c = env.client()
    for i in range(env.config.api.login_max_failures_per_address):
        c.post("/api/v1/login", json={"username": f"guess{i}", "password": "bad-bad"})
    r = c.post(
        "/api/v1/login", json={"username": USERS[Role.ADMIN], "password": PASSWORDS[Role.ADMIN]}
    )
    assert r.status_code == 429
    assert "分钟后再试" in r.json()["detail"][0]["problem"]


def test_one_users_typos_do_not_lock_out_the_office(env: Env) -> None:
    """Behind one office address, a user who mistypes until locked is warned first, is
    locked alone, and the others log in from the same address; each failure is audited."""
    from models.auth import AuditEntry

    c = env.client()
    name = USERS[Role.MONITOR]
    problems = []
    for _ in range(env.config.api.login_max_failures):
        r = c.post("/api/v1/login", json={"username": name, "password": "bad"})
        assert r.status_code == 401
        problems.append(r.json()["detail"][0]["problem"])
    assert "再错" not in problems[0]
    assert "再错 2 次将暂停登录约 15 分钟" in problems[-3]
    assert "再错 1 次" in problems[-2]
    assert "失败次数过多，暂停登录约 15 分钟" in problems[-1]
    r = c.post("/api/v1/login", json={"username": name, "password": PASSWORDS[Role.MONITOR]})
    assert r.status_code == 429
    assert "请约 15 分钟后再试" in r.json()["detail"][0]["problem"]
    for role in (Role.ANALYST, Role.ADMIN):
        r = env.client().post(
            "/api/v1/login", json={"username": USERS[role], "password": PASSWORDS[role]}
        )
        assert r.status_code == 200, role
    actions = [e.action for e in env.store.list_records(AuditEntry) if e.actor == name]
    assert actions.count("session.login_failed") == env.config.api.login_max_failures - 1
    assert actions.count("session.login_locked") == 1


def test_cookie_session_needs_csrf_token_for_changes(env: Env) -> None:
    c, csrf = env.login(Role.ADMIN)
    body = {"name": "newbie", "role": "monitor", "password": "long-enough-1"}
    r = c.post("/api/v1/users", json=body)
    assert r.status_code == 403 and r.json()["detail"][0]["field"] == "X-CSRF-Token"
    r = c.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert env.store.get_record(User, "newbie") is None
    assert c.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_api_token_scoped_by_role_stored_hashed_and_revocable(env: Env) -> None:
    c, csrf = env.login(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    r = c.post("/api/v1/tokens", json={"name": "大屏", "role": "monitor"}, headers=h)
    assert r.status_code == 201
    token = r.json()["token"]
    assert token.startswith("tf_")
    assert token.split(".", 1)[1].encode() not in env.path.read_bytes()
    bearer = env.client()
    bearer.headers["Authorization"] = f"Bearer {token}"
    assert bearer.get("/api/v1/incidents").status_code == 200
    # No CSRF needed for a token, but its role still applies.
    assert bearer.get("/api/v1/users").status_code == 403
    assert bearer.get("/api/v1/posts/lj-weibo:1001/raw").status_code == 403
    bad = env.client()
    bad.headers["Authorization"] = token[:-2] + "xx"
    assert bad.headers["Authorization"] != f"Bearer {token}"
    bad.headers["Authorization"] = f"Bearer {token[:-2]}xx"
    assert bad.get("/api/v1/incidents").status_code == 401
    token_id = r.json()["id"]
    assert c.delete(f"/api/v1/tokens/{token_id}", headers=h).json()["revoked"] is True
    assert bearer.get("/api/v1/incidents").status_code == 401
    assert env.store.get_record(ApiToken, token_id).revoked


def test_expired_token_refused(env: Env) -> None:
    c, csrf = env.login(Role.ADMIN)
    r = c.post(
        "/api/v1/tokens",
        json={"name": "短期", "role": "analyst", "expires_days": 1},
        headers={"X-CSRF-Token": csrf},
    )
    bearer = env.client()
    bearer.headers["Authorization"] = f"Bearer {r.json()['token']}"
    assert bearer.get("/api/v1/me").json()["role"] == "analyst"
    env.clock.advance(days=1, seconds=1)
    assert bearer.get("/api/v1/me").status_code == 401


def test_disabled_user_loses_session_and_cannot_log_in(env: Env) -> None:
    admin, csrf = env.login(Role.ADMIN)
    monitor, _ = env.login(Role.MONITOR)
    name = USERS[Role.MONITOR]
    version = env.store.get_record(User, name).version
    r = admin.patch(
        f"/api/v1/users/{name}",
        json={"version": version, "disabled": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["disabled"]
    assert monitor.get("/api/v1/me").status_code == 401
    r = env.client().post(
        "/api/v1/login", json={"username": name, "password": PASSWORDS[Role.MONITOR]}
    )
    assert r.status_code == 401


def test_secrets_never_logged(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c, csrf = env.login(Role.ADMIN)
    r = c.post(
        "/api/v1/tokens", json={"name": "集成", "role": "analyst"}, headers={"X-CSRF-Token": csrf}
    )
    c.post(
        "/api/v1/users",
        json={"name": "zhao", "role": "officer", "password": "zhao-secret-99"},
        headers={"X-CSRF-Token": csrf},
    )
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (
        PASSWORDS[Role.ADMIN],
        "zhao-secret-99",
        r.json()["token"],
        csrf,
        SECRET,
        c.cookies.get("tf_session"),
    ):
        assert secret not in text
    # Nor in the audit log.
    for entry in env.store.list_records(AuditEntry, limit=1000):
        dumped = entry.model_dump_json()
        assert "password_hash" not in dumped and "secret_hash" not in dumped
        assert "zhao-secret-99" not in dumped


@pytest.mark.parametrize(
    ("api", "problem"),
    [
        ({}, "required outside development"),
        ({"secret_key": "changeme"}, "placeholder"),
        ({"secret_key": "short-secret"}, "too short"),
    ],
)
def test_app_refuses_to_start_without_a_real_secret(tmp_path, api, problem) -> None:
    config = make_config(tmp_path)
    config.api = ApiSettings.model_validate({"environment": "production", **api})
    with pytest.raises(SettingsError, match=problem) as info:
        create_app(config)
    assert "api.secret_key" in str(info.value)


def test_development_runs_without_a_secret(tmp_path) -> None:
    config = make_config(tmp_path)
    config.api = ApiSettings(environment="development")
    app = create_app(config)
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200


def test_api_section_loads_from_yaml_and_environment(tmp_path) -> None:
    from tingfeng.config import ConfigError, load_config

    path = tmp_path / "tingfeng.yaml"
    path.write_text("api:\n  base_url: https://yq.example.gov.cn/\n  session_hours: 8\n", "utf-8")
    cfg = load_config(path, environ={"TINGFENG_API__SECRET_KEY": SECRET})
    assert cfg.api.base_url == "https://yq.example.gov.cn"
    assert cfg.api.secure_cookies and cfg.api.check_secret() == SECRET
    assert SECRET not in repr(cfg.api)
    path.write_text("api:\n  base_url: yq.example.gov.cn\n", "utf-8")
    with pytest.raises(ConfigError, match=r"api\.base_url"):
        load_config(path, environ={})


def test_login_limit_is_shared_by_the_processes_of_one_store(env: Env) -> None:
    """Two API instances on one SQLite file (what ``serve --workers 2`` runs, each with its
    own store connections): failures at either count towards one limit (as one process
    counted them before), and the window releases it for both."""
    from store.sqlite import SQLiteStore

    other_store = SQLiteStore(env.path)
    try:
        other = create_app(env.config, store=other_store, clock=env.clock)
        first = env.client()
        second = TestClient(other, base_url="http://127.0.0.1:8000")
        name = USERS[Role.ANALYST]
        limit = env.config.api.login_max_failures

        def attempt(c: TestClient, password: str = "bad") -> int:
            return c.post(
                "/api/v1/login", json={"username": name, "password": password}
            ).status_code

        for i in range(limit):
            assert attempt(second if i % 2 else first) == 401
        # Per process, each would have seen only half the failures and let this through.
        assert attempt(first, PASSWORDS[Role.ANALYST]) == 429
        r = second.post(
            "/api/v1/login", json={"username": name, "password": PASSWORDS[Role.ANALYST]}
        )
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        env.clock.advance(minutes=env.config.api.login_window_minutes + 1)
        assert attempt(second, PASSWORDS[Role.ANALYST]) == 200
    finally:
        other_store.close()


def test_failed_logins_of_many_addresses_leave_one_windows_keys_behind(tmp_path) -> None:
    """A brute force from many addresses: the limiter's one record holds the keys that
    failed within the window only, whatever number of addresses ever failed; a success
    clears its user's count without touching the addresses'."""
    from datetime import timedelta

    from api.security import LoginLimiter
    from store.sqlite import SQLiteStore
    from tests.api.conftest import FakeClock

    clock = FakeClock()
    with SQLiteStore(tmp_path / "s.db") as store:
        limiter = LoginLimiter(3, timedelta(minutes=15), clock, store)
        limiter.succeeded("user:nobody")  # nothing stored yet: nothing written
        assert store.get_state(LoginLimiter.STATE) is None
        for i in range(200):
            limiter.failed(f"user:guess{i % 7}", f"ip:10.0.{i // 250}.{i % 250}")
            clock.advance(seconds=1)
        assert len(store.get_state(LoginLimiter.STATE)) == 207
        assert limiter.retry_after("user:guess3") is not None  # 28 failures: limited
        assert limiter.retry_after("ip:10.0.0.5") is None  # one failure
        clock.advance(minutes=16)  # the whole attack has left the window
        assert limiter.retry_after("user:guess3", "ip:10.0.0.5") is None
        limiter.failed("user:admin", "ip:192.0.2.9")
        assert set(store.get_state(LoginLimiter.STATE)) == {"user:admin", "ip:192.0.2.9"}
        limiter.succeeded("user:admin")
        assert set(store.get_state(LoginLimiter.STATE)) == {"ip:192.0.2.9"}
        clock.advance(minutes=16)
        limiter.succeeded("user:admin")  # the last key left the window: the record goes
        assert store.get_state(LoginLimiter.STATE) is None
