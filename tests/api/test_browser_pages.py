"""Persona walkthrough gaps, in headless Chromium against a real ``tingfeng serve``:

* 事件: the analyst's incident list: filters as a form in the URL (the back button walks
  through earlier filters), sorting, paging, the count, the Chinese empty text, rows that
  open the incident, the CSV export (BOM, Chinese headers), 390 px wide;
* 我的待办: the monitor's assigned alert with its countdown (and one assigned while the page
  is open), the officer's drafts, the second officer's review queue, counts in the nav,
  nothing for the analyst, 390 px wide;
* the audit log in words with the raw JSON behind a toggle;
* the report as a Word document from the reports page;
* unsaved bulletin edits survive an expired session and are offered back after login.

Screenshots land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from models import (
    Alert,
    AlertStatus,
    Bulletin,
    BulletinStatus,
    Deadline,
    Incident,
    Role,
    Tier,
)
from models.common import now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import (
    OFFICER2,
    OFFICER2_PASSWORD,
    PASSWORDS,
    T0,
    USERS,
    seed_city,
)
from tests.api.live import LiveServer, serve
from tests.api.test_browser import CHROMIUM, browser, login, no_horizontal_scroll, shot
from tests.api.test_browser_bulletins import login_as

__all__ = ["browser"]  # the module-scoped Chromium fixture of test_browser.py

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
#: 25 incidents in 西城区 (two pages of 20), post counts all different.
SIZES = [(i * 7) % 25 + 1 for i in range(25)]


def seed_tasks(store: SQLiteStore) -> None:
    now = now_utc()
    for i, size in enumerate(SIZES):
        store.save_record(
            Incident(
                id=f"inc-p{i:02d}",
                title=f"西城区第{i:02d}号占道经营投诉",
                keywords=["占道经营"],
                district="西城区",
                category="城管",
                first_seen=T0 + timedelta(hours=i),
                last_seen=T0 + timedelta(hours=i, minutes=30),
                post_count=size,
                heat=float(i),
            )
        )
    store.save_record(
        Alert(
            id="al-task",
            incident_id="inc-a",
            title="网传江北区化工厂爆炸致多人死亡",
            tier=Tier.II,
            rule="谣言快速传播",
            status=AlertStatus.ASSIGNED,
            assignee=USERS[Role.MONITOR],
            district="江北区",
            category="安全生产",
            opened_at=now - timedelta(minutes=10),
            created_at=now - timedelta(minutes=10),
            deadlines=[
                Deadline(
                    name="first_response", label="首次回应", hours=2, due=now + timedelta(hours=2)
                )
            ],
        )
    )
    store.save_record(
        Alert(
            id="al-tier",
            incident_id="inc-b",
            title="南岸区暴雨地铁二号线停运",
            tier=Tier.III,
            rule="热度",
            opened_at=now - timedelta(hours=1),
            created_at=now - timedelta(hours=1),
        )
    )
    officer = USERS[Role.OFFICER]
    submitted, draft = BulletinStatus.SUBMITTED, BulletinStatus.DRAFT
    for bid, status, title, body in [
        ("b-review", submitted, "关于江北区化工厂情况的通报", "经核实，未发生爆炸。"),
        ("b-draft", draft, "关于暴雨停运的说明", "二号线于[待核实：时间]恢复。"),
        ("b-restore", draft, "关于停车收费的回应", "物业收费标准正在核查。"),
    ]:
        store.save_record(
            Bulletin(
                id=bid,
                incident_id="inc-a" if bid != "b-restore" else "inc-c",
                title=title,
                body=body,
                issuer="临江市人民政府新闻办公室",
                status=status,
                drafted_by=officer,
                submitted_by=officer if status == BulletinStatus.SUBMITTED else None,
            )
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-pages")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc(), second_officer=True)
        seed_tasks(store)
    with serve(tmp, db, poll_seconds=0.5) as server:
        yield server


def context_of(browser, width: int = 1366, **options):
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 500 else 768}, locale="zh-CN", **options
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def row_ids(page) -> list[str]:
    return page.locator("#incident-rows tr").evaluate_all("rows => rows.map(r => r.dataset.id)")


def test_incident_list_filters_in_the_url_sort_pages_back_button_export(
    browser, live: LiveServer
) -> None:
    context, page, errors = context_of(browser, accept_downloads=True)
    login(page, live, Role.ANALYST, "/incidents")
    nav = page.locator("nav[aria-label='主导航']")
    expect(nav.locator("a[aria-current='page']")).to_have_text("事件")
    expect(nav.get_by_text("我的待办")).to_have_count(0)  # nothing is handed to analysts
    expect(page.locator("#total")).to_have_text("共 28 个事件")
    # Latest first by default: the incident seen last of all heads the list.
    assert row_ids(page)[:2] == ["inc-p24", "inc-p23"]
    expect(page.locator(".pager")).to_contain_text("第 1 / 2 页")

    # Filter and sort: the form goes into the URL.
    page.locator("input[name='district']").fill("西城区")
    page.locator("select[name='sort']").select_option("size")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"district="))
    assert query_of(page)["district"] == ["西城区"] and query_of(page)["sort"] == ["size"]
    expect(page.locator("#total")).to_have_text("共 25 个事件")
    ids = row_ids(page)
    by_size = sorted(range(25), key=lambda i: (-SIZES[i], f"inc-p{i:02d}"))
    assert ids == [f"inc-p{i:02d}" for i in by_size[:20]]
    first_size = page.locator("#incident-rows tr").first.locator("td").nth(3).inner_text()
    assert first_size == str(max(SIZES))
    shot(page, "incidents-1366")

    page.get_by_role("link", name="下一页").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert row_ids(page) == [f"inc-p{i:02d}" for i in by_size[20:]]
    expect(page.locator(".pager")).to_contain_text("第 2 / 2 页")

    # Back walks through the earlier lists, the form filled in as it was.
    page.go_back()
    page.wait_for_url(lambda u: "page=2" not in u and "district=" in u)
    expect(page.locator("input[name='district']")).to_have_value("西城区")
    expect(page.locator("select[name='sort']")).to_have_value("size")
    assert row_ids(page) == [f"inc-p{i:02d}" for i in by_size[:20]]

    # The filtered list as a CSV file: BOM, Chinese headers, every row in the list's order.
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    download = info.value
    assert download.suggested_filename.startswith("事件列表-")
    assert download.suggested_filename.endswith(".csv")
    data = download.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:7] == ["事件编号", "标题", "区域", "类别", "首次出现", "最近出现", "帖数"]
    assert [r[0] for r in rows[1:]] == [f"inc-p{i:02d}" for i in by_size]
    assert {r[2] for r in rows[1:]} == {"西城区"} and rows[1][11] == "未预警"

    page.go_back()  # the first list, unfiltered
    page.wait_for_url(lambda u: "district=" not in u)
    expect(page.locator("input[name='district']")).to_have_value("")
    expect(page.locator("#total")).to_have_text("共 28 个事件")

    # The tier of the current alert, as a checkbox: Ⅱ级 is only the chemical-plant rumor.
    page.get_by_label("Ⅱ级").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"tier=II"))
    assert row_ids(page) == ["inc-a"]
    expect(page.locator("#incident-rows tr").first).to_contain_text("Ⅱ级")
    page.get_by_label("Ⅱ级").uncheck()
    page.get_by_label("Ⅲ级").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"tier=III"))
    assert row_ids(page) == ["inc-b"]

    # Nothing found says so, in Chinese; a bad date names the field.
    page.goto(live.url + "/incidents?q=不存在的事件")
    expect(page.locator("#no-incidents")).to_have_text(
        "没有符合筛选条件的事件。可放宽时间范围或去掉部分条件后再试。"
    )
    expect(page.locator("#total")).to_have_text("共 0 个事件")
    page.goto(live.url + "/incidents?since=2026-02-30")
    expect(page.locator("#filter-error")).to_contain_text("起始日期：不是有效的日期")

    # A row opens its incident.
    page.goto(live.url + "/incidents?district=江北区")
    page.locator("#incident-rows a", has_text="化工厂").click()
    page.wait_for_url(re.compile(r"/incidents/inc-a$"))
    assert not errors, errors
    context.close()

    phone, page, errors = context_of(browser, width=390)
    login(page, live, Role.ANALYST, "/incidents")
    page.goto(live.url + "/incidents?district=西城区&sort=size")
    expect(page.locator("#total")).to_have_text("共 25 个事件")
    no_horizontal_scroll(page)
    shot(page, "incidents-390")
    assert not errors, errors
    phone.close()


def test_my_tasks_by_role_with_countdowns_and_nav_counts(browser, live: LiveServer) -> None:
    context, page, errors = context_of(browser)
    login(page, live, Role.MONITOR, "/tasks")
    expect(page.locator("#nav-count-tasks")).to_have_text("1")
    item = page.locator("#assigned-list li[data-id='al-task']")
    expect(item).to_contain_text("网传江北区化工厂爆炸致多人死亡")
    expect(item).to_contain_text("Ⅱ级")
    expect(item.locator(".countdown")).to_have_text(re.compile(r"^剩余 1 小时 5\d 分$"))
    expect(page.locator("#review-list")).to_have_count(0)  # monitors do not approve
    expect(page.locator("#drafts-list")).to_have_count(0)

    # Handed a second alert while the page is open: it appears, the nav counts it.
    with SQLiteStore(live.db) as store:
        store.save_record(
            Alert(
                id="al-task-2",
                incident_id="inc-c",
                title="小区物业乱收停车费",
                tier=Tier.III,
                rule="直接诉求",
                status=AlertStatus.ASSIGNED,
                assignee=USERS[Role.MONITOR],
                opened_at=now_utc() - timedelta(hours=5),
                deadlines=[
                    Deadline(
                        name="first_response",
                        label="首次回应",
                        hours=4,
                        due=now_utc() - timedelta(hours=1),
                    )
                ],
            )
        )
    late = page.locator("#assigned-list li[data-id='al-task-2'] .countdown")
    expect(late).to_have_text(re.compile(r"^已超时 (59 分|1 小时)"))
    expect(page.locator("#nav-count-tasks")).to_have_text("2")
    # The overdue one first: nearest deadline first.
    first = page.locator("#assigned-list li").first
    assert first.get_attribute("data-id") == "al-task-2"
    shot(page, "tasks-monitor-1366")
    assert not errors, errors
    context.close()

    # The drafter sees their drafts (the submitted one waits for someone else, uncounted).
    context, page, errors = context_of(browser)
    login(page, live, Role.OFFICER, "/tasks")
    drafts = page.locator("#drafts-list")
    expect(drafts.locator("li[data-id='b-review']")).to_contain_text("待审核")
    expect(drafts.locator("li[data-id='b-draft']")).to_contain_text("草稿")
    expect(drafts.locator("li[data-id='b-draft']")).to_contain_text("1 处待核实")
    expect(page.locator("#review-list")).to_have_text("目前没有待你审核的通报。")
    expect(page.locator("#assigned-list")).to_have_text("目前没有交办给你的预警。")
    expect(page.locator("#nav-count-tasks")).to_have_text("2")  # b-draft, b-restore
    context.close()

    # The second officer: the review queue, one click to the bulletin and its approve step.
    context, page, errors = context_of(browser)
    login_as(page, live, OFFICER2, OFFICER2_PASSWORD, "/tasks")
    review = page.locator("#review-list li[data-id='b-review']")
    expect(review).to_contain_text("关于江北区化工厂情况的通报")
    expect(review).to_contain_text("起草：" + USERS[Role.OFFICER])
    expect(page.locator("#nav-count-tasks")).to_have_text("1")
    expect(page.locator("#drafts-list")).to_have_text("没有未发布的草稿。")
    review.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/bulletins/b-review$"))
    expect(page.locator("#act-approve")).to_be_visible()
    assert not errors, errors
    context.close()

    # The analyst has no tasks: no nav entry, and the page says why.
    context, page, errors = context_of(browser)
    login(page, live, Role.ANALYST, "/tasks")
    expect(page.locator("#no-role-tasks")).to_contain_text("分析员没有待办事项")
    expect(page.locator("nav[aria-label='主导航']").get_by_text("我的待办")).to_have_count(0)
    context.close()

    phone, page, errors = context_of(browser, width=390)
    login(page, live, Role.MONITOR, "/tasks")
    expect(page.locator("#assigned-list li[data-id='al-task'] .countdown")).to_contain_text("剩余")
    no_horizontal_scroll(page)
    shot(page, "tasks-monitor-390")
    assert not errors, errors
    phone.close()


def test_audit_log_reads_in_words_with_raw_json_behind_a_toggle(browser, live: LiveServer) -> None:
    context, page, errors = context_of(browser)
    login(page, live, Role.ADMIN, "/admin")
    form = page.locator("#user-form")
    form.locator("input[name='name']").fill("audit-temp")
    form.locator("input[name='display_name']").fill("临时审计")
    form.locator("select[name='role']").select_option("analyst")
    form.locator("input[name='password']").fill("pass-audit-temp-2026")
    form.get_by_role("button", name="创建").click()
    row = page.locator("#users tbody tr", has_text="audit-temp")
    row.locator("select").select_option("monitor")
    row.get_by_role("button", name="保存").click()
    expect(page.locator("#admin-status")).to_have_text("已保存用户 audit-temp")

    entry = page.locator("#audit tbody tr", has_text="修改用户").first
    expect(entry.locator("td").nth(3)).to_have_text("用户 audit-temp")
    summary = entry.locator("td.change > span")
    expect(summary).to_have_text("角色：分析员 → 监测员")
    created = page.locator("#audit tbody tr", has_text="新建用户").first
    expect(created.locator("td").nth(3)).to_have_text("用户 audit-temp")
    created_text = "姓名：“临时审计”；角色：分析员；停用：否"
    expect(created.locator("td.change > span")).to_have_text(created_text)
    raw = entry.locator("details pre")
    expect(raw).to_be_hidden()
    entry.get_by_text("原始数据").click()
    expect(raw).to_be_visible()
    expect(raw).to_contain_text('"role": "monitor"')
    assert "{" not in page.locator("#audit td.change > span").all_inner_texts()[0]
    shot(page, "audit-1366")
    assert not errors, errors
    context.close()


def test_report_downloads_as_word(browser, live: LiveServer) -> None:
    context, page, errors = context_of(browser, accept_downloads=True)
    login(page, live, Role.ANALYST, "/reports")
    link = page.locator("#report-docx")
    expect(link).to_have_text("下载 Word 文档（.docx）")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    assert "周报" in download.suggested_filename
    with zipfile.ZipFile(download.path()) as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
    assert "周报" in xml and "网民反映问题" in xml
    assert not errors, errors
    context.close()


def test_unsaved_bulletin_edit_survives_an_expired_session(browser, live: LiveServer) -> None:
    context, page, errors = context_of(browser)
    page.on("dialog", lambda d: d.accept())  # the leave-page prompt of the unsaved edit
    login(page, live, Role.OFFICER, "/bulletins/b-restore")
    body = page.locator("#f-body")
    body.click()
    page.keyboard.press("End")
    page.keyboard.type("补充：收费标准已公示。")
    # The session runs out (as after a long pause), then the officer saves.
    context.clear_cookies()
    page.locator("#save").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    page.wait_for_function("() => document.activeElement?.id === 'username'")
    page.keyboard.type(USERS[Role.OFFICER])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS[Role.OFFICER])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: urlsplit(u).path == "/bulletins/b-restore")

    box = page.locator("#restore")
    expect(box).to_be_visible()
    expect(box).to_contain_text("对第 1 版所做的修改尚未保存")
    expect(body).to_have_value("物业收费标准正在核查。")  # the stored text, until restored
    page.get_by_role("button", name="恢复未保存的修改").click()
    expect(body).to_have_value("物业收费标准正在核查。补充：收费标准已公示。")
    expect(box).to_be_hidden()
    page.locator("#save").click()
    expect(page.locator("#b-msg")).to_have_text("已保存（第 2 版）")
    keys = page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('tf-draft:'))")
    assert keys == []
    page.reload()
    expect(page.locator("#restore")).to_be_hidden()
    expect(body).to_have_value("物业收费标准正在核查。补充：收费标准已公示。")
    assert not errors, errors
    context.close()
