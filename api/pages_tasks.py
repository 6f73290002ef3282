"""The 我的待办 page: alerts handed to me with their deadline countdowns, bulletins awaiting
my approval, my drafts (:mod:`api.services.tasks`); its script keeps the countdowns running
and polls ``GET /api/v1/me/tasks``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ClockRateDep, NowDep, PageUser, StoreDep
from api.errors import ApiError
from api.pages import render
from api.services.alerts_policy import app_policy
from api.services.tasks import my_tasks
from models.auth import ROLE_LABELS

router = APIRouter(include_in_schema=False)


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, user: PageUser, store: StoreDep, now: NowDep, rate: ClockRateDep):
    try:
        policy, _ = app_policy(request)
    except ApiError as exc:
        message = exc.problem.split(" (")[0]
        return render(request, "error.html", user, status=503, title="我的待办", message=message)
    tasks = my_tasks(store, user.name, user.role, policy, now, rate)
    return render(
        request,
        "tasks.html",
        user,
        title="我的待办",
        tasks=tasks,
        role_name=ROLE_LABELS.get(user.role, ""),
        page_data={"tasks": tasks.model_dump(mode="json")},
    )
