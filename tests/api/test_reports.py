"""Report routes in process: daily, weekly, monthly figures for every role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Role
from tests.api.conftest import Env
from tests.api.factory import T0


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_reports(env: Env, role: Role) -> None:
    c, _ = env.login(role)
    for period, label in (("daily", "日报"), ("weekly", "周报"), ("monthly", "月报")):
        r = c.get(f"/api/v1/reports/{period}", params={"on": T0.date().isoformat()})
        assert r.status_code == 200, r.text
        assert r.json()["label"] == label


def test_report_figures_for_the_seeded_city(env: Env) -> None:
    c, _ = env.login(Role.ANALYST)
    day = c.get("/api/v1/reports/daily", params={"on": "2026-11-30"}).json()
    # inc-a and inc-b start on 30 November (Beijing time); inc-c the next day.
    assert day["incidents"] == 2
    assert {x["name"]: x["count"] for x in day["by_district"]} == {"江北区": 1, "南岸区": 1}
    assert [t["id"] for t in day["top"]] == ["inc-a", "inc-b"]
    assert day["start"].startswith("2026-11-30T00:00:00+08:00")
    assert "网民反映问题" in day["accountability_line"] and day["markdown"].startswith("#")
    week = c.get("/api/v1/reports/weekly", params={"on": "2026-12-01"}).json()
    assert week["incidents"] == 3 and week["start"].startswith("2026-11-30")
    month = c.get("/api/v1/reports/monthly", params={"on": "2026-11-15"}).json()
    assert month["incidents"] == 2 and month["start"].startswith("2026-11-01")
    # Without ``on``: the period of the injected clock.
    env.clock.now = T0 + timedelta(days=1, hours=6)
    today = c.get("/api/v1/reports/daily").json()
    assert today["incidents"] == 1 and today["top"][0]["id"] == "inc-c"
    # A day still to come is an empty period, not the current one.
    assert c.get("/api/v1/reports/weekly", params={"on": "2027-03-01"}).json()["incidents"] == 0


def test_bad_report_requests_name_the_field(env: Env) -> None:
    c, _ = env.login(Role.MONITOR)
    r = c.get("/api/v1/reports/yearly")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "path.period"
    r = c.get("/api/v1/reports/daily", params={"on": "1900-01-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.on"
    r = c.get("/api/v1/reports/daily", params={"on": "明天"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.on"
    assert env.client().get("/api/v1/reports/daily").status_code == 401


def test_report_as_word_document(env: Env) -> None:
    import io
    import zipfile
    from urllib.parse import unquote

    c, _ = env.login(Role.ANALYST)
    r = c.get("/api/v1/reports/daily/docx", params={"on": "2026-11-30"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    name = unquote(r.headers["content-disposition"].split("UTF-8''")[1])
    assert name.endswith("舆情日报-20261130.docx")
    xml = zipfile.ZipFile(io.BytesIO(r.content)).read("word/document.xml").decode()
    assert "日报" in xml and "网传江北区化工厂爆炸致多人死亡" in xml
    assert c.get("/api/v1/reports/yearly/docx").status_code == 422
