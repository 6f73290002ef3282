"""Two officers (or two tabs) acting on one bulletin at the same moment, against a real
``tingfeng serve`` with two worker processes: every change is a compare-and-set on the
version read, so exactly one of two requests based on the same version wins and the other
gets 409 saying someone else changed it; an approval never lands on a text the approver
did not read."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import httpx
import pytest

from models import Bulletin, BulletinStatus, Role, now_utc
from store.sqlite import SQLiteStore
from tests.api.factory import OFFICER2, OFFICER2_PASSWORD, PASSWORDS, USERS, seed_city
from tests.api.live import LiveServer, serve

ROUNDS = 6


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("bulletin-race")
    db = tmp / "live.db"
    with SQLiteStore(db) as store:
        seed_city(store, now_utc(), second_officer=True)
    with serve(tmp, db, workers=2) as server:
        yield server


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(live: LiveServer, name: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=live.url, timeout=30.0)
    _OPEN.append(c)
    r = c.post("/api/v1/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def _together(*calls) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    """Run the calls in threads released at the same instant; their responses in order."""
    barrier = threading.Barrier(len(calls))
    out: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in out)
    return out  # type: ignore[return-value]


def _submitted(drafter: httpx.Client) -> dict:
    r = drafter.post("/api/v1/bulletins", json={"incident_id": "inc-a", "kind": "rebuttal"})
    assert r.status_code == 201, r.text
    b = r.json()
    body = re.sub(r"\[待核实[^\]]*\]", "市应急管理局", b["body"])
    title = re.sub(r"\[待核实[^\]]*\]", "市应急管理局", b["title"])
    b = drafter.patch(
        f"/api/v1/bulletins/{b['id']}", json={"version": b["version"], "title": title, "body": body}
    ).json()
    r = drafter.post(f"/api/v1/bulletins/{b['id']}/submit", json={"version": b["version"]})
    assert r.status_code == 200, r.text
    return r.json()


def _lost(r: httpx.Response) -> None:
    assert r.status_code == 409, r.text
    problem = r.json()["detail"][0]
    assert problem["field"] == "version" and "已被他人修改" in problem["problem"], problem


def test_approve_and_edit_of_one_version_one_wins(live: LiveServer) -> None:
    drafter = _client(live, USERS[Role.OFFICER], PASSWORDS[Role.OFFICER])
    approver = _client(live, OFFICER2, OFFICER2_PASSWORD)
    won = {"approve": 0, "edit": 0}
    for n in range(ROUNDS):
        b = _submitted(drafter)
        bid, v = b["id"], b["version"]
        approve, edit = _together(
            lambda bid=bid, v=v: approver.post(
                f"/api/v1/bulletins/{bid}/approve", json={"version": v}
            ),
            lambda bid=bid, v=v, n=n: drafter.patch(
                f"/api/v1/bulletins/{bid}", json={"version": v, "title": f"改过的标题{n}"}
            ),
        )
        assert sorted([approve.status_code, edit.status_code]) == [200, 409], (
            approve.text,
            edit.text,
        )
        with SQLiteStore(live.db, readonly=True) as store:
            stored = store.get_record(Bulletin, bid)
        assert stored is not None and stored.version == v + 1
        if approve.status_code == 200:
            won["approve"] += 1
            _lost(edit)
            assert stored.status == BulletinStatus.APPROVED and stored.title == b["title"]
        else:
            won["edit"] += 1
            _lost(approve)
            # The approval did not land on the edited text, nor anywhere else.
            assert stored.status == BulletinStatus.DRAFT and stored.approved_by is None
            assert stored.title == f"改过的标题{n}"
        assert [e["action"] for e in stored.history].count("approve") == (
            1 if approve.status_code == 200 else 0
        )
    assert sum(won.values()) == ROUNDS


def test_two_tabs_submitting_one_version_submit_once(live: LiveServer) -> None:
    tab1 = _client(live, USERS[Role.OFFICER], PASSWORDS[Role.OFFICER])
    tab2 = _client(live, USERS[Role.OFFICER], PASSWORDS[Role.OFFICER])
    r = tab1.post("/api/v1/bulletins", json={"incident_id": "inc-a", "kind": "situation"})
    b = r.json()
    first, second = _together(
        lambda: tab1.post(f"/api/v1/bulletins/{b['id']}/submit", json={"version": b["version"]}),
        lambda: tab2.post(f"/api/v1/bulletins/{b['id']}/submit", json={"version": b["version"]}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    _lost(first if first.status_code == 409 else second)
    with SQLiteStore(live.db, readonly=True) as store:
        stored = store.get_record(Bulletin, b["id"])
    assert stored is not None and [e["action"] for e in stored.history].count("submit") == 1


def test_an_approval_based_on_an_old_version_is_refused(live: LiveServer) -> None:
    """The approver read version v; meanwhile the drafter edited and resubmitted (v + 2,
    submitted again): approving "v" must not approve the new text."""
    drafter = _client(live, USERS[Role.OFFICER], PASSWORDS[Role.OFFICER])
    approver = _client(live, OFFICER2, OFFICER2_PASSWORD)
    b = _submitted(drafter)
    bid, seen = b["id"], b["version"]
    edited = drafter.patch(f"/api/v1/bulletins/{bid}", json={"version": seen, "title": "新标题"})
    again = drafter.post(f"/api/v1/bulletins/{bid}/submit", json={"version": seen + 1})
    assert edited.status_code == again.status_code == 200
    r = approver.post(f"/api/v1/bulletins/{bid}/approve", json={"version": seen})
    _lost(r)
    assert r.json()["current"]["version"] == seen + 2
    assert f"第 {seen} 版" in r.json()["detail"][0]["problem"]
    with SQLiteStore(live.db, readonly=True) as store:
        assert store.get_record(Bulletin, bid).status == BulletinStatus.SUBMITTED  # type: ignore[union-attr]
