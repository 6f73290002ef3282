"""``tingfeng demo`` as a person runs it: a subprocess on free ports on 127.0.0.1.

``--fast --exit`` runs the whole story through the real spiders, detection, the response
tracker, alerting (the shipped tier policy), draft-on-alert and the demo robot, and the store
must then hold the tiered alert on the false claim (the only alert above tier III: no alert
on ordinary news; the board's unanswered messages are tier III 直接诉求), its rebuttal draft,
and the official 情况通报 linked as its response. The live demo must serve
``/healthz`` and the login page, and stop on SIGINT and on SIGTERM with no process left
behind and its port free; a second run in the same folder resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from models import Alert, AlertKind, Bulletin, BulletinKind, OfficialResponse, Tier
from store.sqlite import SQLiteStore
from tingfeng.demo.story import load_story

STORY = load_story()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_cmd(folder: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tingfeng", "demo", "--dir", str(folder), "--port", str(port),
            *extra]  # fmt: skip


def processes_of(folder: Path) -> list[str]:
    """Command lines of running processes that mention the demo folder (crawls name its
    configuration file)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in cmd:
            out.append(f"{entry.name}: {cmd}")
    return out


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("demo-fast") / "jiangyu"
    port = free_port()
    done = subprocess.run(
        demo_cmd(folder, port, "--fast", "--exit", "--step", "45"),
        capture_output=True, text=True, encoding="utf-8", timeout=600,
    )  # fmt: skip
    return {"folder": folder, "done": done}


def test_fast_demo_raises_the_alert_drafts_and_links_the_response(fast_run: dict) -> None:
    done, folder = fast_run["done"], fast_run["folder"]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "演示结果" in done.stdout and "Traceback" not in done.stderr
    store = SQLiteStore(folder / "tingfeng.db")
    try:
        alerts = [a for a in store.list_records(Alert, limit=100)]
        incident_alerts = [a for a in alerts if a.alert_kind == AlertKind.INCIDENT]
        # one alert above tier III, on the false claim; ordinary news raises none; a message
        # on the board nobody answered is a direct appeal, tier III (PRODUCT.md's table)
        urgent = [a for a in incident_alerts if a.tier in (Tier.I, Tier.II)]
        assert len(urgent) == 1, [(a.title, a.tier, a.rule) for a in incident_alerts]
        alert = urgent[0]
        others = [(a.tier, a.rule) for a in incident_alerts if a is not alert]
        assert set(others) <= {(Tier.III, "直接诉求")}, others
        assert any(w in alert.title for w in ("城管", "滨江夜市")), alert.title
        assert alert.deadlines and alert.deadlines[0].due > alert.opened_at
        # raised while the rumor spread, before the bulletin (story time)
        assert STORY.at("19:41") < alert.opened_at < STORY.at("21:30")
        # no source went unhealthy on a quiet evening
        assert not [a for a in alerts if a.alert_kind == AlertKind.SOURCE]

        drafts = store.list_records(Bulletin, limit=10, incident_id=alert.incident_id)
        assert len(drafts) == 1
        draft = drafts[0]
        assert draft.bulletin_kind == BulletinKind.REBUTTAL and draft.status.value == "draft"
        assert draft.placeholders and draft.body
        drafted = [e for e in alert.history if e.action == "drafted"]
        assert drafted and drafted[0].detail["bulletin_id"] == draft.id

        responses = store.list_records(OfficialResponse, limit=100, incident_id=alert.incident_id)
        bulletin = STORY.blog("bulletin")
        linked = [r for r in responses if r.posted_at == bulletin.at]
        assert linked, [(r.author, r.posted_at) for r in responses]
        assert linked[0].author == "临江发布"
        assert alert.responded_at is not None
    finally:
        store.close()

    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    assert summary["alert"]["id"] == alert.id and summary["draft"] == draft.id
    assert summary["response"]["author"] == "临江发布"
    before, after = summary["effect"]["before"], summary["effect"]["after"]
    assert before["reposts"] > after["reposts"]  # the reposts stop after the bulletin
    # the robot received the new alert, as the platform would have accepted it
    received = [json.loads(line) for line in (folder / "robot.log").read_text("utf-8").splitlines()]
    assert any("新预警" in m["content"] for m in received)
    assert summary["robot_messages"] == len(received)
    logins = json.loads((folder / "logins.json").read_text("utf-8"))
    assert set(logins) == {"monitor", "officer", "officer2", "analyst", "admin"}
    for name, password in logins.items():
        assert name in done.stdout and password in done.stdout
    assert not processes_of(folder)


def test_a_busy_port_and_wrong_arguments_are_one_chinese_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(demo_cmd(tmp_path / "d", port), capture_output=True, text=True)
    assert done.returncode == 2
    assert f"--port {port}：端口已被占用" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()
    for args, words in (
        (["--port", "abc"], "--port：应为整数"),
        (["--speed", "0"], "--speed：倍速"),
        (["--start", "25:61"], "--start：应为故事当天的时间"),
        (["--exit"], "--exit 只能与 --fast 一起使用"),
        (["--colour", "red"], "无法识别的参数"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tingfeng", "demo", "--dir", str(tmp_path / "e"), *args],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 2, args
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    done = subprocess.run(demo_cmd(tmp_path / "other", free_port()), capture_output=True, text=True)
    assert done.returncode == 2 and "不是演示目录" in done.stderr
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            body = httpx.get(f"{url}/healthz", timeout=2).json()
            if body.get("scheduler") == "running":
                return body
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the demo did not become healthy")


def start_demo(folder: Path, port: int) -> subprocess.Popen:
    """A live ``tingfeng demo`` subprocess, unbuffered, its output captured as text."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        demo_cmd(folder, port), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8", env=env,
    )  # fmt: skip


def wait_for_crawl(folder: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(" crawl " in p for p in processes_of(folder)):
            return
        time.sleep(0.2)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_live_demo_serves_and_stops_cleanly(tmp_path_factory, sig) -> None:
    # both runs share one folder: the second resumes the first's story
    folder = tmp_path_factory.getbasetemp() / "demo-live"
    port = free_port()
    proc = start_demo(folder, port)
    try:
        url = f"http://127.0.0.1:{port}"
        health = wait_healthy(proc, url)
        assert health["store"] == "ok"
        login = httpx.get(f"{url}/login", timeout=5)
        assert login.status_code == 200 and 'name="password"' in login.text
        assert httpx.get(f"{url}/", timeout=5, follow_redirects=False).status_code in (302, 303)
        wait_for_crawl(folder)  # stop while a crawl runs: it must not be left behind
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    assert "监测台" in out and "monitor" in out and "已停止" in out
    if sig == signal.SIGTERM:
        assert "继续上次的演示" in out
    time.sleep(0.5)
    assert not processes_of(folder)
    assert port_free(port)


def test_a_live_demo_whose_folder_is_deleted_stops_with_one_chinese_line(tmp_path) -> None:
    folder = tmp_path / "demo-gone"
    port = free_port()
    proc = start_demo(folder, port)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
        wait_for_crawl(folder)
        shutil.rmtree(folder)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err[-2000:]
    assert "Traceback" not in err and "Traceback" not in out, (out + err)[-3000:]
    assert "已不存在" in out and "tingfeng demo --reset" in out, out[-2000:]
    assert "已停止" in out
    time.sleep(0.5)
    assert port_free(port)
