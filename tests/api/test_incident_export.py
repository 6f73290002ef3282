"""The incident list's CSV export and the 事件 page's form, in process."""

from __future__ import annotations

import csv
import io

from models import Incident, Role
from tests.api.conftest import Env


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())  # Excel on Chinese Windows needs the BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_follows_the_filters_and_order_with_chinese_headers(env: Env) -> None:
    env.store.save_record(
        Incident(id="inc-f", title="=HYPERLINK(\"x\") 江北区公告", district="江北区",
                 keywords=["+1"], post_count=99, heat=1.0)
    )  # fmt: skip
    c, _ = env.login(Role.ANALYST)
    r = c.get("/api/v1/incidents/export", params={"district": "江北区", "sort": "size"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _rows(r.content)
    assert rows[0][:4] == ["事件编号", "标题", "区域", "类别"] and rows[0][-1] == "链接"
    assert [x[0] for x in rows[1:]] == ["inc-f", "inc-a"]  # 99 posts before 7
    # A cell a spreadsheet would run as a formula starts with a quote.
    assert rows[1][1].startswith("'=") and rows[1][12] == "'+1"
    inc_a = dict(zip(rows[0], rows[2], strict=True))
    assert inc_a["谣言可能"] == "高" and inc_a["热点"] == "是" and inc_a["响应级别"] == "未预警"
    assert inc_a["首次出现"] == "2026-11-30 08:00" and inc_a["链接"].endswith("/incidents/inc-a")
    assert "13812345678" not in r.text
    bad = c.get("/api/v1/incidents/export", params={"tier": "V"})
    assert bad.status_code == 422


def test_page_days_are_inclusive_and_export_link_carries_the_filters(env: Env) -> None:
    c, _ = env.login(Role.ANALYST)
    # inc-c is first seen on 1 December: an 止 of 1 December includes it.
    page = c.get("/incidents", params={"since": "2026-11-30", "until": "2026-12-01"}).text
    assert "共 3 个事件" in page
    page = c.get("/incidents", params={"until": "2026-11-30"}).text
    assert "共 2 个事件" in page and 'data-id="inc-c"' not in page
    assert "until=2026-12-01T00%3A00%3A00%2B08%3A00" in page  # the export's exact bound
    r = c.get("/incidents", params={"since": "2026-12-02", "until": "2026-12-01"})
    assert r.status_code == 422 and "起始日期：必须早于截止日期" in r.text
    r = c.get("/incidents", params={"tier": "V", "sort": "x", "nope": "1"})
    assert r.status_code == 422
    assert "nope：不是可用的筛选条件" in r.text
    assert "响应级别：应为Ⅰ级、Ⅱ级、Ⅲ级、Ⅳ级、未预警之一" in r.text
    assert "排序：应为最新、热度、谣言分、规模（帖数）之一" in r.text
