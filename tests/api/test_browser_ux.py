"""UX audit fixes in headless Chromium against a real ``tingfeng serve``:

* a double-clicked step (bulletin 提交审核, alert 登记回应) sends one request: one version
  bump, no conflict box (finding 5);
* countdowns read ``41 分 08 秒`` / ``3 小时 25 分`` / ``1 天 19 小时`` (finding 13), a deadline
  met late reads ``已完成（超时 34 分钟）`` in red (finding 10);
* 最新事件 follows the page's polling and the ``辟谣草稿已就绪`` link leaves once the
  bulletin is approved (finding 14);
* errors name fields in Chinese, a lost session says so with a link to log in, deadline
  labels and tiers are written as users know them (finding 8);
* the browser's own form checks speak Chinese whatever its language (finding 29).

Screenshots land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from models import (
    Alert,
    AlertEvent,
    AlertStatus,
    Bulletin,
    BulletinStatus,
    Deadline,
    OfficialResponse,
    Role,
    Tier,
)
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import OFFICER2, seed_city
from tests.api.live import LiveServer, serve
from tests.api.test_browser import CHROMIUM, browser, login, shot
from tests.api.test_browser_alerts import incident

__all__ = ["browser"]  # the module-scoped Chromium fixture of test_browser.py

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
RED = "rgb(198, 40, 40)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-ux")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc(), second_officer=True)
    with serve(tmp, db, poll_seconds=0.5) as server:
        yield server


def context_of(browser, locale: str = "zh-CN"):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=locale)
    return context, context.new_page()


def counting(page, pattern: str, method: str = "POST") -> list[str]:
    """The requests of ``method`` whose URL matches ``pattern``, as the page sends them."""
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == method and re.search(pattern, r.url) else None,
    )
    return sent


def draft_bulletin(page, incident_id: str) -> dict:
    r = page.evaluate(
        """async (id) => (await window.TF.api("POST", "/api/v1/bulletins",
            {incident_id: id, kind: "rebuttal"})).data""",
        incident_id,
    )
    assert r and r.get("id"), r
    return r


def save_alert(live: LiveServer, alert: Alert, *incidents) -> None:
    with SQLiteStore(live.db) as store:
        store.save_records([*incidents, alert])


def test_double_clicked_submit_is_one_step_without_a_conflict(browser, live: LiveServer) -> None:
    context, page = context_of(browser)
    login(page, live, Role.OFFICER, "/incidents/inc-a")
    b = draft_bulletin(page, "inc-a")
    page.goto(f"{live.url}/bulletins/{b['id']}")
    for field in ("#f-title", "#f-body"):  # fill the gaps so the draft can go to review
        page.fill(field, re.sub(r"\[待核实[^\]]*\]", "临江市应急管理局", page.input_value(field)))
    saves = counting(page, r"/api/v1/bulletins/[^/]+$", "PATCH")
    page.locator("#save").dblclick()
    expect(page.locator("#b-msg")).to_contain_text("已保存（第 2 版）")
    submits = counting(page, r"/submit$")
    page.locator("#act-submit").dblclick()
    expect(page.locator("#b-status")).to_have_text("待审核")
    expect(page.locator("#b-msg")).to_contain_text("已提交审核")
    page.wait_for_timeout(500)  # a second request, had one been sent, has landed by now
    assert len(saves) == 1 and len(submits) == 1, (saves, submits)
    assert page.locator("#conflict").is_hidden()
    assert "版本冲突" not in page.locator("#b-msg").inner_text()
    assert page.locator("#b-version").inner_text() == "3"
    with SQLiteStore(live.db) as store:
        assert store.get_record(Bulletin, b["id"]).version == 3  # one bump per step
    shot(page, "ux-bulletin-dblclick-1366")
    context.close()


def test_monitor_clocks_words_and_double_clicked_respond(browser, live: LiveServer) -> None:
    now = now_utc()
    due_late = now - timedelta(hours=3)
    save_alert(
        live,
        Alert(
            id="al-ux-late",
            incident_id="inc-ux-late",
            title="河西镇居民反映夜间施工噪音扰民",
            tier=Tier.III,
            rule="直接诉求",
            status=AlertStatus.ACKNOWLEDGED,
            opened_at=due_late - timedelta(hours=4),
            deadlines=[
                Deadline(
                    name="first_response",
                    label="首次回应",
                    hours=4,
                    due=due_late,
                    met_at=due_late + timedelta(minutes=34),
                ),
                Deadline(
                    name="answer",
                    label="答复办结",
                    hours=48,
                    due=now + timedelta(hours=3, minutes=25, seconds=40),
                ),
            ],
        ),
        incident("inc-ux-late", "河西镇居民反映夜间施工噪音扰民", now, heat=45.0),
    )
    save_alert(
        live,
        Alert(
            id="al-ux-soon",
            incident_id="inc-ux-soon",
            title="河西镇自来水发黄",
            tier=Tier.II,
            rule="高热度",
            deadlines=[
                Deadline(
                    name="first_response",
                    label="首次回应",
                    hours=2,
                    due=now + timedelta(minutes=41, seconds=30),
                ),
                Deadline(name="ontime", label="权威信息发布", hours=2, due=now, met_at=now),
            ],
        ),
        incident("inc-ux-soon", "河西镇自来水发黄", now, heat=65.0),
    )
    save_alert(
        live,
        Alert(
            id="al-ux-day",
            incident_id="inc-ux-day",
            title="河西镇菜市场改造",
            tier=Tier.IV,
            rule="值得关注",
            deadlines=[
                Deadline(
                    name="answer",
                    label="答复办结",
                    hours=48,
                    due=now + timedelta(days=1, hours=19, minutes=30),
                )
            ],
        ),
        incident("inc-ux-day", "河西镇菜市场改造", now, heat=20.0),
    )
    save_alert(
        live,
        Alert(
            id="al-ux-over",
            incident_id="inc-ux-over",
            title="河西镇学校门口交通拥堵",
            tier=Tier.III,
            rule="中等热度",
            deadlines=[
                Deadline(
                    name="first_response",
                    label="首次回应",
                    hours=4,
                    due=now - timedelta(minutes=5, seconds=10),
                )
            ],
        ),
        incident("inc-ux-over", "河西镇学校门口交通拥堵", now, heat=45.0),
    )
    context, page = context_of(browser)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live, Role.MONITOR)
    countdown = lambda alert_id: page.locator(f'li[data-id="{alert_id}"] .countdown')  # noqa: E731
    expect(countdown("al-ux-soon")).to_have_text(re.compile(r"^剩余 (41|40) 分 \d\d 秒$"))
    expect(countdown("al-ux-late")).to_have_text(re.compile(r"^剩余 3 小时 2[45] 分$"))
    expect(countdown("al-ux-day")).to_have_text(re.compile(r"^剩余 1 天 19 小时$"))
    expect(countdown("al-ux-over")).to_have_text(re.compile(r"^已超时 5 分 \d\d 秒$"))
    assert not any(":" in t for t in page.locator("#alert-list .countdown").all_inner_texts())

    # The first response came 34 minutes late: said so, in red; one in time: 已完成.
    late = page.locator('li[data-id="al-ux-late"] .clocks .late')
    expect(late).to_have_text("首次回应 已完成（超时 34 分钟）")
    assert late.evaluate("n => getComputedStyle(n).color") == RED
    ontime = page.locator('li[data-id="al-ux-soon"] .clocks .met')
    expect(ontime).to_have_text("权威信息发布 已完成")
    assert "late" not in (ontime.get_attribute("class") or "")
    shot(page, "ux-monitor-clocks-1366")

    # 登记回应 with an ftp:// link: the server's 422 names the field in Chinese.
    row = page.locator('li[data-id="al-ux-over"]')
    row.locator("summary").click()
    row.locator("input[name=url]").fill("ftp://x/y")
    row.locator('button[data-action="respond"]').click()
    expect(page.locator("#alert-status")).to_have_text(
        "链接：应为以 http:// 或 https:// 开头的网址"
    )
    # Double-click 登记回应: one request, 已登记回应, no "updated by someone else".
    version = int(row.get_attribute("data-version"))
    responds = counting(page, r"/respond$")
    row.locator("input[name=url]").fill("https://weibo.com/hexi/1")
    row.locator('button[data-action="respond"]').dblclick()
    expect(page.locator("#alert-status")).to_contain_text("已登记回应")
    page.wait_for_timeout(500)
    assert len(responds) == 1, responds
    assert "他人" not in page.locator("#alert-status").inner_text()
    with SQLiteStore(live.db) as store:
        stored = store.get_record(Alert, "al-ux-over")
    assert stored.version == version + 1 and stored.response_url == "https://weibo.com/hexi/1"
    assert not errors, errors
    context.close()


def test_recent_incidents_and_draft_link_follow_the_polling(browser, live: LiveServer) -> None:
    context, page = context_of(browser)
    login(page, live, Role.OFFICER, "/incidents/inc-b")
    b = draft_bulletin(page, "inc-b")
    save_alert(
        live,
        Alert(
            id="al-ux-draft",
            incident_id="inc-b",
            title="南岸区暴雨地铁二号线停运",
            tier=Tier.II,
            rule="疑似谣言爆发",
            history=[
                AlertEvent(
                    at=now_utc(), action="drafted", text="已起草", detail={"bulletin_id": b["id"]}
                )
            ],
        ),
    )
    page.goto(live.url + "/")
    link = page.locator('li[data-id="al-ux-draft"] a[data-action="draft"]')
    expect(link).to_have_text("辟谣草稿已就绪，去编辑审核")
    page.evaluate("window.__sameDocument = true")

    # A new incident written while the page is open shows under 最新事件 without a reload.
    with SQLiteStore(live.db) as store:
        store.save_record(incident("inc-ux-new", "河西镇老街突发火情，多名居民已疏散", now_utc()))
    recent = page.locator('#recent-list li[data-id="inc-ux-new"]')
    expect(recent).to_contain_text("河西镇老街突发火情")
    assert page.locator("#recent-list li").first.get_attribute("data-id") == "inc-ux-new"

    # The bulletin is approved (by a second officer, elsewhere): the link goes away.
    with SQLiteStore(live.db) as store:
        stored = store.get_record(Bulletin, b["id"])
        store.save_record(
            stored.model_copy(
                update={
                    "status": BulletinStatus.APPROVED,
                    "approved_by": OFFICER2,
                    "approved_at": now_utc(),
                    "title": "关于暴雨停运的说明",
                    "body": "经核实，二号线已恢复运营。",
                }
            )
        )
    expect(link).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "ux-monitor-recent-1366")
    context.close()


def test_incident_page_labels_deadlines_and_tiers(browser, live: LiveServer) -> None:
    now = now_utc()
    with SQLiteStore(live.db) as store:
        store.save_records(
            [
                incident("inc-ux-resp", "河西镇化工园区夜间排放刺鼻气体", now),
                Alert(
                    id="al-ux-resp",
                    incident_id="inc-ux-resp",
                    title="河西镇化工园区夜间排放刺鼻气体",
                    tier=Tier.I,
                    rule="伤亡或群体性事件",
                    history=[AlertEvent(at=now, action="created", text="Ⅰ级")],
                ),
                OfficialResponse(
                    id="inc-ux-resp:lj-weibo:9001",
                    incident_id="inc-ux-resp",
                    post_id="lj-weibo:9001",
                    author="临江发布",
                    source="lj-weibo",
                    posted_at=now,
                    deadlines={"tonggao": now + timedelta(hours=1), "first_response": now},
                    on_time={"tonggao": True, "first_response": False},
                ),
            ]
        )
    context, page = context_of(browser)
    login(page, live, Role.ANALYST, "/incidents/inc-ux-resp")
    responses = page.locator("#responses")
    expect(responses).to_contain_text("通稿按时")
    assert "首次回应超时" in responses.inner_text()
    assert "tonggao" not in page.locator("main").inner_text()
    expect(page.locator("#tier-now")).to_have_text("Ⅰ级")
    context.close()


def test_lost_session_says_so_with_a_login_link(browser, live: LiveServer) -> None:
    context, page = context_of(browser)
    page.on("dialog", lambda d: d.dismiss())  # the leave-page prompt: stay on the page
    login(page, live, Role.OFFICER, "/incidents/inc-c")
    b = draft_bulletin(page, "inc-c")
    page.goto(f"{live.url}/bulletins/{b['id']}")
    page.locator("#f-body").press("End")
    page.keyboard.type("补充一段")  # unsaved edits hold the page (beforeunload)
    context.clear_cookies()
    page.locator("#save").click()
    expect(page.locator("#b-msg")).to_have_text("登录已过期，请重新登录")
    note = page.locator("#session-expired")
    expect(note).to_contain_text("登录已过期，请重新登录")
    href = note.locator("a").get_attribute("href")
    assert urlsplit(href).path == "/login" and b["id"] in href
    assert "authorization" not in page.locator("main").inner_text()
    context.close()


def test_form_checks_speak_chinese_in_an_english_browser(browser, live: LiveServer) -> None:
    context, page = context_of(browser, locale="en-US")
    login(page, live, Role.OFFICER, "/incidents/inc-a")
    b = draft_bulletin(page, "inc-a")
    page.goto(f"{live.url}/bulletins/{b['id']}")
    page.fill("#f-body", "")
    page.locator("#save").click()
    body = page.locator("#f-body")
    assert body.evaluate("n => n.validationMessage") == "请填写此项"
    page.fill("#f-body", "正文")  # typing clears the message
    assert body.evaluate("n => n.validationMessage") == ""

    save_alert(
        live,
        Alert(
            id="al-ux-form", incident_id="inc-c", title="表单检查", tier=Tier.IV, rule="值得关注"
        ),
    )
    page.goto(live.url + "/")
    row = page.locator('li[data-id="al-ux-form"]')
    row.locator("summary").click()
    url = row.locator("input[name=url]")
    row.locator('button[data-action="respond"]').click()
    assert url.evaluate("n => n.validationMessage") == "请填写此项"
    url.fill("not a link")
    row.locator('button[data-action="respond"]').click()
    assert url.evaluate("n => n.validationMessage") == "请输入以 http:// 或 https:// 开头的网址"
    row.locator('button[data-action="close"]').click()
    reason = row.locator("input[name=reason]")
    assert reason.evaluate("n => n.validationMessage") == "请填写此项"
    with SQLiteStore(live.db) as store:
        assert store.get_record(Alert, "al-ux-form").version == 1  # nothing was sent
    context.close()
