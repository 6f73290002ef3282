"""The whole daily flow of issue 13 in one browser session against a real ``tingfeng serve``:
a monitor logs in and an alert appears without a reload; they acknowledge it and assign it to
an officer; the officer opens the incident from the alert and drafts a rebuttal; a second
officer approves it and exports the .docx; a search is filtered; an analyst fails to change
the alert. The separate test files look at each step in depth; this one checks they chain.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from docx import Document
from playwright.sync_api import expect

from models import Alert, Incident, Role
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import OFFICER2, OFFICER2_PASSWORD, PASSWORDS, USERS, seed_city
from tests.api.live import LiveServer, serve
from tests.api.test_browser import CHROMIUM, browser, shot
from tests.api.test_browser_bulletins import GAP, login_as, logout, status_is
from tingfeng.config import load_config
from tingfeng.services import alerts as svc

__all__ = ["browser"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-flow")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc(), second_officer=True)
    with serve(tmp, db, poll_seconds=0.5) as server:
        yield server


def wake_incident(live: LiveServer) -> None:
    """The seeded chemical-plant rumor flares up again now; one real alerting pass runs."""
    now = now_utc()
    with SQLiteStore(live.db) as store:
        inc = store.get_record(Incident, "inc-a")
        assert inc is not None
        store.save_record(
            inc.model_copy(
                update={
                    "first_seen": now - timedelta(minutes=40),
                    "last_seen": now,
                    "hot": True,
                    "hot_since": now - timedelta(minutes=10),
                    "heat": 92.0,
                }
            )
        )
        config = load_config(live.config)
        svc.run_pass(store, svc.load_runtime(config), now, send=False)
        svc.draft_on_alerts(store, config, now)  # as the worker's alerting job does next


def test_alert_to_approved_rebuttal_search_and_analyst(browser, live: LiveServer) -> None:
    errors: list[str] = []
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not re.search(r"status of 403", m.text)
            else None
        ),
    )

    # 1. The monitor has the 监测台 open; the alert arrives without a reload.
    login_as(page, live, USERS[Role.MONITOR], PASSWORDS[Role.MONITOR], "/")
    page.evaluate("window.__sameDocument = true")
    wake_incident(live)
    with SQLiteStore(live.db) as store:
        alert = svc.alert_for_incident(store, "inc-a")
    assert alert is not None
    row = page.locator(f'#alert-list li[data-id="{alert.id}"]')
    row.wait_for(timeout=20000)
    assert page.evaluate("window.__sameDocument") is True
    assert "级" in row.locator(".tier-badge").inner_text()
    assert row.locator(".countdown").inner_text().startswith("剩余 ")
    # The rebuttal drafted on alert is one click away.
    draft_link = row.locator('a[data-action="draft"]')
    assert "辟谣草稿已就绪" in draft_link.inner_text()
    assert re.fullmatch(r"/bulletins/b-[0-9a-f]+", draft_link.get_attribute("href") or "")

    # 2. Acknowledge and assign, one click each.
    row.locator('button[data-action="ack"]').click()
    page.wait_for_selector(f'li[data-id="{alert.id}"][data-status="acknowledged"]')
    row = page.locator(f'#alert-list li[data-id="{alert.id}"]')
    row.locator('select[data-action="assignee"]').select_option(USERS[Role.OFFICER])
    row.locator('button[data-action="assign"]').click()
    page.wait_for_selector(f'li[data-id="{alert.id}"][data-status="assigned"]')
    shot(page, "flow-monitor-1366")
    logout(page)

    # 3. The officer opens the incident from the alert and drafts a rebuttal.
    login_as(page, live, USERS[Role.OFFICER], PASSWORDS[Role.OFFICER], "/")
    page.locator(f'#alert-list li[data-id="{alert.id}"] a[href="/incidents/inc-a"]').click()
    page.wait_for_url(re.compile(r"/incidents/inc-a$"))
    page.locator("#velocity-chart svg").wait_for()
    page.locator("#draft-rebuttal").click()
    page.wait_for_url(re.compile(r"/bulletins/b-[0-9a-f]+$"))
    bid = urlsplit(page.url).path.rsplit("/", 1)[1]
    page.locator("#pv-body mark.gap").first.wait_for()
    page.fill("#f-body", GAP.sub("临江市应急管理局", page.input_value("#f-body")))
    page.locator("#save").click()
    expect(page.locator("#b-msg")).to_contain_text("已保存")
    page.locator("#act-submit").click()
    status_is(page, "待审核")
    assert page.locator("#act-approve").is_hidden()
    title = page.input_value("#f-title")
    shot(page, "flow-bulletin-submitted-1366")
    logout(page)

    # 4. A second officer approves it and exports the .docx.
    login_as(page, live, OFFICER2, OFFICER2_PASSWORD, f"/bulletins/{bid}")
    page.locator("#act-approve").click()
    status_is(page, "已审核")
    with page.expect_download() as info:
        page.locator("#export-docx").click()
    doc = Document(io.BytesIO(Path(info.value.path()).read_bytes()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert title in text and "临江市应急管理局" in text and "待核实" not in text

    # 5. Search and filter.
    page.goto(live.url + "/search")
    page.fill("#q", "化工厂")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=%E5%8C%96"))
    total = page.locator("#total").inner_text()
    page.locator(".facets a", has_text="江北区").click()
    page.wait_for_url(re.compile(r"region="))
    assert page.locator("#results mark").first.inner_text() == "化工厂"
    assert "共" in page.locator("#total").inner_text() and total
    shot(page, "flow-search-1366")
    logout(page)

    # 6. An analyst sees the alert but cannot change it.
    login_as(page, live, USERS[Role.ANALYST], PASSWORDS[Role.ANALYST], "/")
    page.locator(f'#alert-list li[data-id="{alert.id}"]').wait_for()
    assert page.locator("#alert-list button").count() == 0
    with SQLiteStore(live.db) as store:
        before = store.get_record(Alert, alert.id)
    forced = page.evaluate(
        """async ([id, v]) => {
            const r = await window.TF.api("POST", `/api/v1/alerts/${id}/close`,
                {version: v, reason: "分析员试图关闭"});
            return [r.status, r.data.detail[0].field];
        }""",
        [alert.id, before.version],
    )
    assert forced == [403, "role"]
    with SQLiteStore(live.db) as store:
        after = store.get_record(Alert, alert.id)
    assert after.version == before.version and after.assignee == USERS[Role.OFFICER]
    assert not errors, errors
    context.close()


def test_logout_waits_for_the_poll_on_the_wire(browser, live: LiveServer) -> None:
    """A poll still on the wire when the monitor logs out used to reach the server after the
    session was gone: a 401 in the console, and its handler racing the logout's redirect. The
    page now stops polling and sends the logout only once that request has landed. The poll
    is held at the network layer, so the race is forced rather than hoped for."""
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login_as(page, live, USERS[Role.MONITOR], PASSWORDS[Role.MONITOR], "/")

    held: list = []
    released = False
    logouts: list[bool] = []  # per logout request: was a poll still held when it left?
    page.on(
        "request",
        lambda r: logouts.append(not released) if urlsplit(r.url).path == "/logout" else None,
    )
    page.route(re.compile(r"/api/v1/"), lambda route: held.append(route))
    for _ in range(200):  # the next poll (every 0.5 s here) is caught and kept on the wire
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "no poll request within 10 s"
    page.locator(".who button").click()
    for _ in range(30):  # the old page sent the logout at once; give it 1.5 s to show
        if logouts:
            break
        page.wait_for_timeout(50)
    assert not logouts, "the logout left while a poll was still on the wire"
    released = True
    for route in held:
        route.continue_()
    page.unroute(re.compile(r"/api/v1/"))  # falls back any request caught since
    page.wait_for_url(re.compile(r"/login"))
    assert logouts == [False]
    assert not errors, errors
    context.close()
