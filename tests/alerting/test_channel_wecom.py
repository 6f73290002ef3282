"""WeCom group robot against a local receiver that enforces key, 4,096 bytes and 20/min."""

from __future__ import annotations

from alerting.channels import build_channel
from alerting.outbox import Sender
from alerting.render import AlertText, Line
from models import OutboxMessage


def long_text(n: int = 120) -> AlertText:
    lines = [
        Line(label=f"第{i}条", value="网传临江区滨江路发生冲突，现场视频在多个群转发" * 2)
        for i in range(n)
    ]
    return AlertText(event="created", title="【新预警·Ⅰ级红色】测试", colour="red", lines=lines)


def channel(wecom, http, clock, key="wk-1", **kw):
    raw = {"type": "wecom", "key": key, "base_url": wecom.url, **kw}
    return build_channel("wc", raw, client=http, clock=clock)


def test_markdown_with_colour_is_accepted(wecom, http, clock):
    ch = channel(wecom, http, clock, mentioned_userids=["wangfang"])
    text = AlertText(
        event="created",
        title="【新预警·Ⅱ级橙色】滨江路冲突",
        colour="orange",
        lines=[Line(label="地点", value="临江区")],
        link="http://x/incidents/1",
    )
    (part,) = ch.parts(text)
    result = ch.send_part(part, text=text, key="k", part=1, total=1)
    assert result.ok, result.detail
    content = wecom.accepted[0]["markdown"]["content"]
    assert content.startswith('<font color="warning">**【新预警')
    assert "[查看事件详情](http://x/incidents/1)" in content
    assert content.endswith("<@wangfang>")


def test_long_message_is_split_under_the_byte_limit_never_truncated(wecom, http, clock):
    ch = channel(wecom, http, clock)
    text = long_text()
    parts = ch.parts(text)
    assert len(parts) > 2
    assert all(len(p.encode()) <= 4096 for p in parts)
    assert parts[0].startswith(f"（1/{len(parts)}）")
    for i, body in enumerate(parts, 1):
        assert ch.send_part(body, text=text, key="k", part=i, total=len(parts)).ok
    joined = "\n".join(p.split("\n", 1)[1] for p in parts)
    assert joined == "\n".join(ch.lines(text))  # every line arrives, in order
    assert not wecom.rejected


def test_wrong_key_and_oversize_are_failures_with_the_platform_code(wecom, http, clock):
    bad = channel(wecom, http, clock, key="nope")
    text = long_text(2)
    result = bad.send_part("x", text=text, key="k", part=1, total=1)
    assert not result.ok and "93000" in result.detail
    ok = channel(wecom, http, clock)
    result = ok.send_part("字" * 2000, text=text, key="k", part=1, total=1)  # 6,000 bytes
    assert not result.ok and "40058" in result.detail


def test_sender_keeps_to_twenty_a_minute(store, wecom, http, clock):
    ch = channel(wecom, http, clock)
    for i in range(30):
        store.save_record(
            OutboxMessage(
                id=f"m{i:02d}",
                channel="wc",
                alert_id="a",
                revision=i,
                event="created",
                enqueued_at=clock(),
                content=AlertText(event="created", title=f"消息{i}").model_dump(),
            )
        )
    sender = Sender(store, {"wc": ch})
    report = sender.run_once(clock())
    assert report.sent == 20 and report.throttled == 1
    clock.advance(seconds=30)
    assert sender.run_once(clock()).sent == 0
    clock.advance(seconds=31)
    assert sender.run_once(clock()).sent == 10
    assert not wecom.rejected  # never over the platform's limit
    titles = [m["markdown"]["content"] for m in wecom.accepted]
    assert [t.split("消息")[1].split("*")[0] for t in titles] == [str(i) for i in range(30)]
