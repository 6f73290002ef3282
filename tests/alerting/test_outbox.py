"""The outbox sender against real receivers: order, retries, timeouts, garbage, dead letter."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx

from alerting.channels import build_channel
from alerting.config import OutboxConfig
from alerting.engine import AlertEngine
from alerting.outbox import Sender
from alerting.render import AlertText
from models import Alert, AlertKind, OutboxMessage, OutboxStatus
from tests.alerting.support import incident, put, webhook_config


def queue(store, clock, n, channel="wh"):
    for i in range(n):
        store.save_record(
            OutboxMessage(
                id=f"{channel}-{i:03d}",
                channel=channel,
                alert_id=f"a{i}",
                revision=1,
                event="created",
                enqueued_at=clock() + timedelta(microseconds=i),
                content=AlertText(event="created", title=f"消息{i}").model_dump(),
            )
        )


def webhook_channel(receiver, clock, client=None, name="wh", **kw):
    raw = {"type": "webhook", "url": receiver.url + "/h", "secret": "s3cret", **kw}
    return build_channel(name, raw, client=client or httpx.Client(timeout=5), clock=clock)


def sender(store, channels, **kw):
    return Sender(store, channels, OutboxConfig(**kw), rng=random.Random(7))


def titles(receiver):
    return [b["title"] for b in receiver.accepted]


def test_receiver_down_for_an_hour_gets_everything_in_order(store, webhook, clock):
    queue(store, clock, 5)
    webhook.down_until = clock() + timedelta(hours=1)
    s = sender(store, {"wh": webhook_channel(webhook, clock)})
    for _ in range(60):
        s.run_once(clock())
        clock.advance(minutes=1)
        if clock() < webhook.down_until:
            queue_more = clock().minute % 20 == 0
            if queue_more:  # alerts keep arriving while it is down
                store.save_record(
                    OutboxMessage(
                        id=f"late-{clock().minute}",
                        channel="wh",
                        alert_id="late",
                        revision=clock().minute,
                        event="reminder",
                        enqueued_at=clock(),
                        content=AlertText(
                            event="reminder", title=f"迟到{clock().minute}"
                        ).model_dump(),
                    )
                )
    assert webhook.accepted == []
    head = store.get_record(OutboxMessage, "wh-000")
    assert head.attempts >= 5 and head.status == OutboxStatus.PENDING
    gaps = [b.at - a.at for a, b in zip(head.log, head.log[1:], strict=False)]
    # Exponential with jitter, capped at 10 minutes (plus the 1-minute pass granularity).
    assert gaps[0] < gaps[3] and max(gaps) <= timedelta(seconds=660)
    for _ in range(15):  # back: within one capped backoff everything arrives
        clock.advance(minutes=1)
        s.run_once(clock())
    expected = [f"消息{i}" for i in range(5)] + [f"迟到{m}" for m in (20, 40)]
    assert titles(webhook) == expected
    assert all(n == 1 for n in webhook.keys.values())


def test_fails_n_times_then_delivers(store, webhook, clock):
    queue(store, clock, 2)
    webhook.fail_next = 3
    s = sender(store, {"wh": webhook_channel(webhook, clock)}, backoff_seconds=10)
    for _ in range(20):
        s.run_once(clock())
        clock.advance(seconds=30)
    assert titles(webhook) == ["消息0", "消息1"]
    msg = store.get_record(OutboxMessage, "wh-000")
    assert [a.ok for a in msg.log] == [False, False, False, True]
    assert "502" in msg.log[0].detail


def test_timeout_is_retried(store, webhook, clock):
    queue(store, clock, 1)
    webhook.delay = 0.5
    ch = webhook_channel(webhook, clock, timeout_seconds=0.1)
    s = sender(store, {"wh": ch})
    report = s.run_once(clock())
    assert report.failed == 1
    assert "Timeout" in store.get_record(OutboxMessage, "wh-000").last_error
    webhook.delay = 0
    clock.advance(minutes=1)
    assert s.run_once(clock()).sent == 1


def test_garbage_answers_are_retried_and_other_channels_go_on(store, wecom, webhook, clock):
    wecom.garbage = True
    wc = build_channel(
        "wc",
        {"type": "wecom", "key": "wk-1", "base_url": wecom.url},
        client=httpx.Client(timeout=5),
        clock=clock,
    )
    queue(store, clock, 2, channel="wc")
    queue(store, clock, 2, channel="wh")
    s = sender(store, {"wc": wc, "wh": webhook_channel(webhook, clock)})
    for _ in range(3):
        s.run_once(clock())
        clock.advance(minutes=5)
    assert len(webhook.accepted) == 2
    bad = store.get_record(OutboxMessage, "wc-000")
    assert bad.status == OutboxStatus.PENDING and "not JSON" in bad.last_error
    wecom.garbage = False
    clock.advance(minutes=10)
    s.run_once(clock())
    assert len(wecom.accepted) == 2


def test_dead_letter_after_the_configured_age_alerts_the_admin(store, policy, clock, webhook):
    put(store, incident(heat=45))
    cfg = webhook_config(
        webhook.url,
        channels={
            "duty": {"type": "webhook", "url": "http://127.0.0.1:9/never", "timeout_seconds": 0.5},
            "lead": {"type": "webhook", "url": webhook.url + "/lead", "secret": "s3cret"},
        },
    )
    cfg.outbox = OutboxConfig(dead_after_hours=1, backoff_max_seconds=300)
    eng = AlertEngine(store, policy, cfg)
    eng.run(clock())
    channels = {n: build_channel(n, raw, clock=clock) for n, raw in cfg.channels.items()}
    s = Sender(store, channels, cfg.outbox, on_dead=eng.dead_letter, rng=random.Random(1))
    for _ in range(14):
        s.run_once(clock())
        clock.advance(minutes=5)
    (dead,) = store.list_records(OutboxMessage, status=OutboxStatus.DEAD)
    assert dead.channel == "duty" and dead.event == "created"
    admin = store.get_record(Alert, "outbox-dead-duty")
    assert admin.alert_kind == AlertKind.SYSTEM and admin.figures["dead"] == 1
    s.run_once(clock())
    assert [b["event"] for b in webhook.accepted] == ["dead_letter"]  # via lead, not duty
    assert "duty" in webhook.accepted[0]["text"]


def test_two_senders_never_send_one_message_twice(store, webhook, clock):
    queue(store, clock, 30)
    ch = webhook_channel(webhook, clock)
    a, b = sender(store, {"wh": ch}), sender(store, {"wh": ch})
    a.owner, b.owner = "a", "b"
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        for _ in range(3):
            list(pool.map(lambda s: s.run_once(clock()), [a, b]))
    assert len(webhook.accepted) == 30
    assert all(n == 1 for n in webhook.keys.values())
    assert titles(webhook) == [f"消息{i}" for i in range(30)]
