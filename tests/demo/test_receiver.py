"""The demo's WeCom robot over real HTTP: it refuses what the platform refuses, and the
platform's own channel class (alerting.channels.wecom) gets through it."""

from __future__ import annotations

import json

import httpx

from alerting.channels import build_channel
from alerting.render import AlertText, Line
from tingfeng.demo.receiver import RobotReceiver


def post(robot: RobotReceiver, key: str, body: object) -> dict:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = f"{robot.base_url}/cgi-bin/webhook/send"
    return httpx.post(url, params={"key": key}, content=raw, timeout=5).json()


def test_the_robot_checks_key_shape_size_and_rate(tmp_path):
    real = [0.0]
    with RobotReceiver("k1", log_path=tmp_path / "robot.log", clock=lambda: real[0]) as robot:
        text = {"msgtype": "text", "text": {"content": "x"}}
        assert post(robot, "nope", text)["errcode"] == 93000
        assert post(robot, "k1", b"{not json")["errcode"] == 40001
        assert post(robot, "k1", {"msgtype": "image", "image": {}})["errcode"] == 40008
        assert post(robot, "k1", {"msgtype": "text", "text": {"content": " "}})["errcode"] == 44004
        long = "预" * 1366  # 4,098 bytes
        big = {"msgtype": "markdown", "markdown": {"content": long}}
        assert post(robot, "k1", big)["errcode"] == 45002
        for i in range(20):
            ok = post(robot, "k1", {"msgtype": "markdown", "markdown": {"content": f"第{i}条"}})
            assert ok == {"errcode": 0, "errmsg": "ok"}
        assert post(robot, "k1", {"msgtype": "text", "text": {"content": "多"}})["errcode"] == 45009
        real[0] = 61.0
        assert post(robot, "k1", {"msgtype": "text", "text": {"content": "又一条"}})["errcode"] == 0
        assert len(robot.messages) == 21 and len(robot.rejected) == 6
        page = httpx.get(f"{robot.base_url}/", timeout=5)
        assert page.status_code == 200 and "又一条" in page.text
    lines = (tmp_path / "robot.log").read_text("utf-8").splitlines()
    assert len(lines) == 21 and json.loads(lines[-1])["content"] == "又一条"


def test_the_platform_wecom_channel_is_accepted():
    with RobotReceiver("k2") as robot, httpx.Client() as client:
        options = {"type": "wecom", "key": "k2", "base_url": robot.base_url}
        channel = build_channel("robot", options, client=client)
        text = AlertText(event="test", title="【测试】演示", colour="orange",
                         lines=[Line(label="说明", value="演示渠道")])  # fmt: skip
        parts = channel.parts(text)
        result = channel.send_part(parts[0], text=text, key="t", part=1, total=len(parts))
        assert result.ok, result
        assert "演示渠道" in robot.messages[0].content
