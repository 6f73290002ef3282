"""Bulletins in headless Chromium against a real ``tingfeng serve``: an officer drafts a
rebuttal from the incident page, sees the [待核实] gaps highlighted, edits (and meets a
version conflict), submits, finds no approve action (the forced call is 403); a second
officer approves and publishes; the .docx downloads and opens with python-docx; the
reports page draws its charts. Screenshots at 1366×768 and 360 px go to tests/artifacts/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from docx import Document
from playwright.sync_api import expect

from models import Role
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import OFFICER2, OFFICER2_PASSWORD, PASSWORDS, USERS, seed_city
from tests.api.live import LiveServer, serve
from tests.api.test_browser import CHROMIUM, browser, no_horizontal_scroll, shot

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_browser.py

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
GAP = re.compile(r"\[待核实[^\]]*\]")


def seed_answers(store: SQLiteStore) -> None:
    """Alerts with tier history for inc-a (answered in time by an official post 30 minutes
    after the rumor started) and inc-b (never answered, late), so the incident page and
    the report have a tier history, a response, a before/after and compliance to show."""
    from datetime import timedelta

    from models import Alert, AlertEvent, Deadline, OfficialResponse, Tier
    from tests.api.factory import T0

    due_a = T0 + timedelta(hours=2, minutes=20)
    store.save_record(
        Alert(
            id="al-inc-a",
            incident_id="inc-a",
            title="网传江北区化工厂爆炸致多人死亡",
            tier=Tier.II,
            rule="谣言快速传播",
            opened_at=T0 + timedelta(minutes=10),
            created_at=T0 + timedelta(minutes=10),
            deadlines=[Deadline(name="first_response", label="首次回应", hours=2, due=due_a)],
            history=[
                AlertEvent(
                    at=T0 + timedelta(minutes=10), action="created", text="Ⅲ级：规则「热度」"
                ),
                AlertEvent(
                    at=T0 + timedelta(minutes=20),
                    action="escalated",
                    text="Ⅲ级 → Ⅱ级：规则「谣言快速传播」",
                    detail={"from": "III", "to": "II", "rule": "谣言快速传播"},
                ),
            ],
        )
    )
    due_b = T0 + timedelta(hours=9)
    store.save_record(
        Alert(
            id="al-inc-b",
            incident_id="inc-b",
            title="南岸区暴雨地铁二号线停运",
            tier=Tier.III,
            rule="热度",
            opened_at=T0 + timedelta(hours=5),
            created_at=T0 + timedelta(hours=5),
            deadlines=[Deadline(name="first_response", label="首次回应", hours=4, due=due_b)],
            history=[AlertEvent(at=T0 + timedelta(hours=5), action="created", text="III 级")],
        )
    )
    store.save_record(
        OfficialResponse(
            id="inc-a:lj-weibo:8001",
            incident_id="inc-a",
            post_id="lj-weibo:8001",
            url="https://weibo.com/linjiang/8001",
            author="临江发布",
            source="lj-weibo",
            posted_at=T0 + timedelta(minutes=30),
            incident_first_seen=T0,
            minutes_after_first_seen=30.0,
            linked_by="claim",
            similarity=0.72,
            deadlines={"first_response": due_a},
            on_time={"first_response": True},
        )
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-bulletins")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc(), second_officer=True)
        seed_answers(store)
    with serve(tmp, db, poll_seconds=0.5) as server:
        yield server


def login_as(page, live: LiveServer, name: str, password: str, path: str) -> None:
    """Keyboard login, as test_browser.login does, for any user (the second officer too)."""
    page.goto(live.url + path)
    page.wait_for_url(re.compile(r"/login"))
    # A function, not an expression string: polling an expression string needs eval, which
    # the CSP (script-src 'self') refuses once the first check comes back false.
    page.wait_for_function("() => document.activeElement?.id === 'username'")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == path)


def logout(page) -> None:
    page.locator(".who button").click()
    page.wait_for_url(re.compile(r"/login"))


def status_is(page, label: str) -> None:
    expect(page.locator("#b-status")).to_have_text(label)


def test_draft_edit_submit_approve_export_and_reports(browser, live: LiveServer) -> None:
    errors: list[str] = []
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        # The conflict (409) and the forced approval (403) below are provoked on purpose.
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not re.search(r"status of (403|409)", m.text)
            else None
        ),
    )
    officer = Role.OFFICER
    login_as(page, live, USERS[officer], PASSWORDS[officer], "/incidents/inc-a")
    page.locator("#tier-history li").first.wait_for()
    expect(page.locator("#rebuttals")).not_to_contain_text("加载中")
    assert "未找到以往的类似辟谣" in page.locator("#rebuttals").inner_text()
    assert page.locator("#tier-now").inner_text() == "Ⅱ级"
    history = page.locator("#tier-history").inner_text()
    # Written from the event's fields: this alert's stored text still says "III → II".
    assert "升级：Ⅲ级 → Ⅱ级：规则「谣言快速传播」" in history
    assert "预警开启：Ⅲ级：规则" in history
    assert "III" not in history and "II " not in history
    responses = page.locator("#responses").inner_text()
    assert "临江发布" in responses and "首次回应按时" in responses
    page.locator("#effect-chart svg").wait_for()
    assert "回应前：3 帖" in page.locator("#effect-figures").inner_text()

    # Draft a rebuttal with the keyboard.
    page.locator("#draft-rebuttal").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/bulletins/b-[0-9a-f]+$"))
    bid = urlsplit(page.url).path.rsplit("/", 1)[1]
    marks = page.locator("#pv-body mark.gap")
    marks.first.wait_for()
    assert marks.count() >= 2 and all("待核实" in t for t in marks.all_inner_texts())
    assert page.locator("#gap-count").inner_text() == str(
        len(GAP.findall(page.input_value("#f-body")))
    )
    body = page.input_value("#f-body")
    assert "138****5678" in body and "13812345678" not in body
    assert page.locator("#act-approve").is_hidden() and page.locator("#act-submit").is_visible()
    no_horizontal_scroll(page)
    shot(page, "bulletin-draft-1366")

    # Jump to a gap from the list (keyboard), fill every gap, save.
    page.locator("#gap-list .gap-jump").first.focus()
    page.keyboard.press("Enter")
    selected = page.evaluate(
        "() => { const f = document.activeElement;"
        " return f.value.slice(f.selectionStart, f.selectionEnd); }"
    )
    assert selected.startswith("[待核实")
    filled = GAP.sub("临江市应急管理局", body)
    page.fill("#f-body", filled)
    assert page.locator("#pv-body mark.gap").count() == 0
    assert page.locator("#gap-count").inner_text() == "0"
    page.locator("#save").click()
    expect(page.locator("#b-version")).to_have_text("2")
    assert "已保存" in page.locator("#b-msg").inner_text()

    # Someone else saves a new title meanwhile; our next save meets a version conflict.
    other = page.evaluate(
        """async ([url, title]) => {
            const r = await window.TF.api("PATCH", url, {version: 2, title});
            return r.status;
        }""",
        [f"/api/v1/bulletins/{bid}", "关于网传江北区化工厂爆炸的说明"],
    )
    assert other == 200
    page.fill("#f-title", "我的标题")
    page.locator("#save").click()
    conflict = page.locator("#conflict")
    conflict.wait_for()
    assert "已被他人修改" in conflict.inner_text() and "第 2 版" in conflict.inner_text()
    assert "关于网传江北区化工厂爆炸的说明" in page.locator("#conflict-current-title").inner_text()
    shot(page, "bulletin-conflict-1366")
    page.locator("#conflict-load").click()
    assert page.input_value("#f-title") == "关于网传江北区化工厂爆炸的说明"
    assert page.locator("#b-version").inner_text() == "3" and conflict.is_hidden()
    title = page.input_value("#f-title")

    # Submit; the drafter has no approve action, and forcing it is refused server-side.
    page.locator("#act-submit").click()
    status_is(page, "待审核")
    assert page.locator("#act-approve").is_hidden()
    assert "起草人不能审核" in page.locator("#withheld").inner_text()
    forced = page.evaluate(
        """async (url) => {
            const r = await window.TF.api("POST", url, {version: 4});
            return [r.status, r.data.detail[0].field];
        }""",
        f"/api/v1/bulletins/{bid}/approve",
    )
    assert forced == [403, "approved_by"]
    logout(page)

    # The second officer approves and publishes.
    login_as(page, live, OFFICER2, OFFICER2_PASSWORD, f"/bulletins/{bid}")
    approve = page.locator("#act-approve")
    approve.wait_for()
    # Meanwhile, in another tab, the text is edited and submitted again (version 4 → 6):
    # approving the version 4 this page shows is refused, with the message on the page.
    again = page.evaluate(
        """async ([url, title]) => {
            const e = await window.TF.api("PATCH", url, {version: 4, title});
            const s = await window.TF.api("POST", url + "/submit", {version: 5});
            return [e.status, s.status];
        }""",
        [f"/api/v1/bulletins/{bid}", title],
    )
    assert again == [200, 200]
    approve.click()
    conflict = page.locator("#conflict")
    conflict.wait_for()
    assert "已被他人修改" in conflict.inner_text() and "第 4 版" in conflict.inner_text()
    assert "通报已被他人修改" in page.locator("#b-msg").inner_text()
    status_is(page, "待审核")
    page.locator("#conflict-load").click()
    assert page.locator("#b-version").inner_text() == "6"
    approve.focus()
    page.keyboard.press("Enter")
    status_is(page, "已审核")
    assert page.locator("#b-approver").inner_text() == OFFICER2
    shot(page, "bulletin-approved-1366")

    # Export the .docx and read it back.
    with page.expect_download() as info:
        page.locator("#export-docx").click()
    download = info.value
    assert download.suggested_filename.endswith(f"-{bid}.docx")
    assert "关于网传" in download.suggested_filename
    doc = Document(io.BytesIO(Path(download.path()).read_bytes()))
    paragraphs = [p.text for p in doc.paragraphs if p.text.strip()]
    assert title in paragraphs[:3]
    text = "\n".join(paragraphs)
    assert "临江市应急管理局" in text and "不信谣、不传谣" in text and "待核实" not in text
    assert "13812345678" not in text

    # Weibo text, then publish.
    page.locator("#copy-weibo").click()
    expect(page.locator("#weibo-text")).to_have_value(re.compile("^【"))
    assert page.input_value("#weibo-text").startswith(f"【{title}】")
    page.fill("#f-url", "https://weibo.com/linjiang/5023")
    page.locator("#act-publish").click()
    status_is(page, "已发布")
    assert page.locator("#save").is_hidden()

    # The incident now shows the bulletin as its response and the before/after chart.
    page.goto(live.url + "/incidents/inc-a")
    page.locator("#effect-chart svg").wait_for()
    assert "通报发布" in page.locator("#responses").inner_text()
    assert title in page.locator("#incident-bulletins").inner_text()
    no_horizontal_scroll(page)
    shot(page, "incident-response-1366")

    page.goto(live.url + "/bulletins")
    assert page.locator(f'tr[data-id="{bid}"]').inner_text().count("已发布") == 1
    no_horizontal_scroll(page)
    shot(page, "bulletins-1366")

    page.goto(live.url + "/reports?period=monthly&on=2026-11-30")
    page.locator("#category-chart svg").wait_for()
    page.locator("#district-chart svg").wait_for()
    page.locator("#compliance-chart svg").wait_for()
    assert page.locator("#fig-incidents").inner_text() == "2"  # inc-a, inc-b (not inc-c)
    assert "月报" in page.locator("h1").inner_text()
    no_horizontal_scroll(page)
    shot(page, "reports-1366")
    assert not errors, errors

    # Phone width: every new page fits in 360 px.
    page.set_viewport_size({"width": 360, "height": 740})
    for path, name, ready in (
        (f"/bulletins/{bid}", "bulletin", "#pv-title"),
        ("/bulletins", "bulletins", "table.bulletins"),
        ("/reports?period=monthly&on=2026-11-30", "reports", "#category-chart svg"),
        ("/incidents/inc-a", "incident-response", "#effect-chart svg"),
    ):
        page.goto(live.url + path)
        page.locator(ready).first.wait_for()
        no_horizontal_scroll(page)
        shot(page, f"{name}-360")
    context.close()


def test_analyst_reads_a_bulletin_without_actions(browser, live: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    login_as(page, live, USERS[Role.ANALYST], PASSWORDS[Role.ANALYST], "/incidents/inc-b")
    assert page.locator("#draft-buttons").count() == 0
    status = page.evaluate(
        """async () => {
            const r = await window.TF.api("POST", "/api/v1/bulletins", {incident_id: "inc-b"});
            return [r.status, r.data.detail[0].field];
        }"""
    )
    assert status == [403, "role"]
    context.close()
