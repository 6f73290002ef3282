"""Prometheus figures of alerting, read from the store at scrape time (the sender and the
alerting pass run in the scheduler, possibly another process, so nothing is counted in
memory here).

* alert queue: open alerts not yet acknowledged, by tier, and the age of the oldest;
* outbox queue: messages waiting to be sent (pending or being sent), by channel, and the
  age of the oldest;
* send failures by channel: failed attempts of messages not yet delivered, and messages
  given up (dead letter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from alerting.events import UNACKNOWLEDGED, list_all
from alerting.outbox import pending_messages
from models import Alert, OutboxMessage, OutboxStatus, Tier
from store import Store


class AlertCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock()
        depth = GaugeMetricFamily(
            "tingfeng_alert_queue_depth",
            "Open alerts not yet acknowledged, by tier",
            labels=["tier"],
        )
        oldest = GaugeMetricFamily(
            "tingfeng_alert_queue_oldest_age_seconds",
            "Age of the oldest open alert not yet acknowledged (0 when none)",
        )
        waiting = [a for st in UNACKNOWLEDGED for a in list_all(self.store, Alert, status=st)]
        by_tier = Counter(a.tier for a in waiting)
        for tier in Tier:
            depth.add_metric([tier.value], float(by_tier.get(tier, 0)))
        ages = [(now - a.opened_at).total_seconds() for a in waiting]
        oldest.add_metric([], max(0.0, max(ages, default=0.0)))
        yield depth
        yield oldest

        queued = GaugeMetricFamily(
            "tingfeng_outbox_queue_depth",
            "Notifications waiting to be sent (pending or being sent), by channel",
            labels=["channel"],
        )
        queued_age = GaugeMetricFamily(
            "tingfeng_outbox_queue_oldest_age_seconds",
            "Age of the oldest notification waiting to be sent, by channel",
            labels=["channel"],
        )
        failures = GaugeMetricFamily(
            "tingfeng_send_failures",
            "Send failures by channel: failed attempts of messages not yet delivered "
            "(state=retrying) and messages given up (state=dead)",
            labels=["channel", "state"],
        )
        pending = pending_messages(self.store)
        per_channel: dict[str, list[OutboxMessage]] = {}
        for m in pending:
            per_channel.setdefault(m.channel, []).append(m)
        retrying: Counter[str] = Counter()
        for channel, msgs in sorted(per_channel.items()):
            queued.add_metric([channel], float(len(msgs)))
            age = max((now - m.enqueued_at).total_seconds() for m in msgs)
            queued_age.add_metric([channel], max(0.0, age))
            retrying[channel] += sum(1 for m in msgs for a in m.log if not a.ok)
        dead = Counter(
            m.channel for m in list_all(self.store, OutboxMessage, status=OutboxStatus.DEAD)
        )
        for channel in sorted(set(retrying) | set(dead)):
            failures.add_metric([channel, "retrying"], float(retrying.get(channel, 0)))
            failures.add_metric([channel, "dead"], float(dead.get(channel, 0)))
        yield queued
        yield queued_age
        yield failures
