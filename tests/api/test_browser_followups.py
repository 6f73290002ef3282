"""Dashboard follow-ups in headless Chromium against a real ``tingfeng serve`` on the real
SQLite store: the bulletin editor's 按最新情况重新生成 (confirm, refused over unsaved
edits, nothing new, a new version after the incident grew, the step in the history and in
the audit log), the incident page's draft kinds ordered by the incident (回应 first for a
直接诉求 alert, 进展通报 after a published 情况通报, 辟谣 for a likely rumor), a 新诉求 on
the 监测台 card and in the incident's tier history, and the sources page's 需要登录 notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from crawler.health import EndpointHealth, SourceHealth, state_key
from models import Alert, AlertEvent, Bulletin, BulletinKind, BulletinStatus, Deadline, Role, Tier
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import T0, USERS, _post, seed_city
from tests.api.live import LiveServer, serve
from tests.api.test_browser import CHROMIUM, browser, login, no_horizontal_scroll, shot

__all__ = ["browser"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
WALL_URL = "http://127.0.0.1:9/bbs/thread-77.html"


def seed_followups(store: SQLiteStore) -> None:
    now = now_utc()
    # inc-c (a resident's complaint on the board): opened by 直接诉求, answered, then two
    # more residents wrote in — a new first-response clock runs.
    opened = now - timedelta(hours=3)
    store.save_record(
        Alert(
            id="al-inc-c",
            incident_id="inc-c",
            title="小区物业乱收停车费",
            tier=Tier.III,
            rule="直接诉求",
            opened_at=opened,
            created_at=opened,
            status="responded",
            assignee=USERS[Role.MONITOR],
            responded_at=opened + timedelta(hours=1),
            deadlines=[
                Deadline(
                    name="first_response",
                    label="首次回应",
                    hours=4,
                    due=opened + timedelta(hours=4),
                    met_at=opened + timedelta(hours=1),
                ),
                Deadline(
                    name="first_response-appeal-2",
                    label="答复新诉求（首次回应）",
                    hours=4,
                    due=now + timedelta(hours=3),
                ),
            ],
            history=[
                AlertEvent(
                    at=opened,
                    action="created",
                    text="Ⅲ级：规则「直接诉求」",
                    detail={"rule": "直接诉求"},
                ),
                AlertEvent(
                    at=opened + timedelta(hours=1), action="responded", text="已登记官方回应"
                ),
                AlertEvent(
                    at=now - timedelta(hours=1),
                    action="new_appeal",
                    text="已回应后又有 2 条直接诉求尚未答复：物业乱收费",
                    detail={
                        "arrived": (now - timedelta(hours=1)).isoformat(),
                        "posts": ["lj-bbs:3002", "lj-bbs:3003"],
                        "deadline": "first_response-appeal-2",
                    },
                ),
            ],
        )
    )
    # inc-b has a published 情况通报: a 进展通报 is the natural next one.
    store.save_record(
        Bulletin(
            id="b-inc-b-situation",
            incident_id="inc-b",
            bulletin_kind=BulletinKind.SITUATION,
            title="关于南岸区地铁二号线停运的情况通报",
            body="6月10日，南岸区暴雨，地铁二号线临时停运。",
            issuer="临江市网信办",
            status=BulletinStatus.PUBLISHED,
            drafted_by=USERS[Role.OFFICER],
            approved_by="zhaoqing",
            approved_at=T0 + timedelta(hours=6),
            published_at=T0 + timedelta(hours=6, minutes=5),
        )
    )
    # The forum skipped pages behind a login wall, yet is healthy.
    bbs = SourceHealth(
        source="lj-bbs",
        kind="site",
        started_at=now - timedelta(minutes=12),
        finished_at=now - timedelta(minutes=10),
        finish_reason="finished",
        pages=5,
        pages_ok=3,
        items=3,
        new_items=1,
        endpoints={"parse_thread": EndpointHealth(ok=3, login_required=2)},
        login_required_urls=[WALL_URL, "http://127.0.0.1:9/bbs/thread-78.html"],
        last_new_item_at=now - timedelta(minutes=10),
        first_crawl_at=now - timedelta(days=3),
        crawls=20,
    )
    store.set_state(state_key("lj-bbs"), bbs.model_dump(mode="json"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-followups")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc(), second_officer=True)
        seed_followups(store)
    with serve(tmp, db, poll_seconds=0.5) as server:
        yield server


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_redraft_button_confirms_refuses_unsaved_and_records_the_step(
    browser, live: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors = _errors(page)
    login(page, live, Role.OFFICER, "/incidents/inc-a")
    page.locator("#draft-situation").click()
    page.wait_for_url(re.compile(r"/bulletins/b-[0-9a-f]+$"))
    bid = urlsplit(page.url).path.rsplit("/", 1)[1]
    refresh = page.locator("#act-refresh")
    expect(refresh).to_be_visible()
    expect(refresh).to_have_text("按最新情况重新生成")

    # Nothing new in the incident: the same version, said in Chinese.
    refresh.click()
    confirm = page.locator("#refresh-confirm")
    expect(confirm).to_be_visible()
    assert "将被替换" in confirm.inner_text() and "保留" in confirm.inner_text()
    page.locator("#refresh-go").click()
    expect(page.locator("#b-msg")).to_have_text("事件没有新情况，草稿未变")
    expect(page.locator("#b-version")).to_have_text("1")
    expect(confirm).to_be_hidden()

    # Unsaved edits: refused, nothing sent, until they are discarded.
    page.fill("#f-body", page.input_value("#f-body") + "\n\n我加的一段。")
    refresh.click()
    expect(page.locator("#b-msg")).to_contain_text("有未保存的修改")
    expect(page.locator("#b-msg")).to_have_class(re.compile(r"\berror\b"))
    expect(confirm).to_be_hidden()
    page.locator("#discard").click()
    assert "我加的一段" not in page.input_value("#f-body")
    expect(page.locator("#dirty")).to_be_hidden()

    # The incident grows: a redraft makes version 2, with the replaced text kept.
    old_body = page.input_value("#f-body")
    with SQLiteStore(live.db) as store:
        store.upsert_posts(
            _post(
                f"10{i:02d}",
                f"江北区化工厂附近又传来爆炸声，现场浓烟，第{i}位网友称有人受伤",
                50 + i,
                reposts=40 + i,
                region_tags=["江北区"],
                incident_id="inc-a",
                rumor_score=0.9,
            )
            for i in range(12)
        )
    refresh.click()
    page.locator("#refresh-go").click()
    expect(page.locator("#b-version")).to_have_text("2")
    expect(page.locator("#b-msg")).to_contain_text("已按最新情况重新生成（第 2 版）")
    assert page.input_value("#f-body") != old_body
    expect(page.locator("#dirty")).to_be_hidden()
    history = page.locator("#history")
    expect(history).to_contain_text("按最新情况重新生成")
    # After a reload the server renders the same step in words.
    page.reload()
    assert "按最新情况重新生成" in page.locator("#history").inner_text()
    assert "refresh" not in page.locator("#history").inner_text()
    shot(page, "bulletin-refresh-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    refresh.click()
    expect(confirm).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "bulletin-refresh-390")
    page.locator("#refresh-cancel").click()
    expect(confirm).to_be_hidden()

    # A submitted bulletin offers no redraft (the API says 409 on status).
    page.set_viewport_size({"width": 1366, "height": 768})
    page.locator("#act-submit").click()
    expect(page.locator("#b-status")).to_have_text("待审核")
    expect(refresh).to_be_hidden()
    assert "按最新情况重新生成：只有草稿可以" in page.locator("#withheld").inner_text()
    assert errors == [], errors
    context.close()

    # The audit log names the step in Chinese.
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    login(page, live, Role.ADMIN, "/admin")
    row = page.locator("#audit tbody tr", has_text=bid).filter(has_text="按最新情况重新生成通报")
    expect(row.first).to_be_visible()
    assert "bulletin.refresh" not in page.locator("#audit").inner_text()
    context.close()


def test_draft_kinds_are_offered_in_the_order_the_incident_calls_for(
    browser, live: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors = _errors(page)
    login(page, live, Role.OFFICER, "/incidents/inc-c")

    def kinds() -> list[str]:
        return page.locator("#draft-buttons button").evaluate_all(
            "(bs) => bs.map((b) => b.dataset.kind)"
        )

    # A 直接诉求 alert: 回应 first, the others still there; no 进展通报 with nothing issued.
    assert kinds()[0] == "response" and set(kinds()) == {"response", "situation", "rebuttal"}
    expect(page.locator("#draft-response")).to_have_text("起草回应")
    expect(page.locator("#draft-why")).to_contain_text("直接诉求")
    page.set_viewport_size({"width": 390, "height": 844})
    no_horizontal_scroll(page)
    shot(page, "incident-draft-kinds-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    # A published 情况通报: 进展通报 next.
    page.goto(live.url + "/incidents/inc-b")
    assert kinds()[0] == "progress" and "situation" in kinds()
    expect(page.locator("#draft-progress")).to_have_text("起草进展通报")
    expect(page.locator("#draft-why")).to_contain_text("进展通报")

    # A likely rumor: 辟谣 first.
    page.goto(live.url + "/incidents/inc-a")
    assert kinds()[:2] == ["rebuttal", "situation"] and "progress" not in kinds()
    expect(page.locator("#draft-why")).to_contain_text("谣言可能高")

    # The 回应 button drafts a 回应.
    page.goto(live.url + "/incidents/inc-c")
    page.locator("#draft-response").click()
    page.wait_for_url(re.compile(r"/bulletins/b-[0-9a-f]+$"))
    expect(page.locator("h1")).to_contain_text("回应")
    assert errors == [], errors
    context.close()


def test_new_appeal_reads_well_on_the_monitor_card_and_the_incident_page(
    browser, live: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    errors = _errors(page)
    login(page, live, Role.MONITOR, "/")
    card = page.locator('#alert-list li.alert[data-id="al-inc-c"]')
    expect(card).to_be_visible()
    expect(card.locator(".new-appeal")).to_have_text(
        "新诉求：已回应后又有 2 条直接诉求尚未答复：物业乱收费"
    )
    clocks = card.locator(".clocks")
    expect(clocks).to_contain_text("答复新诉求（首次回应）")
    expect(clocks.locator(".countdown")).to_contain_text("剩余")
    expect(clocks).to_contain_text("首次回应 已完成")
    no_horizontal_scroll(page)
    shot(page, "monitor-new-appeal-390")

    # 我的待办 (the alert is handed to this monitor): the same words, the time not bracketed
    # after a label that carries brackets of its own.
    page.goto(live.url + "/tasks")
    task = page.locator('li.alert[data-id="al-inc-c"]')
    expect(task.locator(".clocks")).to_contain_text("答复新诉求（首次回应） · ")
    assert "）（" not in task.inner_text()
    expect(task.locator(".new-appeal")).to_have_text(
        "新诉求：已回应后又有 2 条直接诉求尚未答复：物业乱收费"
    )
    no_horizontal_scroll(page)

    page.goto(live.url + "/incidents/inc-c")
    history = page.locator("#tier-history")
    expect(history).to_contain_text(
        "新诉求：已回应后又有 2 条直接诉求尚未答复：物业乱收费；须在 4 小时内答复"
    )
    assert "new_appeal" not in history.inner_text()
    no_horizontal_scroll(page)
    shot(page, "incident-new-appeal-390")
    assert errors == [], errors
    context.close()


def test_sources_page_shows_why_a_forum_skipped_pages(browser, live: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors = _errors(page)
    login(page, live, Role.ANALYST, "/sources")
    api = page.request.get(live.url + "/api/v1/sources").json()
    bbs = next(s for s in api["data"] if s["name"] == "lj-bbs")
    assert bbs["notes"] and bbs["notes"][0].startswith("需要登录（已跳过）：")
    assert bbs["login_required_urls"][0] == WALL_URL
    row = page.locator("#src-lj-bbs")
    expect(row).to_contain_text("正常")
    expect(row).to_contain_text("有说明，见下行")
    notes = page.locator("#notes-lj-bbs")  # the row under the source's own
    note = notes.locator(".source-note")
    expect(note).to_contain_text("需要登录（已跳过）")
    expect(note).to_contain_text("帖子页（parse_thread）5 个页面中 2 个需要登录")
    notes.locator(".source-urls summary").click()
    expect(notes.locator(".source-urls li a").first).to_have_attribute("href", WALL_URL)
    # A source with nothing to say has no notes row.
    assert page.locator("#notes-lj-weibo").count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    no_horizontal_scroll(page)
    shot(page, "sources-notes-390")
    assert errors == [], errors
    context.close()
