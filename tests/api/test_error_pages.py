"""An unknown dashboard path asked for by a browser is the Chinese error page (404), not
the API's JSON problem; API paths and JSON clients keep the JSON (UX audit finding 8)."""

from __future__ import annotations

from models import Role
from tests.api.conftest import Env

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_unknown_page_is_the_chinese_error_page_for_a_browser(env: Env) -> None:
    c, _ = env.login(Role.MONITOR)
    r = c.get("/nosuchpage", headers=HTML)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text and "返回监测台" in r.text
    assert '"detail"' not in r.text and "Not Found" not in r.text
    assert 'aria-label="主导航"' in r.text  # the logged-in user keeps the navigation
    # Not logged in: the same page, without the navigation.
    anon = env.client().get("/nosuchpage", headers=HTML)
    assert anon.status_code == 404 and "页面不存在" in anon.text
    assert 'aria-label="主导航"' not in anon.text


def test_unknown_api_path_and_json_clients_keep_the_json_problem(env: Env) -> None:
    c, _ = env.login(Role.MONITOR)
    for path, headers in (
        ("/api/v1/nosuch", HTML),  # an API path stays JSON even for a browser
        ("/nosuchpage", {"Accept": "application/json"}),
        ("/nosuchpage", {}),
    ):
        r = c.get(path, headers=headers)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/json"), (path, headers)
        assert r.json()["detail"][0]["field"] == "path"
