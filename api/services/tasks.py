"""我的待办: what waits for the user asking, by role.

- 交办给我的预警: open alerts whose assignee is the user (monitors, officers, admins), the
  nearest running deadline first;
- 待我审核的通报: bulletins submitted for review that the user may approve (officers and
  admins, never their own draft: the two-person rule of :func:`api.services.bulletins.
  permissions`);
- 我的草稿: the user's bulletins not yet published (草稿, 待审核 by someone else, 已审核
  waiting to be published).

``count`` is what needs the user's own step: the alerts, the reviews, and the drafts still
in 草稿 or 已审核 (a submitted one waits for someone else). Store reads for the count (on
every page, for the nav): one for my open alerts, and for writers one for the review queue
and one for my unpublished bulletins, whatever the history; the page adds the display
names and the titles of the incidents shown.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from alerting.events import OPEN_STATUSES, list_all
from alerting.policy import TierPolicy
from api.services.alerts import CHANGERS, AlertPublic, _display_names, alert_public
from api.services.bulletins import WRITERS, BulletinSummary, summary
from models import Alert, Bulletin, BulletinStatus, Incident, Role
from store import Store

#: Rows shown per section (the oldest beyond are counted, not listed).
SECTION_LIMIT = 200
_MINE_STATES = (BulletinStatus.DRAFT, BulletinStatus.SUBMITTED, BulletinStatus.APPROVED)


class TasksPublic(BaseModel):
    """The user's tasks; a section the role has no part in is ``null``."""

    assigned: list[AlertPublic] | None = Field(description="open alerts handed to me")
    review: list[BulletinSummary] | None = Field(description="submitted, mine to approve")
    drafts: list[BulletinSummary] | None = Field(description="my bulletins not yet published")
    count: int = Field(description="what needs my step: alerts, reviews, drafts to finish")
    server_time: datetime
    clock_rate: float = 1.0


def _due(a: AlertPublic) -> tuple[int, str, str]:
    nxt = a.next_deadline
    return (0, nxt.due.isoformat(), a.id) if nxt else (1, a.opened_at.isoformat(), a.id)


def _assigned(store: Store, name: str) -> list[Alert]:
    # One read of the open ones only (closing sets closed_at): a user's closed alerts pile
    # up over the years and would be read on every page for the nav's figure.
    rows = list_all(store, Alert, assignee=name, closed_at=None)
    return [a for a in rows if a.status in OPEN_STATUSES]


def _review(store: Store, name: str) -> list[Bulletin]:
    rows = list_all(store, Bulletin, status=BulletinStatus.SUBMITTED)
    return [b for b in rows if b.drafted_by != name]


def _mine(store: Store, name: str) -> list[Bulletin]:
    rows = list_all(store, Bulletin, drafted_by=name, published_at=None)
    return [b for b in rows if b.status in _MINE_STATES]


def task_count(store: Store, name: str, role: Role) -> int:
    """The nav's figure: how many things wait for this user's step."""
    n = len(_assigned(store, name)) if role in CHANGERS else 0
    if role in WRITERS:
        n += len(_review(store, name))
        n += sum(b.status != BulletinStatus.SUBMITTED for b in _mine(store, name))
    return n


def my_tasks(
    store: Store, name: str, role: Role, policy: TierPolicy, now: datetime, rate: float = 1.0
) -> TasksPublic:
    assigned = review = drafts = None
    count = 0
    if role in CHANGERS:
        alerts = _assigned(store, name)
        names = _display_names(store) if alerts else {}
        assigned = sorted((alert_public(a, policy, now, names) for a in alerts), key=_due)
        count += len(assigned)
        assigned = assigned[:SECTION_LIMIT]
    if role in WRITERS:
        queue = sorted(_review(store, name), key=lambda b: (b.updated_at, b.id))
        mine = sorted(_mine(store, name), key=lambda b: (b.updated_at, b.id), reverse=True)
        count += len(queue) + sum(b.status != BulletinStatus.SUBMITTED for b in mine)
        shown = queue[:SECTION_LIMIT] + mine[:SECTION_LIMIT]
        ids = sorted({b.incident_id for b in shown if b.incident_id})
        titles = {i.id: i.title for i in (store.get_record(Incident, x) for x in ids) if i}
        review = [summary(b, titles) for b in queue[:SECTION_LIMIT]]
        drafts = [summary(b, titles) for b in mine[:SECTION_LIMIT]]
    return TasksPublic(
        assigned=assigned,
        review=review,
        drafts=drafts,
        count=count,
        server_time=now,
        clock_rate=rate,
    )
