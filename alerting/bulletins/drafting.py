"""Drafting and the approval workflow: draft → submitted → approved → published.

A draft is filled from the incident (:mod:`alerting.bulletins.context`) and stored as a
:class:`models.Bulletin`. Editing sends an approved text back to draft; approval needs a
person other than the drafter and no ``[待核实]`` gap left; only an approved bulletin can be
published. Every step is appended to ``history``. Every change is a compare-and-set on the
version: given ``version`` (the one the officer read), a step refuses a bulletin stored at
another version, and the save is checked against the stored version in the store's one
write (SQLite: one transaction; Elasticsearch: ``if_seq_no``), so an edit, submit, approve
or publish based on an old version raises :class:`store.ConflictError` and changes nothing,
however the two officers' requests interleave.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from alerting.bulletins.context import build_context
from alerting.bulletins.loader import TemplateSet
from models import Bulletin, BulletinKind, BulletinStatus, Incident, find_placeholders
from store.base import ConflictError


class WorkflowError(Exception):
    """A step the bulletin's state does not allow, said in the officer's words."""


def _event(action: str, by: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"action": action, "by": by, "at": at.isoformat(), **extra}


def draft_bulletin(
    store: Any,
    incident: Incident,
    *,
    templates: TemplateSet,
    office: Any,
    now: datetime,
    by: str,
    template: str | None = None,
    kind: BulletinKind | None = None,
    issuer: str | None = None,
    source_titles: dict[str, str] | None = None,
    gazetteer: dict[str, list[str]] | None = None,
    summary_sentences: int = 3,
    max_claims: int = 3,
    save: bool = True,
) -> Bulletin:
    """A new draft for ``incident`` from a template (by name, or the kind's default)."""
    chosen = (
        templates.get(template) if template else templates.for_kind(kind or BulletinKind.SITUATION)
    )
    context = build_context(
        store,
        incident,
        office=office,
        now=now,
        source_titles=source_titles,
        gazetteer=gazetteer,
        summary_sentences=summary_sentences,
        max_claims=max_claims,
    )
    title, body = chosen.render(context)
    bulletin = Bulletin(
        # every draft is a new record: two officers drafting at once get two drafts
        id=f"b-{uuid.uuid4().hex[:12]}",
        incident_id=incident.id,
        bulletin_kind=chosen.kind,
        template=chosen.name,
        title=title,
        body=body,
        issuer=issuer or office.name,
        issued_on=now.date(),
        drafted_by=by,
        facts={
            "notes": templates.render_notes(context),
            "context": context.model_dump(mode="json"),
        },
        history=[_event("draft", by, now, template=chosen.name)],
    )
    return store.save_record(bulletin) if save else bulletin


#: Context fields that change with the clock alone, not with what the incident holds.
_CLOCK_FIELDS = frozenset({"now_text", "issued_on_text"})
#: History actions of the system's own making: a draft with only these is untouched.
_SYSTEM_ACTIONS = frozenset({"draft", "refresh"})


def _facts_of(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in context.items() if k not in _CLOCK_FIELDS}


def untouched(bulletin: Bulletin) -> bool:
    """Whether no person has edited or moved the draft since the system drafted it."""
    return bulletin.status == BulletinStatus.DRAFT and all(
        e.get("action") in _SYSTEM_ACTIONS for e in bulletin.history
    )


def refresh_bulletin(
    store: Any,
    bulletin_id: str,
    *,
    templates: TemplateSet,
    office: Any,
    now: datetime,
    by: str,
    version: int | None = None,
    only_untouched: bool = False,
    **context: Any,
) -> Bulletin | None:
    """Draft the text again from the incident as it is now, with the same template: the
    automatic draft made when the alert opened knew 12 posts, the incident has 80 and an
    official answer since. Only a draft can be refreshed; ``only_untouched`` (the worker's
    pass) leaves a draft alone once a person edited it. Returns None when the incident's
    facts did not change (no new version). The text replaced is kept in the history entry,
    so a person's edits overwritten by their own request are not lost."""
    bulletin = _get(store, bulletin_id, version)
    if only_untouched and not untouched(bulletin):
        return None
    if bulletin.status != BulletinStatus.DRAFT:
        raise WorkflowError(
            f"通报 {bulletin_id} 当前状态为 {bulletin.status.value}，只有草稿可按最新情况重新生成"
        )
    incident = store.get_record(Incident, bulletin.incident_id or "")
    if incident is None:
        raise WorkflowError(f"通报 {bulletin_id} 所属的事件 {bulletin.incident_id} 已不存在")
    fresh = draft_bulletin(
        store,
        incident,
        templates=templates,
        office=office,
        now=now,
        by=by,
        template=bulletin.template if bulletin.template in templates.templates else None,
        kind=bulletin.bulletin_kind,
        issuer=bulletin.issuer,
        save=False,
        **context,
    )
    old = _facts_of(bulletin.facts.get("context") or {})
    if old == _facts_of(fresh.facts["context"]) and fresh.template == bulletin.template:
        return None
    previous = {"title": bulletin.title, "body": bulletin.body}
    posts = fresh.facts["context"].get("spread", {}).get("posts")
    event = _event("refresh", by, now, posts=posts, previous=previous)
    changes = {
        "title": fresh.title,
        "body": fresh.body,
        "facts": fresh.facts,
        "template": fresh.template,
        "issued_on": fresh.issued_on,
        "history": [*bulletin.history, event],
    }
    return _save(store, bulletin, changes)


def _get(store: Any, bulletin_id: str, version: int | None = None) -> Bulletin:
    """The stored bulletin; with ``version``, only if that is the stored version (else
    :class:`ConflictError`: someone else changed it since it was read)."""
    bulletin = store.get_record(Bulletin, bulletin_id)
    if bulletin is None:
        raise WorkflowError(f"没有编号为 {bulletin_id} 的通报")
    if version is not None and bulletin.version != version:
        raise ConflictError(Bulletin.kind, bulletin_id, version, bulletin.version)
    return bulletin


def _save(store: Any, bulletin: Bulletin, changes: dict[str, Any]) -> Bulletin:
    data = bulletin.model_dump()
    data.update(changes)
    try:
        updated = Bulletin.model_validate(data)
    except ValueError as exc:
        raise WorkflowError(f"通报 {bulletin.id}: {exc}") from None
    return store.save_record(updated)


def edit_bulletin(
    store: Any,
    bulletin_id: str,
    *,
    by: str,
    now: datetime,
    title: str | None = None,
    body: str | None = None,
    version: int | None = None,
) -> Bulletin:
    """Change the text; an approved or submitted text goes back to draft. ``version`` is
    the version the editor read (a stale one raises the store's conflict error)."""
    for text, what in ((title, "标题"), (body, "正文")):
        if text is not None and not text.strip():
            raise WorkflowError(f"{what}不能为空（只有空格或换行），未保存")
    bulletin = _get(store, bulletin_id, version)
    if bulletin.status == BulletinStatus.PUBLISHED:
        raise WorkflowError(f"通报 {bulletin_id} 已发布，不能修改；请起草进展通报")
    changes: dict[str, Any] = {
        "status": BulletinStatus.DRAFT,
        "approved_by": None,
        "approved_at": None,
        "history": [*bulletin.history, _event("edit", by, now)],
    }
    if title is not None:
        changes["title"] = title
    if body is not None:
        changes["body"] = body
    return _save(store, bulletin, changes)


def submit_bulletin(
    store: Any, bulletin_id: str, *, by: str, now: datetime, version: int | None = None
) -> Bulletin:
    bulletin = _get(store, bulletin_id, version)
    if bulletin.status != BulletinStatus.DRAFT:
        raise WorkflowError(
            f"通报 {bulletin_id} 当前状态为 {bulletin.status.value}，只有草稿可提交审核"
        )
    return _save(
        store,
        bulletin,
        {
            "status": BulletinStatus.SUBMITTED,
            "submitted_by": by,
            "history": [*bulletin.history, _event("submit", by, now)],
        },
    )


def approve_bulletin(
    store: Any, bulletin_id: str, *, by: str, now: datetime, version: int | None = None
) -> Bulletin:
    """Approve a submitted bulletin: by someone other than the drafter, with no gap left."""
    bulletin = _get(store, bulletin_id, version)
    if bulletin.status != BulletinStatus.SUBMITTED:
        raise WorkflowError(f"通报 {bulletin_id} 当前状态为 {bulletin.status.value}，须先提交审核")
    if by == bulletin.drafted_by:
        raise WorkflowError(f"通报 {bulletin_id} 须由起草人（{by}）以外的人审核")
    gaps = find_placeholders(bulletin.title, bulletin.body)
    if gaps:
        raise WorkflowError(
            f"通报 {bulletin_id} 仍有 {len(gaps)} 处待核实内容，不能审核通过：" + "、".join(gaps)
        )
    return _save(
        store,
        bulletin,
        {
            "status": BulletinStatus.APPROVED,
            "approved_by": by,
            "approved_at": now,
            "history": [*bulletin.history, _event("approve", by, now)],
        },
    )


def publish_bulletin(
    store: Any,
    bulletin_id: str,
    *,
    by: str,
    now: datetime,
    url: str | None = None,
    version: int | None = None,
) -> Bulletin:
    """Mark an approved bulletin as published (at ``now``, optionally with its post's link)."""
    bulletin = _get(store, bulletin_id, version)
    if bulletin.status != BulletinStatus.APPROVED:
        raise WorkflowError(
            f"通报 {bulletin_id} 当前状态为 {bulletin.status.value}，须审核通过后才能发布"
        )
    return _save(
        store,
        bulletin,
        {
            "status": BulletinStatus.PUBLISHED,
            "published_at": now,
            "published_url": url,
            "history": [*bulletin.history, _event("publish", by, now, url=url)],
        },
    )
