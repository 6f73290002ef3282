"""Every table command at 80 and 120 columns: ids (incidents, alerts, silences, posts,
source names) are what users copy into the next command and are never cut or wrapped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from models import Alert, AlertKind, AlertStatus, Author, Incident, Post, Silence, Tier
from store.sqlite import SQLiteStore
from tests.api.factory import T0
from tests.cli import run_main

#: Ids as long as real ones get: an incident of a CED import, a third alert of an
#: incident, a Weibo comment, a silence, a source name.
INCIDENT = "inc-3f9a1c2b7d4e5f60-ced-4_yBDVSfr2s"
ALERT = "alert-inc-3f9a1c2b7d4e5f60-ced-4_yBDVSfr2s-3"
POST = "qc-weibo-search:5023000000000201"
SILENCE = "silence-keyword-20261203T2105-停水"
SOURCE = "qc-bbs-luchuan-discuz-gbk-forum"
LONG = "滨江路一带停水已经超过两天，居民反映物业和自来水公司互相推诿，没有任何通知和说明"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("tables")
    (tmp / "tingfeng.yaml").write_text(
        "store:\n  path: t.db\nsources:\n"
        f"  - name: {SOURCE}\n    kind: feed\n    settings: {{urls: ['http://127.0.0.1:9/rss.xml']}}\n",
        "utf-8",
    )
    with SQLiteStore(tmp / "t.db") as store:
        store.upsert_posts(
            [Post(id=POST, source="qc-weibo-search", native_id="5023000000000201", text=LONG,
                  created_at=T0, author=Author(name="滨江居民"))]
        )  # fmt: skip
        store.save_record(
            Incident(id=INCIDENT, title=LONG, district="西江区滨江路街道", heat=88.5, hot=True,
                     rumor_score=0.42, first_seen=T0, last_seen=T0 + timedelta(hours=2))
        )  # fmt: skip
        store.save_record(
            Alert(id=ALERT, incident_id=INCIDENT, alert_kind=AlertKind.INCIDENT, tier=Tier.II,
                  rule="高热度", status=AlertStatus.NOTIFIED, opened_at=T0, title=LONG,
                  department="西江区12345热线办公室")
        )  # fmt: skip
        store.save_record(
            Silence(id=SILENCE, target="keyword", value="停水", reason=LONG, created_by="李明",
                    starts_at=T0, ends_at=T0 + timedelta(days=1))
        )  # fmt: skip
    return tmp


COMMANDS = [
    (("incidents",), INCIDENT),
    (("alerts", "--at", T0.isoformat()), ALERT),
    (("silence", "list", "--at", T0.isoformat()), SILENCE),
    (("search", "停水"), POST),
    (("crawl", "--health"), SOURCE),
]


@pytest.mark.parametrize("columns", ["80", "120"])
@pytest.mark.parametrize(("args", "wanted"), COMMANDS, ids=[" ".join(a[:2]) for a, _ in COMMANDS])
def test_ids_are_never_cut(home: Path, args: tuple[str, ...], wanted: str, columns: str) -> None:
    proc = run_main(*args, cwd=home, env={"COLUMNS": columns})
    assert proc.returncode in (0, 1), proc.stderr  # crawl --health: 1 = a source never ran
    out = proc.stdout + proc.stderr  # crawl --health reports on standard error
    lines = out.splitlines()
    assert any(wanted in line for line in lines), out
    assert max(len(line) for line in lines) <= int(columns)


def test_a_wide_terminal_shows_more_of_each_incident_title(home: Path) -> None:
    """At 80 columns the title gives way; at 160 an analyst reads it (it was cut to 22
    characters whatever the terminal)."""
    narrow = run_main("incidents", cwd=home, env={"COLUMNS": "80"}).stdout
    wide = run_main("incidents", cwd=home, env={"COLUMNS": "160"}).stdout
    assert LONG[:30] not in narrow and LONG[:30] in wide, wide
    assert max(len(line) for line in wide.splitlines()) <= 160
