"""我的待办: the alerts handed to me, the bulletins awaiting my approval, my drafts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from alerting.policy import TierPolicy
from api.deps import ClockRateDep, CurrentUser, NowDep, StoreDep
from api.services.alerts_policy import app_policy
from api.services.tasks import TasksPublic, my_tasks

router = APIRouter(prefix="/api/v1/me", tags=["tasks"])
Policy = Annotated[tuple[TierPolicy, str], Depends(app_policy)]


@router.get("/tasks", response_model=TasksPublic)
def tasks(
    user: CurrentUser, store: StoreDep, policy: Policy, now: NowDep, rate: ClockRateDep
) -> TasksPublic:
    """What waits for the caller, by role: ``assigned`` (open alerts whose assignee is me,
    nearest deadline first; monitors, officers, admins), ``review`` (submitted bulletins I
    may approve: not drafted by me; officers, admins), ``drafts`` (my unpublished
    bulletins); a section the role has no part in is null. ``count``: what needs my step
    (a draft I submitted waits for someone else and is not counted)."""
    return my_tasks(store, user.name, user.role, policy[0], now, rate)
