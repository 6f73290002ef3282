"""Feishu bot: signature in the body, a card with the tier colour, 20 KB, 5/s and 100/min."""

from __future__ import annotations

import orjson

from alerting.channels import build_channel
from alerting.outbox import Sender
from alerting.render import AlertText, Line
from models import OutboxMessage


def channel(feishu, http, clock, secret="feishu-secret"):
    raw = {"type": "feishu", "token": "fs-1", "secret": secret, "base_url": feishu.url}
    return build_channel("fs", raw, client=http, clock=clock)


def test_card_with_header_colour(feishu, http, clock):
    ch = channel(feishu, http, clock)
    t = AlertText(
        event="created",
        title="【新预警·Ⅲ级黄色】临江区停水",
        colour="yellow",
        lines=[Line(label="地点", value="临江区")],
    )
    (part,) = ch.parts(t)
    assert ch.send_part(part, text=t, key="k", part=1, total=1).ok
    card = feishu.accepted[0]["card"]
    assert card["header"]["template"] == "yellow"
    assert card["header"]["title"]["content"] == t.title
    assert card["elements"][0]["text"]["content"] == "**地点**：临江区"


def test_bad_signature_is_19021(feishu, http, clock):
    ch = channel(feishu, http, clock, secret="wrong")
    t = AlertText(event="created", title="x")
    result = ch.send_part("x", text=t, key="k", part=1, total=1)
    assert not result.ok and "19021" in result.detail


def test_big_message_split_under_20kb(feishu, http, clock):
    ch = channel(feishu, http, clock)
    lines = [Line(label=f"帖子{i}", value="“" + "城管打人视频" * 30 + "”\t\\") for i in range(120)]
    t = AlertText(event="created", title="长消息", colour="red", lines=lines)
    parts = ch.parts(t)
    assert len(parts) >= 3
    for i, body in enumerate(parts, 1):
        payload = ch.payload(body, t, i, len(parts))
        assert len(orjson.dumps(payload)) <= 20_000
        assert ch.send_part(body, text=t, key="k", part=i, total=len(parts)).ok, i
    assert not feishu.rejected


def test_five_a_second(store, feishu, http, clock):
    ch = channel(feishu, http, clock)
    for i in range(12):
        store.save_record(
            OutboxMessage(
                id=f"f{i:02d}",
                channel="fs",
                alert_id="a",
                revision=i,
                event="created",
                enqueued_at=clock(),
                content=AlertText(event="created", title=f"m{i}").model_dump(),
            )
        )
    sender = Sender(store, {"fs": ch})
    sent = []
    for _ in range(3):
        sent.append(sender.run_once(clock()).sent)
        clock.advance(seconds=1)
    assert sent == [5, 5, 2] and not feishu.rejected
