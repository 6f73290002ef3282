"""The dashboard in headless Chromium (Debian's /usr/bin/chromium) against a real
``tingfeng serve``: log in with the keyboard, watch a hot incident appear without a reload,
open an incident, search, filter, export, and fail an admin action as an analyst.

Screenshots of every page at 1366×768 and 360 px land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from models import Alert, Incident, Role, Tier
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import PASSWORDS, USERS, seed_city
from tests.api.live import LiveServer, serve

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc())
    with serve(tmp, db, poll_seconds=0.5) as server:
        yield server


#: How long a page action or wait may take before the test fails. Playwright's 30 s default
#: was too short on a CI machine running two test workers beside Chromium (a login's
#: navigation timed out twice under load 12); a real failure still fails, only later.
BROWSER_TIMEOUT_MS = 90_000
#: The same for ``expect`` assertions (Playwright's default is 5 s).
EXPECT_TIMEOUT_MS = 20_000


class PatientBrowser:
    """The launched Chromium, whose every context waits up to BROWSER_TIMEOUT_MS."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield PatientBrowser(b)
        b.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport + 1, f"page is {width}px wide in a {viewport}px viewport"


def login(page, live: LiveServer, role: Role, path: str = "/") -> None:
    page.goto(live.url + path)
    page.wait_for_url(re.compile(r"/login"))
    # Keyboard only: the user name field has focus (autofocus), Tab to the password, Enter
    # submits. Wait for the focus itself: on a loaded machine typing can start before the
    # browser has applied autofocus, and the keystrokes would go nowhere.
    # A function, not an expression string: polling an expression needs eval, which the CSP
    # (script-src 'self') refuses once the first check comes back false.
    page.wait_for_function("() => document.activeElement?.id === 'username'")
    page.keyboard.type(USERS[role])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS[role])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == path)


