"""Generic webhook: JSON, HMAC-SHA256 signature of the raw body, Idempotency-Key."""

from __future__ import annotations

import pytest

from alerting.channels import ChannelError, build_channel
from alerting.render import AlertText, Line


def test_signed_json_with_idempotency_key(webhook, http, clock):
    ch = build_channel(
        "wh",
        {"type": "webhook", "url": webhook.url + "/h", "secret": "s3cret"},
        client=http,
        clock=clock,
    )
    t = AlertText(
        event="created", title="【新预警】测试", lines=[Line(label="地点", value="临江区")]
    )
    (part,) = ch.parts(t)
    assert ch.send_part(part, text=t, key="abc", part=1, total=1).ok
    assert webhook.keys == {"abc": 1}
    body = webhook.accepted[0]
    assert body["title"] == t.title and body["lines"][0]["value"] == "临江区"
    assert "地点：临江区" in body["text"]


def test_wrong_secret_is_not_delivered(webhook, http, clock):
    ch = build_channel(
        "wh", {"type": "webhook", "url": webhook.url, "secret": "other"}, client=http, clock=clock
    )
    t = AlertText(event="created", title="x")
    result = ch.send_part("x", text=t, key="k", part=1, total=1)
    assert not result.ok and "401" in result.detail


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"type": "webhook"}, "alerting.channels.wh.url: 缺少必填项"),
        ({"type": "webhook", "url": "ftp://x"}, "channels.wh.url: 应以 http:// 或 https:// 开头"),
        ({"type": "webhook", "url": "http://x", "colour": 1}, "wh.colour: 未知的配置项"),
        ({"type": "pager"}, "alerting.channels.wh.type: 没有名为 'pager' 的预警渠道"),
        ({"type": "wecom"}, "alerting.channels.wh.key: 缺少必填项"),
        ({"type": "email", "host": "h", "from": "a@b", "to": []}, "wh.to: 至少 1 项"),
    ],
)
def test_bad_options_name_the_key(raw, problem):
    with pytest.raises(ChannelError) as info:
        build_channel("wh", raw)
    assert problem in str(info.value)
