"""Bulletins: draft from an incident, list, read, edit (optimistic concurrency), submit,
approve (by someone other than the drafter), publish, export .docx and Weibo text.

Everyone logged in reads; officers and admins write. Each change is audited with the
record before and after; every text handed out has phone and ID-card numbers masked.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from api.deps import ClientIp, ConfigDep, CurrentUser, NowDep, StoreDep
from api.errors import ApiError
from api.services import bulletins as b
from api.services.bulletins import (
    BulletinFilters,
    BulletinPublic,
    BulletinsPublic,
    DraftRequest,
    EditRequest,
    IncidentResponse,
    PublishRequest,
    StepRequest,
    WeiboPublic,
)
from models import Incident

router = APIRouter(prefix="/api/v1/bulletins", tags=["bulletins"])
incident_router = APIRouter(prefix="/api/v1/incidents", tags=["bulletins"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
WRITE_RESPONSES = {
    403: {"description": "role may not write bulletins, or the drafter tries to approve"},
    404: {"description": "no such bulletin"},
    409: {"description": "stale version or wrong state; ``current`` is the stored record"},
}


@router.get("", response_model=BulletinsPublic)
def list_(
    filters: Annotated[BulletinFilters, Query()], user: CurrentUser, store: StoreDep
) -> BulletinsPublic:
    """Bulletins, most recently changed first; filter by incident and status."""
    return b.list_bulletins(store, filters)


@router.post("", response_model=BulletinPublic, status_code=201, responses=WRITE_RESPONSES)
def draft(
    body: DraftRequest,
    user: CurrentUser,
    store: StoreDep,
    config: ConfigDep,
    now: NowDep,
    ip: ClientIp,
) -> BulletinPublic:
    """Draft a 情况通报 (``situation``), 辟谣声明 (``rebuttal``), 回应 (``response``) or 进展通报
    (``progress``) from an incident's own posts; facts the office must confirm are left as
    ``[待核实：…]`` gaps."""
    return b.public(b.draft(store, config, body, user, now=now, ip=ip), user)


@router.get("/{bulletin_id}", response_model=BulletinPublic)
def detail(bulletin_id: str, user: CurrentUser, store: StoreDep) -> BulletinPublic:
    return b.public(b.get_bulletin(store, bulletin_id), user)


@router.patch("/{bulletin_id}", response_model=BulletinPublic, responses=WRITE_RESPONSES)
def edit(
    bulletin_id: str,
    body: EditRequest,
    user: CurrentUser,
    store: StoreDep,
    now: NowDep,
    ip: ClientIp,
) -> BulletinPublic:
    """Change the title and/or body of the ``version`` you read (a submitted or approved
    text goes back to draft). A stale version is 409 with the current record."""
    return b.public(b.edit(store, bulletin_id, body, user, now=now, ip=ip), user)


@router.post("/{bulletin_id}/submit", response_model=BulletinPublic, responses=WRITE_RESPONSES)
def submit(
    bulletin_id: str,
    body: StepRequest,
    user: CurrentUser,
    store: StoreDep,
    now: NowDep,
    ip: ClientIp,
) -> BulletinPublic:
    return b.public(b.step(store, bulletin_id, "submit", body, user, now=now, ip=ip), user)


@router.post("/{bulletin_id}/approve", response_model=BulletinPublic, responses=WRITE_RESPONSES)
def approve(
    bulletin_id: str,
    body: StepRequest,
    user: CurrentUser,
    store: StoreDep,
    now: NowDep,
    ip: ClientIp,
) -> BulletinPublic:
    """Approve a submitted bulletin: officers and admins other than its drafter, with no
    ``[待核实]`` gap left."""
    return b.public(b.step(store, bulletin_id, "approve", body, user, now=now, ip=ip), user)


@router.post("/{bulletin_id}/refresh", response_model=BulletinPublic, responses=WRITE_RESPONSES)
def refresh(
    bulletin_id: str,
    body: StepRequest,
    user: CurrentUser,
    store: StoreDep,
    config: ConfigDep,
    now: NowDep,
    ip: ClientIp,
) -> BulletinPublic:
    """Draft the ``version`` you read again from its incident as it is now (same template;
    the replaced text stays in the history). Unchanged (same version) when the incident
    holds nothing new; only a draft can be redrafted."""
    return b.public(b.refresh(store, config, bulletin_id, body, user, now=now, ip=ip), user)


@router.post("/{bulletin_id}/publish", response_model=BulletinPublic, responses=WRITE_RESPONSES)
def publish(
    bulletin_id: str,
    body: PublishRequest,
    user: CurrentUser,
    store: StoreDep,
    now: NowDep,
    ip: ClientIp,
) -> BulletinPublic:
    """Mark an approved bulletin published (optionally with its post's link); it counts as
    the incident's response against the alert's deadlines."""
    return b.public(b.step(store, bulletin_id, "publish", body, user, now=now, ip=ip), user)


@router.get("/{bulletin_id}/weibo", response_model=WeiboPublic)
def weibo(bulletin_id: str, user: CurrentUser, store: StoreDep) -> WeiboPublic:
    """Weibo text: ``【title】`` headline (≤140 characters), the whole ≤2,000 characters."""
    return b.weibo(b.get_bulletin(store, bulletin_id))


@router.get(
    "/{bulletin_id}/docx",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}, "description": "GB/T 9704 Word document"}},
)
def docx(bulletin_id: str, user: CurrentUser, store: StoreDep, config: ConfigDep) -> Response:
    """The bulletin as a Word document in official layout (a draft carries a 草稿 mark)."""
    bulletin = b.get_bulletin(store, bulletin_id)
    data = b.docx_bytes(bulletin, config)
    name = b.docx_filename(bulletin)
    disposition = f"attachment; filename=\"{bulletin.id}.docx\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=DOCX, headers={"Content-Disposition": disposition})


@incident_router.get("/{incident_id}/response", response_model=IncidentResponse)
def incident_response(
    incident_id: str, user: CurrentUser, store: StoreDep, config: ConfigDep, now: NowDep
) -> IncidentResponse:
    """The office's answer to an incident: tier history, linked responses, its bulletins,
    earlier rebuttals of the same claim, and the spread before/after the first answer."""
    inc = store.get_record(Incident, incident_id) if len(incident_id) <= 200 else None
    if inc is None:
        raise ApiError(404, "incident_id", f"没有事件 {incident_id} (no such incident)")
    return b.incident_response(store, config, inc, user, now=now, claim=b.claim_of(store, inc))
