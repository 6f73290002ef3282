"""One alerting pass: incidents and sources in, alerts and outbox messages out.

For every active incident the policy decides a tier; an incident gets one alert, updated as
it develops. Messages are queued only on creation, escalation, deadline reminders, overdue
and escalation steps, and recovery (已平息), and are stored in the same transaction as the
alert change that caused them (:meth:`Store.save_records`), before anything is sent. Events
of one alert in one pass are coalesced into one message per channel. Every time comes from
the ``now`` argument: tests run a day of clocks without sleeping.
"""

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from alerting.channels.base import idempotency_key
from alerting.clocks import DeadlineClocks
from alerting.config import AlertingConfig
from alerting.events import OPEN_STATUSES, PRIORITY, Event, PassReport, chain_id, list_all
from alerting.policy import RANK, Decision, TierPolicy, incident_figures
from alerting.render import EVENT_LABELS, AlertText, claim_of, compose
from alerting.sources import SystemAlerts
from models import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertStatus,
    Incident,
    OutboxMessage,
    Post,
    Silence,
    SilenceTarget,
    Source,
    Tier,
)
from models.common import now_utc
from nlp.incidents import title_of
from store.base import ConflictError, PostFilter, Store

#: Official posts this soon after the one that met a clock are the same answer (the account
#: matrix and the portal reposting one 情况通报): they meet no further clock, so a follow-up
#: (进展通报, 通稿) is still owed.
SAME_ANSWER = timedelta(minutes=60)
#: Source posts whose texts rules with ``keywords`` read (the first ones of the incident).
SOURCE_TEXTS = 20

__all__ = ["AlertEngine", "Event", "PassReport", "alert_id_for_incident", "list_all"]


def alert_id_for_incident(incident_id: str) -> str:
    return f"alert-{incident_id}"


