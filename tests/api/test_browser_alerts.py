"""The 监测台's alert feed in headless Chromium against a real ``tingfeng serve``: a new
alert made by the real alerting pass on the live store appears without a reload, coloured
by its tier, with a countdown that ticks (red once overdue); acknowledge and assign take one
click each and persist; an analyst sees no buttons and a forced call is refused; the admin
page shows silences and the tier policy in force.

Screenshots at 1366×768 and 360 px land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from models import Alert, Incident, Role
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import USERS, seed_city, seed_users
from tests.api.live import SECRET, LiveServer, free_port, serve, write_config
from tests.api.test_browser import CHROMIUM, browser, login, no_horizontal_scroll, shot
from tingfeng.config import load_config
from tingfeng.services import alerts as svc

__all__ = ["browser"]  # the module-scoped Chromium fixture of test_browser.py

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
RED = "rgb(198, 40, 40)"  # --t-red, the policy's colour of tier I


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-alerts")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc())
    with serve(tmp, db, poll_seconds=0.5) as server:
        # The blocked portal is already an alert when the monitor opens the page.
        alerting_pass(server)
        yield server


def alerting_pass(server: LiveServer, at=None) -> dict:
    """One real alerting pass (engine) on the live store, as the scheduler runs it."""
    config = load_config(server.config)
    with SQLiteStore(server.db) as store:
        return svc.run_pass(store, svc.load_runtime(config), at or now_utc(), send=False)


def incident(incident_id: str, title: str, seen, heat: float = 86.0) -> Incident:
    """A 河西镇 (another fictional town) incident in the top heat band: tier I."""
    return Incident(
        id=incident_id,
        title=title,
        district="河西镇",
        category="环境",
        first_seen=seen - timedelta(minutes=40),
        last_seen=seen,
        post_count=64,
        heat=heat,
        velocity={"posts_per_h_15m": 40.0, "posts_per_h_1h": 30.0, "posts_per_h_6h": 6.0},
        burst=True,
        hot=True,
        hot_since=seen - timedelta(minutes=10),
        rumor_score=0.62,
    )


def left(page, alert_id: str) -> int:
    return int(page.locator(f'li[data-id="{alert_id}"] .countdown').get_attribute("data-left"))


def test_live_alert_countdown_acknowledge_assign_persist(browser, live: LiveServer) -> None:
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live, Role.MONITOR)
    page.locator('#alert-list li[data-id="source-lj-portal"]').wait_for()
    page.evaluate("window.__sameDocument = true")

    # A new incident, and the alerting pass turns it into a tier-I alert, while the page is open.
    with SQLiteStore(live.db) as store:
        store.save_record(
            incident(
                "inc-hx1", "河西镇化工园区夜间排放刺鼻气体，网友称13712345678报警无人管", now_utc()
            )
        )
    report = alerting_pass(live)
    assert report["evaluate"]["created"] == 1
    row = page.locator('#alert-list li[data-id="alert-inc-hx1"]')
    try:
        row.wait_for(timeout=15000)
    except Exception:
        shot(page, "debug-alerts")
        raise AssertionError(f"the new alert did not appear; console errors: {errors}") from None
    assert page.evaluate("window.__sameDocument") is True
    assert "tier-red" in (row.get_attribute("class") or "")
    badge = row.locator(".tier-badge")
    assert badge.inner_text() == "Ⅰ级 特别重大"
    assert badge.evaluate("n => getComputedStyle(n).backgroundColor") == RED
    assert "137****5678" in row.inner_text() and "13712345678" not in page.content()
    # Most urgent first: the tier-I alert heads the feed.
    assert page.locator("#alert-list li").first.get_attribute("data-id") == "alert-inc-hx1"
    # The countdown ticks on the client, against the server's clock: about an hour, falling.
    countdown = row.locator(".countdown")
    assert re.fullmatch(r"剩余 (59 分 \d\d 秒|1 小时 00 分)", countdown.inner_text()), (
        countdown.inner_text()
    )
    first = left(page, "alert-inc-hx1")
    assert 3300 < first <= 3600
    page.wait_for_function(
        f"""() => Number(document.querySelector('li[data-id="alert-inc-hx1"] .countdown')
               .dataset.left) < {first}"""
    )
    assert "overdue" not in (countdown.get_attribute("class") or "")
    no_horizontal_scroll(page)
    shot(page, "monitor-alerts-1366")

    # Acknowledge: one click. Assign to the officer the chooser offers: one click.
    row.locator('button[data-action="ack"]').click()
    page.wait_for_selector('li[data-id="alert-inc-hx1"][data-status="acknowledged"]')
    assert "已确认" in page.locator("#alert-status").inner_text()
    row = page.locator('#alert-list li[data-id="alert-inc-hx1"]')
    assert row.locator('select[data-action="assignee"]').input_value() == USERS[Role.OFFICER]
    row.locator('button[data-action="assign"]').click()
    page.wait_for_selector('li[data-id="alert-inc-hx1"][data-status="assigned"]')
    assert "承办：李伟" in page.locator('li[data-id="alert-inc-hx1"]').inner_text()
    # The focus stays on the row just handled (keyboard users keep their place).
    assert page.evaluate("document.activeElement.closest('li').dataset.id") == "alert-inc-hx1"

    # Keyboard only, on the portal's alert: focus its 确认 button, Enter.
    page.locator('li[data-id="source-lj-portal"] button[data-action="ack"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('li[data-id="source-lj-portal"][data-status="acknowledged"]')

    page.reload()
    page.wait_for_selector('li[data-id="alert-inc-hx1"][data-status="assigned"]')
    assert "承办：李伟" in page.locator('li[data-id="alert-inc-hx1"]').inner_text()
    with SQLiteStore(live.db) as store:
        stored = store.get_record(Alert, "alert-inc-hx1")
    assert stored.acknowledged_by == USERS[Role.MONITOR] and stored.assignee == USERS[Role.OFFICER]

    # An alert whose first-response clock ran out an hour ago: its countdown is red.
    past = now_utc() - timedelta(hours=2)
    with SQLiteStore(live.db) as store:
        store.save_record(incident("inc-hx2", "河西镇自来水厂停水，网传水源被污染", past))
    alerting_pass(live, at=past)
    late = page.locator('li[data-id="alert-inc-hx2"] .countdown')
    late.wait_for()
    page.wait_for_function(
        """() => document.querySelector('li[data-id="alert-inc-hx2"] .countdown')
               .classList.contains('overdue')"""
    )
    assert late.inner_text().startswith("已超时 ")
    assert late.evaluate("n => getComputedStyle(n).backgroundColor") == RED
    assert not errors, errors
    context.close()


def test_phone_width_feed(browser, live: LiveServer) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    login(page, live, Role.OFFICER)
    page.locator("#alert-list li .tier-badge").first.wait_for()
    assert page.locator('#alert-list button[data-action="assign"]').count() >= 1
    no_horizontal_scroll(page)
    shot(page, "monitor-alerts-360")
    context.close()


def test_analyst_sees_the_feed_but_cannot_change_an_alert(browser, live: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    login(page, live, Role.ANALYST)
    page.locator("#alert-list li").first.wait_for()
    assert page.locator("#alert-list button, #alert-list select, #alert-list form").count() == 0
    assert "只能查看预警" in page.locator("#alert-readonly").inner_text()
    with SQLiteStore(live.db) as store:
        target = store.get_record(Alert, "source-lj-portal")
    forced = page.evaluate(
        """async (v) => {
            const r = await window.TF.api("POST", "/api/v1/alerts/source-lj-portal/close",
                {version: v, reason: "分析员试图关闭"});
            return [r.status, r.data.detail[0].field];
        }""",
        target.version,
    )
    assert forced == [403, "role"]
    with SQLiteStore(live.db) as store:
        assert store.get_record(Alert, "source-lj-portal").version == target.version
    shot(page, "monitor-alerts-analyst-1366")
    context.close()


def test_admin_page_silences_and_policy(browser, live: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    login(page, live, Role.ADMIN, "/admin")
    page.locator('#policy tbody tr[data-tier="I"]').wait_for()
    tier1 = page.locator('#policy tbody tr[data-tier="I"]').inner_text()
    assert "特别重大" in tier1 and "首次回应 1 小时" in tier1 and "新闻发布会/通稿 24 小时" in tier1
    assert page.locator("#policy-rules tbody tr").count() >= 9
    page.fill("#silence-form input[name=value]", "inc-hx1")
    page.fill("#silence-form input[name=reason]", "已交办环保部门处置")
    page.fill("#silence-form input[name=minutes]", "120")
    page.locator("#silence-form button").click()
    page.locator("#silences tbody tr", has_text="inc-hx1").wait_for()
    page.locator("#audit tbody tr", has_text="新建静默").first.wait_for()
    no_horizontal_scroll(page)
    shot(page, "admin-alerts-1366")
    page.locator("#silences tbody tr", has_text="inc-hx1").locator("button").click()
    page.locator("#silences tbody td.empty").wait_for()
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    page.locator('#policy tbody tr[data-tier="IV"]').wait_for()
    no_horizontal_scroll(page)
    shot(page, "admin-alerts-360")
    context.close()


@contextmanager
def in_process_server(tmp: Path, db: Path, clock, rate: float) -> Iterator[LiveServer]:
    """The API app on 127.0.0.1 in this process (uvicorn in a thread), on an injected
    clock that runs at ``rate``: a demo's story clock, without the demo."""
    import threading

    import uvicorn

    from api.app import create_app

    port = free_port()
    config_path = write_config(tmp, db, port, poll_seconds=600)  # no poll while we watch
    os.environ["TINGFENG_API__SECRET_KEY"] = SECRET
    try:
        config = load_config(config_path)
    finally:
        del os.environ["TINGFENG_API__SECRET_KEY"]
    store = SQLiteStore(db)
    app = create_app(config, store, clock=clock, clock_rate=lambda: rate)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):  # until it listens (a bounded wait for the thread, not a clock)
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "the in-process API did not start"
        yield LiveServer(f"http://127.0.0.1:{port}", db, config_path, None)  # type: ignore[arg-type]
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


