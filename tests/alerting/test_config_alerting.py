"""The ``alerting:`` section is checked at start-up: channels, routes, reminders."""

from __future__ import annotations

import pytest

from tingfeng.config import ConfigError, load_config


def load(tmp_path, text):
    path = tmp_path / "tingfeng.yaml"
    path.write_text(text, "utf-8")
    return load_config(path, environ={})


def test_defaults_record_alerts_without_sending(tmp_path):
    cfg = load(tmp_path, "alerting: {}\n")
    assert cfg.alerting.channels == {} and cfg.alerting.reminders == [0.5, 0.9]
    assert cfg.alerting.escalation[0].repeat_minutes == 30


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "alerting:\n  channels: {d: {type: webhook, url: 'http://x'}}\n  routes: {duty: [e]}\n",
            "alerting.routes.duty: 没有名为 'e' 的渠道",
        ),
        (
            "alerting:\n  channels: {d: {type: webhook, url: 'http://x'}}\n  routes: {duty: [d]}\n",
            "alerting.tier_routes.I: 没有名为 'supervisor' 的路由",
        ),
        ("alerting:\n  reminders: [0.5, 1.5]\n", "alerting.reminders: 1.5: 提醒点是时限的比例"),
        (
            "alerting:\n  channels: {f: {type: feishu, token: t}}\n",
            "alerting.channels.f.secret: 缺少必填项",
        ),
        ("alerting:\n  base_url: yq.example\n", "alerting.base_url: 应以 http:// 或 https:// 开头"),
        ("alerting:\n  outbox: {lease_seconds: 0}\n", "alerting.outbox.lease_seconds"),
    ],
)
def test_bad_alerting_options_name_the_key(tmp_path, text, problem):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert problem in str(info.value) and "tingfeng.yaml" in str(info.value)


def test_secrets_from_the_environment(tmp_path):
    path = tmp_path / "tingfeng.yaml"
    path.write_text("alerting:\n  channels: {duty_wecom: {type: wecom, key: placeholder}}\n")
    cfg = load_config(path, environ={"TINGFENG_ALERTING__CHANNELS__DUTY_WECOM__KEY": "real"})
    assert cfg.alerting.channels["duty_wecom"]["key"] == "real"