class AlertEngine(DeadlineClocks, SystemAlerts):
    """Runs passes over one store with one policy and one ``alerting:`` configuration."""

    def __init__(
        self,
        store: Store,
        policy: TierPolicy,
        config: AlertingConfig,
        *,
        sources: list[Source] | None = None,
        office: Any | None = None,
    ) -> None:
        from nlp.rumor.incident import OfficeAccounts

        self.store = store
        self.policy = policy
        self.config = config
        self.sources = sources or []
        #: who speaks officially (the ``office:`` section): their replies answer appeals
        self.office = OfficeAccounts.of(office)
        self._claims: Any = None

    # -- routing and messages -----------------------------------------------------------
    def channels_of(self, routes: list[str]) -> list[str]:
        out: list[str] = []
        for route in routes:
            for name in self.config.routes.get(route, []):
                if name not in out:
                    out.append(name)
        return out

    def tier_routes(self, tier: Tier) -> list[str]:
        return list(self.config.tier_routes.get(tier, []))

    def enqueue(
        self,
        subject_id: str,
        revision: int,
        event: str,
        channels: list[str],
        text: AlertText,
        now: datetime,
    ) -> list[OutboxMessage]:
        return [
            OutboxMessage(
                id=idempotency_key(channel, subject_id, revision),
                channel=channel,
                alert_id=subject_id,
                revision=revision,
                event=event,
                seq=i,
                enqueued_at=now,
                next_attempt_at=now,
                content=text.model_dump(mode="json"),
            )
            for i, channel in enumerate(channels)
        ]

    def claim_index(self) -> Any:
        if self._claims is None:
            from nlp.claims import index_from_store

            self._claims = index_from_store(self.store)
        return self._claims

    def compose(
        self,
        alert: Alert,
        event: str,
        now: datetime,
        note: str = "",
        incident: Incident | None = None,
    ) -> AlertText:
        posts: list[Post] = []
        rebuttal = None
        if alert.incident_id:
            if incident is None:
                incident = self.store.get_record(Incident, alert.incident_id)
            if incident is not None and incident.root_ids:
                posts = self.store.get_posts(incident.root_ids[:50])
            rebuttal = self.rebuttal(incident, posts)
        spec = self.policy.tiers[alert.tier]
        return compose(
            alert,
            event,
            now,
            incident=incident,
            posts=posts,
            rebuttal=rebuttal,
            base_url=self.config.base_url,
            note=note or None,
            tier_label=spec.label,
            colour=spec.colour,
        )

    def rebuttal(self, incident: Incident | None, posts: list[Post]) -> Any:
        claim = claim_of(posts)
        if incident is None or claim is None:
            return None
        try:
            matches = self.claim_index().match(
                claim.text or claim.title or "",
                before=incident.first_seen,
                exclude_ids=[p.id for p in posts],
            )
        except Exception:  # a broken index must never stop an alert from going out
            return None
        matches = [m for m in matches if m.id not in incident.root_ids]
        bulletins = [m for m in matches if m.kind == "bulletin"]
        return (bulletins or matches or [None])[0]

    def commit(
        self,
        alert: Alert,
        events: list[Event],
        now: datetime,
        report: PassReport,
        incident: Incident | None = None,
        muted: Silence | None = None,
        exclude: tuple[str, ...] = (),
    ) -> bool:
        """Save the alert and, for its events, the messages that announce them."""
        messages: list[OutboxMessage] = []
        if events:
            events.sort(key=lambda e: PRIORITY.index(e.name) if e.name in PRIORITY else 99)
            head = events[0]
            routes: list[str] = []
            for e in events:
                routes += [r for r in e.routes if r not in routes]
            notes = [e.note for e in events if e.note]
            extra = [EVENT_LABELS.get(e.name, e.name) for e in events[1:]]
            if extra:
                notes.append("同时：" + "、".join(dict.fromkeys(extra)))
            alert.revision += 1
            channels = [c for c in self.channels_of(routes) if c not in exclude]
            if muted is not None:
                alert.history.append(
                    AlertEvent(
                        at=now,
                        action="muted",
                        text=f"静默中（{muted.reason}，设置人 "
                        f"{muted.created_by}），未发送：{EVENT_LABELS.get(head.name, head.name)}",
                        detail={"silence": muted.id, "event": head.name},
                    )
                )
                report.silenced += 1
            elif channels:
                text = self.compose(alert, head.name, now, "；".join(notes), incident)
                messages = self.enqueue(alert.id, alert.revision, head.name, channels, text, now)
                if alert.status == AlertStatus.NEW:
                    alert.status = AlertStatus.NOTIFIED
                alert.history.append(
                    AlertEvent(
                        at=now,
                        action="notified",
                        text=f"{EVENT_LABELS.get(head.name, head.name)} → {', '.join(channels)}",
                        detail={"event": head.name, "revision": alert.revision, "routes": routes},
                    )
                )
        try:
            # Messages first: on a backend without transactions (Elasticsearch) a lost
            # alert update is redone next pass, a lost message would be silence.
            self.store.save_records([*messages, alert])
        except ConflictError:
            report.conflicts += 1  # edited by someone meanwhile; the next pass redoes it
            return False
        report.messages += len(messages)
        report.changed.append(alert.id)
        return True

    # -- silences ---------------------------------------------------------------------
    def active_silences(self, now: datetime) -> list[Silence]:
        return [s for s in list_all(self.store, Silence) if s.active(now)]

    @staticmethod
    def silence_for(
        silences: list[Silence], alert: Alert, incident: Incident | None
    ) -> Silence | None:
        for s in silences:
            if s.target == SilenceTarget.INCIDENT and s.value in (alert.incident_id, alert.id):
                return s
            if s.target == SilenceTarget.SOURCE and s.value == alert.source_name:
                return s
            if s.target == SilenceTarget.KEYWORD:
                words = [alert.title, *(incident.keywords if incident else [])]
                if any(s.value in w for w in words if w):
                    return s
        return None

    # -- the pass ---------------------------------------------------------------------
    def run(self, now: datetime | None = None) -> PassReport:
        t0 = time.perf_counter()
        now = now or now_utc()
        report = PassReport(at=now)
        silences = self.active_silences(now)
        # Only open alerts are read each pass: closed ones pile up over the years.
        alerts = self.open_alerts()
        by_incident = {a.incident_id: a for a in alerts if a.incident_id}
        incidents = self.active_incidents(now, set(by_incident))
        report.incidents = len(incidents)
        answered: dict[str, list[Post]] = {}
        waiting = self.unanswered_appeals(now, answered)
        # An unanswered appeal keeps its incident in the pass however long ago the incident
        # was last active (an appeal crawled hours late, or written to a quiet incident).
        known = {inc.id for inc in incidents}
        for inc_id in sorted(set(waiting) - known):
            record = self.store.get_record(Incident, inc_id)
            if record is not None:
                incidents.append(record)
        for inc in incidents:
            posts = waiting.get(inc.id, [])
            self.incident_pass(
                inc, by_incident.get(inc.id), posts, now, silences, report,
                answers=answered.get(inc.id, []),
            )  # fmt: skip
        self.source_pass(now, alerts, silences, report)
        # Clocks of alerts whose incident was not evaluated this pass (and source alerts).
        handled = set(report.changed)
        for alert in self.open_alerts():
            if alert.id not in handled:
                events = self.clock_events(alert, now, report)
                if events:
                    self.commit(
                        alert, events, now, report, muted=self.silence_for(silences, alert, None)
                    )
        self.silence_reminders(now, report)
        report.seconds = round(time.perf_counter() - t0, 3)
        return report

    def open_alerts(self) -> list[Alert]:
        out = [a for st in OPEN_STATUSES for a in list_all(self.store, Alert, status=st)]
        out.sort(key=lambda a: (a.opened_at, a.id))
        return out

    def chain(self, base: str) -> tuple[Alert | None, int]:
        """The latest alert of a subject (``base``, ``base-2``…) and how many it had."""
        latest, n = None, 0
        while (found := self.store.get_record(Alert, chain_id(base, n))) is not None:
            latest, n = found, n + 1
        return latest, n

    def next_id(self, base: str) -> str:
        return chain_id(base, self.chain(base)[1])

    def active_incidents(self, now: datetime, with_open_alert: set[str]) -> list[Incident]:
        cutoff = now - timedelta(hours=self.config.active_hours)
        wall_cutoff = now_utc() - timedelta(hours=self.config.active_hours)
        out: list[Incident] = []
        offset, page = 0, 1000
        while True:
            batch = self.store.list_records(Incident, limit=page, offset=offset)
            for inc in batch:
                seen = inc.last_seen or inc.updated_at
                if inc.id in with_open_alert or (
                    seen >= cutoff and seen <= now + timedelta(minutes=5)
                ):
                    out.append(inc)
            # Newest update first: past the cut-off nothing further was touched lately.
            if len(batch) < page or batch[-1].updated_at < min(wall_cutoff, cutoff):
                return out
            offset += page

    def direct_appeals(self, now: datetime) -> Counter[str]:
        """How many unanswered direct appeals each incident holds (see
        :meth:`unanswered_appeals`)."""
        return Counter({k: len(v) for k, v in self.unanswered_appeals(now).items()})

    def unanswered_appeals(
        self, now: datetime, answered: dict[str, list[Post]] | None = None
    ) -> dict[str, list[Post]]:
        """Unanswered direct appeals per incident: posts of ``direct_appeal.kinds`` or
        ``sources`` written or collected within ``active_hours`` (an appeal crawled late
        counts from when it arrived), less those answered by ``now`` (:meth:`answers`).
        ``answered``, when given, receives per incident the first answer to each appeal
        answered by ``now`` (the board's own reply meets the alert's clock, as an official
        response does)."""
        da = self.policy.direct_appeal
        out: dict[str, list[Post]] = {}
        if not da.kinds and not da.sources:
            return out
        since = now - timedelta(hours=self.config.active_hours)
        until = now + timedelta(minutes=5)
        filters = []
        for by in (
            {"kinds": da.kinds} if da.kinds else {},
            {"sources": da.sources} if da.sources else {},
        ):
            if by:
                filters.append(PostFilter(since=since, until=until, **by))
                filters.append(PostFilter(fetched_since=since, until=until, **by))
        appeals: dict[str, Post] = {}
        for flt in filters:
            for post in self.store.iter_posts(flt):
                if post.incident_id:
                    appeals.setdefault(post.id, post)
        # A post in the thread of another appeal (a forum reply, the asker adding to it) is
        # part of that conversation, not an appeal of its own.
        for post in list(appeals.values()):
            if any(k in appeals and k != post.id for k in (post.root_id, post.parent_id)):
                del appeals[post.id]
        ids = list(appeals)
        answers_of: dict[str, list[Post]] = {}
        for i in range(0, len(ids) if da.answered_kinds else 0, 500):
            flt = PostFilter(until=now + timedelta(microseconds=1), root_ids=ids[i : i + 500])
            for reply in self.store.iter_posts(flt):
                for key in (reply.parent_id, reply.root_id):
                    asked = appeals.get(key or "")
                    if asked is not None and self.answers(asked, reply):
                        answers_of.setdefault(asked.id, []).append(reply)
                        break
        for asked_id, replies in answers_of.items():
            asked = appeals.pop(asked_id)
            if answered is not None:
                first = min(replies, key=lambda p: (p.created_at, p.id))
                answered.setdefault(asked.incident_id or "", []).append(first)
        for post in appeals.values():
            out.setdefault(post.incident_id or "", []).append(post)
        return out

    def answers(self, asked: Post, reply: Post) -> bool:
        """Whether ``reply`` (a post in the thread of the appeal ``asked``) answers it: by
        an official account (``direct_appeal.official_answers``), or on a message board
        (``board_kinds``) a post of ``answered_kinds``, the board's own reply. A forum
        user's or a Weibo follower's reply is no answer; nor is the asker's own."""
        da = self.policy.direct_appeal
        if reply.id == asked.id or _same_author(asked, reply):
            return False
        if da.official_answers and self.office.is_official(reply):
            return True
        return asked.kind in da.board_kinds and reply.kind in da.answered_kinds

    def source_texts(self, inc: Incident) -> list[str]:
        """Titles and texts of the incident's first source posts (rules with keywords)."""
        posts = self.store.get_posts(inc.root_ids[:SOURCE_TEXTS])
        return [t for p in posts for t in (p.title, p.text) if t]

    def incident_pass(
        self,
        inc: Incident,
        alert: Alert | None,
        waiting: list[Post],
        now: datetime,
        silences: list[Silence],
        report: PassReport,
        answers: list[Post] | None = None,
    ) -> None:
        """Open, follow or close the alert of one incident. ``waiting``: its unanswered
        direct appeals; ``answers``: the first answer to each of its answered ones. An alert
        opened by a direct-appeal rule is titled by the earliest
        of them (a noise complaint about a shop is 「望海路夜间音乐演出噪音」, not the shop's
        own 「今晚有民谣弹唱，欢迎来坐坐」 that the incident's first post says)."""
        appeals = len(waiting)
        appeal_arrived = max((_arrival(p) for p in waiting), default=None)
        first = min(waiting, key=lambda p: (p.created_at, p.id), default=None)
        appeal_title = title_of(first) if first is not None else None
        decision = self.policy.decide(inc, appeals, lambda: self.source_texts(inc))
        # An incident is over when quiet, unless a direct appeal in it still waits for its
        # answer: that one is due whatever the incident did since (or before) it came in.
        quiet = self.policy.quiet(inc, now) and not appeals
        if alert is None:
            if decision is None or quiet:
                return  # nothing to say, or it is over already (a pass that ran late)
            closed, n = self.chain(alert_id_for_incident(inc.id))
            if closed is not None and closed.is_open:
                return  # an open alert whose status filter missed it (edited meanwhile)
            returned = (
                appeal_arrived is not None
                and closed is not None
                and closed.closed_at is not None
                and appeal_arrived > closed.closed_at
            )
            if closed is not None and RANK[decision.tier] <= RANK[closed.tier] and not returned:
                # Closed by a person; only a more urgent turn opens a new alert, or a direct
                # appeal that came in after it was closed (it has not been answered).
                return
            new_id = chain_id(alert_id_for_incident(inc.id), n)
            alert = self.new_alert(new_id, inc, decision, now)
            if decision.rule.when.direct_appeal and appeal_title:
                alert.title = appeal_title
            report.created += 1
            events = [Event("created", self.tier_routes(decision.tier))]
            events += self.clock_events(alert, now, report)
            self.commit(alert, events, now, report, inc, self.silence_for(silences, alert, inc))
            return
        before = alert.model_dump(exclude={"history", "figures", "updated_at"})
        old_figures = dict(alert.figures)
        events: list[Event] = []
        # The title the office was first alerted with stays: reminders and escalations must
        # match the alert staff saw (the incident's own title follows its best post).
        alert.title = alert.title or inc.title
        alert.district, alert.category = inc.district, inc.category
        if decision is not None:
            alert.figures = decision.figures
            if RANK[decision.tier] > RANK[alert.tier]:
                old = alert.tier
                self.apply(alert, decision, now)
                alert.history.append(
                    AlertEvent(
                        at=now,
                        action="escalated",
                        text=f"{old.label} → {decision.tier.label}：规则「{decision.rule.name}」",
                        detail={
                            "from": old.value,
                            "to": decision.tier.value,
                            "rule": decision.rule.name,
                            "figures": decision.figures,
                        },
                    )
                )
                report.escalated += 1
                events.append(
                    Event(
                        "escalated",
                        self.tier_routes(alert.tier),
                        f"由 {old.label}升为 {alert.tier.label}",
                    )
                )
            events += self.new_appeal(alert, decision, waiting, now)
            if alert.recovered_at is not None and not self.policy.recovered(inc, now):
                alert.recovered_at = None
                alert.history.append(AlertEvent(at=now, action="reheated", text="再度升温"))
        else:
            alert.figures = {**incident_figures(inc, appeals), "rule_matched": False}
        # 已平息: quiet for long enough, or no rule holds any more and it has slowed down
        # (a rule that holds whatever the rate, such as a category, ends only by quiet).
        if alert.recovered_at is None and (
            quiet or (decision is None and self.policy.recovered(inc, now))
        ):
            alert.recovered_at = now
            alert.history.append(
                AlertEvent(
                    at=now, action="recovered", text="事件已平息", detail={"figures": alert.figures}
                )
            )
            report.recovered += 1
            events.append(
                Event(
                    "recovered", self.tier_routes(alert.tier), "传播已明显放缓，请评估是否关闭预警"
                )
            )
        self.tracked_responses(alert, now, answers or [])
        events += self.clock_events(alert, now, report)
        after = alert.model_dump(exclude={"history", "figures", "updated_at"})
        if events or before != after or _moved(old_figures, alert.figures):
            self.commit(alert, events, now, report, inc, self.silence_for(silences, alert, inc))

    def new_appeal(
        self, alert: Alert, decision: Decision, waiting: list[Post], now: datetime
    ) -> list[Event]:
        """Direct appeals that reached an alert already answered after its last answer are
        a new question waiting (another resident writes to the same incident): the alert
        gets a fresh first-response clock of its tier, counted from now, and staff a
        【新诉求】 notice naming them. Once per arrival: the history's ``new_appeal`` entries
        record the latest arrival told."""
        met = [d.met_at for d in alert.deadlines if d.met_at is not None]
        if not waiting or not met:
            return []  # not answered yet: the first answer covers these too
        first = self.policy.deadlines(alert.tier, decision.rule, now)[0]
        asks = [d for d in alert.deadlines if d.name.startswith(f"{first.name}-appeal-")]
        if any(d.met_at is None for d in asks):
            return []  # a 新诉求 clock still runs: its answer covers these too
        told = [e for e in alert.history if e.action == "new_appeal"]
        since = max([max(met), *(datetime.fromisoformat(e.detail["arrived"]) for e in told)])
        new = sorted((p for p in waiting if _arrival(p) > since), key=lambda p: p.created_at)
        if not new:
            return []
        fresh = first
        fresh.name = f"{fresh.name}-appeal-{len(told) + 2}"
        fresh.label = f"答复新诉求（{fresh.label}）"
        alert.deadlines = sorted([*alert.deadlines, fresh], key=lambda d: d.due)
        text = f"已回应后又有 {len(new)} 条直接诉求尚未答复：{title_of(new[0])}"
        alert.history.append(
            AlertEvent(
                at=now,
                action="new_appeal",
                text=text,
                detail={
                    "arrived": max(_arrival(p) for p in new).isoformat(),
                    "posts": [p.id for p in new],
                    "deadline": fresh.name,
                },
            )
        )
        return [Event("new_appeal", self.tier_routes(alert.tier), text)]

    def tracked_responses(self, alert: Alert, now: datetime, answers: list[Post]) -> None:
        """Official posts the response tracker linked to the incident meet the alert's
        clocks (first response, then the earliest running one), at the time they were
        posted; each is applied once. Posts within :data:`SAME_ANSWER` of any one that met a
        clock are recorded as responses but meet no clock (reposts of one answer).
        ``answers`` (a message board's own reply to a direct appeal in the incident) meet
        them the same way: the appeal is answered, so its clock must not run on and
        escalate."""
        from alerting import lifecycle
        from models import OfficialResponse

        if not alert.incident_id or all(d.met_at for d in alert.deadlines):
            return
        applied = {h.detail.get("response_id") for h in alert.history if h.action == "responded"}
        # Every answer that met a clock, in any pass: a repost of the 21:30 通报 at 21:32 is
        # still that answer when a 23:38 rebuttal met the next clock in between.
        met = [d.met_at for d in alert.deadlines if d.met_at is not None]
        found = self.store.list_records(OfficialResponse, limit=1000, incident_id=alert.incident_id)
        candidates = [(r.posted_at, r.id, r.url or r.post_id) for r in found]
        candidates += [(p.created_at, f"appeal-answer:{p.id}", p.url or p.id) for p in answers]
        asked_from = self.first_resident_post(alert.incident_id) if candidates else None
        for posted_at, response_id, url in sorted(candidates):
            if response_id in applied or posted_at > now or not alert.is_open:
                continue
            if asked_from is not None and posted_at < asked_from:
                # Written before anyone outside the office posted in the incident: the
                # announcement it grew from (a district's roadworks notice a noise complaint
                # then joined), not an answer to it.
                continue
            if all(d.met_at for d in alert.deadlines):
                break
            if any(abs(posted_at - m) < SAME_ANSWER for m in met):
                continue
            met.append(posted_at)
            lifecycle.respond(alert, url, "回应追踪", posted_at, response_id=response_id)

    def first_resident_post(self, incident_id: str) -> datetime | None:
        """When the first source post of the incident not by the office was written (its
        official posts before that answer nothing yet); ``None`` when none is stored."""
        inc = self.store.get_record(Incident, incident_id)
        if inc is None:
            return None
        times = [
            p.created_at
            for p in self.store.get_posts(inc.root_ids)
            if not self.office.is_official(p)
        ]
        return min(times, default=None)

    def new_alert(self, alert_id: str, inc: Incident, decision: Decision, now: datetime) -> Alert:
        alert = Alert(
            id=alert_id,
            alert_kind=AlertKind.INCIDENT,
            incident_id=inc.id,
            title=inc.title,
            tier=decision.tier,
            rule=decision.rule.name,
            reason=decision.rule.description or decision.rule.name,
            figures=decision.figures,
            district=inc.district,
            category=inc.category,
            opened_at=now,
            created_at=now,
        )
        self.apply(alert, decision, now)
        alert.history.append(
            AlertEvent(
                at=now,
                action="created",
                text=f"{decision.tier.label}：规则「{decision.rule.name}」",
                detail={
                    "rule": decision.rule.name,
                    "figures": decision.figures,
                    "also_matched": decision.also,
                },
            )
        )
        return alert

    def apply(self, alert: Alert, decision: Decision, now: datetime) -> None:
        alert.tier = decision.tier
        alert.rule = decision.rule.name
        alert.reason = decision.rule.description or decision.rule.name
        alert.department = decision.department
        alert.departments = decision.departments
        alert.deadlines = self.policy.deadlines(decision.tier, decision.rule, now, alert.deadlines)

    # -- clocks -----------------------------------------------------------------------


def _arrival(post: Post) -> datetime:
    """When a post reached the office: collected, or written if that was later."""
    return max(post.fetched_at, post.created_at)


def _same_author(a: Post, b: Post) -> bool:
    """Whether two posts are known to be by the same person (a resident adding to their own
    message is no answer)."""
    ids = (a.author.id, b.author.id)
    names = (a.author.name, b.author.name)
    return (ids[0] is not None and ids[0] == ids[1]) or (
        names[0] is not None and names[0] == names[1]
    )


def _moved(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Figures worth a save: any change but tiny drifts of rates."""
    if old.keys() != new.keys():
        return True
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, float) and isinstance(before, float):
            if abs(value - before) > max(0.05 * abs(before), 0.5):
                return True
        elif value != before:
            return True
    return False
