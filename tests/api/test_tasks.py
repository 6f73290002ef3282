"""我的待办 in process: ``GET /api/v1/me/tasks`` by role and the nav's figure."""

from __future__ import annotations

from datetime import timedelta

from models import Alert, AlertStatus, Bulletin, BulletinStatus, Deadline, Role, Tier
from tests.api.conftest import Env
from tests.api.factory import OFFICER2, OFFICER2_PASSWORD, USERS, seed_second_officer


def _seed(env: Env) -> None:
    now = env.clock()
    officer, monitor = USERS[Role.OFFICER], USERS[Role.MONITOR]
    for i, (status, hours) in enumerate(
        [(AlertStatus.ASSIGNED, 3), (AlertStatus.RESPONDED, 1), (AlertStatus.CLOSED, 1)]
    ):
        env.store.save_record(
            Alert(
                id=f"al-{i}",
                incident_id="inc-a",
                title=f"预警{i}",
                tier=Tier.II,
                rule="r",
                status=status,
                assignee=monitor,
                opened_at=now - timedelta(hours=2),
                closed_at=now if status == AlertStatus.CLOSED else None,
                deadlines=[
                    Deadline(
                        name="first_response",
                        label="首次回应",
                        hours=hours,
                        due=now + timedelta(hours=hours),
                    )
                ],
            )
        )
    env.store.save_record(
        Alert(id="al-other", title="别人的", tier=Tier.I, rule="r", assignee=officer,
              status=AlertStatus.ASSIGNED, opened_at=now)
    )  # fmt: skip
    for bid, status in [
        ("b-sub", BulletinStatus.SUBMITTED),
        ("b-draft", BulletinStatus.DRAFT),
        ("b-pub", BulletinStatus.PUBLISHED),
    ]:
        env.store.save_record(
            Bulletin(id=bid, incident_id="inc-a", title=bid, body="正文。", status=status,
                     drafted_by=officer, approved_by=OFFICER2 if bid == "b-pub" else None,
                     published_at=now if bid == "b-pub" else None)
        )  # fmt: skip


def test_tasks_by_role(env: Env) -> None:
    _seed(env)
    seed_second_officer(env.store)
    mon, _ = env.login(Role.MONITOR)
    t = mon.get("/api/v1/me/tasks").json()
    # Open alerts handed to me, nearest deadline first; closed ones and others' are not mine.
    assert [a["id"] for a in t["assigned"]] == ["al-1", "al-0"]
    assert t["assigned"][0]["next_deadline"]["label"] == "首次回应"
    assert t["review"] is None and t["drafts"] is None and t["count"] == 2

    off, _ = env.login(Role.OFFICER)
    t = off.get("/api/v1/me/tasks").json()
    assert [a["id"] for a in t["assigned"]] == ["al-other"]
    assert t["review"] == []  # my own submitted bulletin is not mine to approve
    assert {b["id"] for b in t["drafts"]} == {"b-draft", "b-sub"}  # not the published one
    assert t["count"] == 2  # al-other, b-draft (b-sub waits for someone else)

    second = env.client()
    r = second.post("/api/v1/login", json={"username": OFFICER2, "password": OFFICER2_PASSWORD})
    assert r.status_code == 200
    t = second.get("/api/v1/me/tasks").json()
    assert [b["id"] for b in t["review"]] == ["b-sub"] and t["drafts"] == []
    assert t["assigned"] == [] and t["count"] == 1

    ana, _ = env.login(Role.ANALYST)
    t = ana.get("/api/v1/me/tasks").json()
    assert t == {**t, "assigned": None, "review": None, "drafts": None, "count": 0}


def test_nav_shows_the_count_for_roles_with_tasks(env: Env) -> None:
    _seed(env)
    mon, _ = env.login(Role.MONITOR)
    page = mon.get("/incidents").text
    assert 'id="nav-count-tasks" aria-label="2 项">2</span>' in page
    ana, _ = env.login(Role.ANALYST)
    assert 'href="/tasks"' not in ana.get("/incidents").text