def test_countdown_runs_at_the_server_clocks_rate(browser, tmp_path: Path) -> None:
    """On a demo's story clock (36 story seconds a second) a deadline counts down at that
    rate between two answers of the server, not at the browser's (it used to stand almost
    still, then jump at each poll)."""
    from tingfeng.demo.clock import ManualClock

    story = ManualClock(now_utc().replace(microsecond=0))
    db = tmp_path / "fast.db"
    with SQLiteStore(db) as store:
        seed_users(store)
        store.save_record(incident("inc-fast", "河西镇化工园区夜间排放刺鼻气体", story.now()))
    with in_process_server(tmp_path, db, story.now, rate=36.0) as server:
        alerting_pass(server, at=story.now())
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.clock.install()
        login(page, server, Role.MONITOR)
        page.locator('li[data-id="alert-inc-fast"] .countdown[data-left]').wait_for()
        page.clock.pause_at((page.evaluate("Date.now()") + 20) / 1000)  # seconds
        before = left(page, "alert-inc-fast")
        # At that pace from the first answer on (not after a second at the real pace).
        page.clock.run_for(500)
        assert 18 - 8 <= before - left(page, "alert-inc-fast") <= 18 + 8
        page.clock.run_for(9_500)  # ten seconds of the browser's clock, no poll in them
        after = left(page, "alert-inc-fast")
        assert 360 - 8 <= before - after <= 360 + 8, (before, after)
        assert not errors, errors
        context.close()