def test_monitor_flow_live_update_incident_search_export(browser, live: LiveServer) -> None:
    errors: list[str] = []
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live, Role.MONITOR)
    hot = page.locator("#hot-body tr")
    assert hot.count() == 2
    assert "网传江北区化工厂爆炸致多人死亡" in hot.first.inner_text()
    assert page.locator("#hot-body .spark svg").count() == 2
    assert "临江市政府网" in page.locator("#attn-list").inner_text()
    assert page.locator("#hot-body .tier-cell").all_inner_texts() == ["—", "—"]  # no alert yet
    no_horizontal_scroll(page)
    shot(page, "monitor-1366")

    # A new hot incident written while the page is open appears without a reload.
    page.evaluate("window.__sameDocument = true")
    with SQLiteStore(live.db) as store:
        t = now_utc()
        store.save_records(
            [
                Incident(
                    id="inc-d",
                    title="临江大桥桥面出现裂缝，网友称已封路",
                    district="江北区",
                    category="交通",
                    first_seen=t - timedelta(minutes=30),
                    last_seen=t,
                    hot=True,
                    hot_since=t,
                    heat=97.0,
                    post_count=120,
                    velocity={
                        "posts_per_h_15m": 80.0,
                        "posts_per_h_1h": 60.0,
                        "posts_per_h_6h": 12.0,
                    },
                    rumor_score=0.55,
                ),
                Alert(id="alert-inc-d", incident_id="inc-d", tier=Tier.I, rule="t"),
            ]
        )  # one transaction: the row never shows without its tier
    new_row = page.locator('#hot-body tr[data-id="inc-d"]')
    try:
        new_row.wait_for(timeout=15000)
    except Exception:
        shot(page, "debug-monitor")
        raise AssertionError(f"no live update; console errors: {errors}") from None
    assert page.evaluate("window.__sameDocument") is True
    assert "临江大桥" in page.locator("#hot-body tr").first.inner_text()
    assert page.locator("#hot-count").inner_text() == "3"
    assert new_row.locator(".tier-cell").inner_text() == "Ⅰ级"  # its current alert's tier

    # Open the incident (keyboard: focus the link, Enter). The live refresh rebuilds the
    # table (every 0.5 s here): the focus must stay on the link across a refresh.
    page.locator('#hot-body a[href="/incidents/inc-a"]').focus()
    before = page.locator("#updated").inner_text()
    page.wait_for_function(
        "(before) => document.getElementById('updated').textContent !== before", arg=before
    )
    focused = page.evaluate("() => document.activeElement?.getAttribute('href')")
    assert focused == "/incidents/inc-a", f"focus lost by the live refresh: {focused!r}"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/incidents/inc-a$"))
    page.locator("#velocity-chart svg").wait_for()
    text = page.locator("main").inner_text()
    for expected in (
        "传播速度",
        "谣言评分",
        "推高评分的因素",
        "流传的说法",
        "时间线",
        "传播最广的帖子",
    ):
        assert expected in text
    assert "13812345678" not in text and "138****5678" in text
    no_horizontal_scroll(page)
    shot(page, "incident-1366")

    # Search, filter by a facet and a band, export.
    page.goto(live.url + "/search")
    page.fill("#q", "化工厂")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=%E5%8C%96"))
    assert page.locator("#results mark").first.inner_text() == "化工厂"
    assert "共 6 条" in page.locator("#total").inner_text()
    page.locator("#day-chart svg").wait_for()
    page.select_option("select[name=rumor]", "high")
    page.locator(".search-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"rumor=high"))
    assert "共 3 条" in page.locator("#total").inner_text()
    page.locator(".facets a", has_text="江北区").click()
    page.wait_for_url(re.compile(r"region="))
    assert "共 3 条" in page.locator("#total").inner_text()
    no_horizontal_scroll(page)
    shot(page, "search-1366")
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    content = Path(info.value.path()).read_text("utf-8-sig")
    lines = content.strip().splitlines()
    assert lines[0].startswith("id,source,kind") and len(lines) == 4
    assert "138****5678" in content and "13812345678" not in content

    page.goto(live.url + "/sources")
    assert "异常" in page.locator("main").inner_text()
    shot(page, "sources-1366")
    assert not errors, errors
    context.close()


def test_phone_width_layout(browser, live: LiveServer) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    login(page, live, Role.OFFICER)
    page.locator("#hot-body tr").first.wait_for()
    pages = (
        ("/", "monitor", "#hot-body .spark svg"),
        ("/incidents/inc-a", "incident", "#velocity-chart svg"),
        ("/search?q=暴雨", "search", "#day-chart svg"),
        ("/sources", "sources", "table"),
    )
    for path, name, ready in pages:
        page.goto(live.url + path)
        page.locator(ready).first.wait_for()
        no_horizontal_scroll(page)
        shot(page, f"{name}-360")
    context.close()


def test_analyst_fails_admin_action_admin_succeeds(browser, live: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    login(page, live, Role.ANALYST)
    assert page.locator('nav a[href="/admin"]').count() == 0
    page.goto(live.url + "/admin")
    assert "只有管理员" in page.locator("main").inner_text()
    status = page.evaluate(
        """async () => {
            const r = await window.TF.api("POST", "/api/v1/users",
                {name: "intruder", role: "admin", password: "intruder-pass"});
            return [r.status, r.data.detail[0].field];
        }"""
    )
    assert status == [403, "role"]
    page.locator(".who button").click()
    page.wait_for_url(re.compile(r"/login"))

    login(page, live, Role.ADMIN, "/admin")
    page.locator("#users tbody tr").first.wait_for()
    page.fill("#user-form input[name=name]", "zhoujie")
    page.fill("#user-form input[name=display_name]", "周杰")
    page.select_option("#user-form select[name=role]", "officer")
    page.fill("#user-form input[name=password]", "zhoujie-pass-1")
    page.locator("#user-form button").click()
    page.locator("#users tbody tr", has_text="zhoujie").wait_for()
    page.locator("#audit tbody tr", has_text="新建用户").first.wait_for()
    assert "已创建用户 zhoujie" in page.locator("#admin-status").inner_text()
    no_horizontal_scroll(page)
    shot(page, "admin-1366")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live.url + "/admin")
    page.locator("#audit tbody tr").first.wait_for()
    no_horizontal_scroll(page)
    shot(page, "admin-360")
    page.goto(live.url + "/docs")
    no_horizontal_scroll(page)
    shot(page, "docs-360")
    context.close()
