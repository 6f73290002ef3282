"""DingTalk robot: signed URL (ms timestamp within 1 h), markdown, 20/min then blocked."""

from __future__ import annotations

from datetime import timedelta

from alerting.channels import build_channel
from alerting.channels.dingtalk import dingtalk_sign
from alerting.outbox import Sender
from alerting.render import AlertText, Line
from models import OutboxMessage, OutboxStatus


def channel(dingtalk, http, clock, secret="SECdingtalk"):
    raw = {
        "type": "dingtalk",
        "access_token": "dt-1",
        "secret": secret,
        "base_url": dingtalk.url,
        "at_mobiles": ["13800000000"],
    }
    return build_channel("dd", raw, client=http, clock=clock)


def text() -> AlertText:
    return AlertText(
        event="created",
        title="【新预警·Ⅰ级红色】白塔县化工厂异味",
        colour="red",
        lines=[Line(label="地点", value="白塔县")],
    )


def test_signed_markdown_is_accepted(dingtalk, http, clock):
    ch = channel(dingtalk, http, clock)
    t = text()
    (part,) = ch.parts(t)
    result = ch.send_part(part, text=t, key="k", part=1, total=1)
    assert result.ok, result.detail
    body = dingtalk.accepted[0]
    assert body["msgtype"] == "markdown" and body["at"]["atMobiles"] == ["13800000000"]
    assert '<font color="#FF0000">' in body["markdown"]["text"]


def test_bad_secret_and_stale_clock_fail_with_310000(dingtalk, http, clock):
    t = text()
    bad = channel(dingtalk, http, clock, secret="SECwrong")
    result = bad.send_part("x", text=t, key="k", part=1, total=1)
    assert not result.ok and "310000" in result.detail
    late = build_channel(
        "dd",
        {
            "type": "dingtalk",
            "access_token": "dt-1",
            "secret": "SECdingtalk",
            "base_url": dingtalk.url,
        },
        client=http,
        clock=lambda: clock() - timedelta(hours=2),
    )
    assert "310000" in late.send_part("x", text=t, key="k", part=1, total=1).detail


def test_sign_matches_the_documented_recipe():
    # base64(HMAC_SHA256(secret, f"{ts}\n{secret}")), as DingTalk documents it
    assert dingtalk_sign("SEC000", 1700000000000) == dingtalk_sign("SEC000", 1700000000000)
    assert dingtalk_sign("SEC000", 1) != dingtalk_sign("SEC000", 2)


def test_sender_never_trips_the_ten_minute_block(store, dingtalk, http, clock):
    ch = channel(dingtalk, http, clock)
    for i in range(25):
        store.save_record(
            OutboxMessage(
                id=f"d{i:02d}",
                channel="dd",
                alert_id="a",
                revision=i,
                event="created",
                enqueued_at=clock(),
                content=text().model_dump(),
            )
        )
    sender = Sender(store, {"dd": ch})
    assert sender.run_once(clock()).sent == 20
    clock.advance(seconds=61)
    assert sender.run_once(clock()).sent == 5
    assert not dingtalk.rejected
    assert all(m.status == OutboxStatus.DELIVERED for m in store.list_records(OutboxMessage))


def test_rate_history_survives_a_new_sender(store, dingtalk, http, clock):
    """A restarted worker (a new Sender) must not burst past the 20 a minute either."""
    ch = channel(dingtalk, http, clock)
    for i in range(30):
        store.save_record(
            OutboxMessage(
                id=f"r{i:02d}",
                channel="dd",
                alert_id="a",
                revision=i,
                event="created",
                enqueued_at=clock(),
                content=text().model_dump(),
            )
        )
    assert Sender(store, {"dd": ch}).run_once(clock()).sent == 20
    clock.advance(seconds=20)
    assert Sender(store, {"dd": ch}).run_once(clock()).sent == 0
    clock.advance(seconds=41)
    assert Sender(store, {"dd": ch}).run_once(clock()).sent == 10
    assert not dingtalk.rejected
