"""Bulletin services: what the CLI and the API both call (thin shells over alerting/)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerting.bulletins.docx import DRAFT_MARK, bulletin_docx, write_docx
from alerting.bulletins.drafting import (
    WorkflowError,
    approve_bulletin,
    draft_bulletin,
    edit_bulletin,
    publish_bulletin,
    refresh_bulletin,
    submit_bulletin,
)
from alerting.bulletins.loader import TemplateError, TemplateSet, resolve_kind
from alerting.bulletins.weibo import TooLong, WeiboText, weibo_text
from alerting.responses import (
    SpreadEffect,
    alert_deadlines,
    link_responses,
    record_bulletin_response,
    spread_effect,
)
from models import Bulletin, BulletinStatus, Incident, OfficialResponse

__all__ = [
    "BulletinServiceError",
    "approve",
    "draft",
    "edit",
    "effect",
    "export_docx",
    "load_templates",
    "publish",
    "refresh",
    "responses",
    "submit",
    "track_responses",
    "weibo",
]


class BulletinServiceError(Exception):
    """A bulletin request that cannot be done, in words an officer understands."""


ISSUED = (BulletinStatus.APPROVED, BulletinStatus.PUBLISHED)
_templates: dict[tuple[str, ...], TemplateSet] = {}


def load_templates(config: Any) -> TemplateSet:
    """Every template, checked (a broken office template stops here with file and line)."""
    key = tuple(str(p) for p in config.bulletins.templates)
    if key not in _templates:
        try:
            _templates[key] = TemplateSet(config.bulletins.templates)
        except TemplateError as exc:
            raise BulletinServiceError(str(exc)) from None
    return _templates[key]


def _incident(store: Any, incident_id: str) -> Incident:
    incident = store.get_record(Incident, incident_id)
    if incident is None:
        raise BulletinServiceError(f"没有编号为 {incident_id} 的事件")
    return incident


def draft(
    store: Any,
    config: Any,
    incident_id: str,
    *,
    now: datetime,
    by: str,
    kind: str | None = None,
    template: str | None = None,
) -> Bulletin:
    """Draft a bulletin for an incident; ``kind`` is a kind name (``rebuttal`` or
    ``辟谣声明``) or, failing that, a template name."""
    templates = load_templates(config)
    chosen_kind = None
    if kind is not None:
        chosen_kind = resolve_kind(kind)
        if chosen_kind is None:
            if kind in templates.templates:
                template = kind
            else:
                known = ", ".join(templates.names())
                raise BulletinServiceError(f"--kind: 未知的通报类型 {kind!r}（可选：{known}）")
    try:
        return draft_bulletin(
            store,
            _incident(store, incident_id),
            templates=templates,
            office=config.office,
            now=now,
            by=by,
            template=template,
            kind=chosen_kind,
            issuer=config.bulletins.issuer,
            **_context_options(config),
        )
    except TemplateError as exc:
        raise BulletinServiceError(str(exc)) from None


def _context_options(config: Any) -> dict[str, Any]:
    """What the office configured about filling a draft from its incident."""
    return {
        "source_titles": {s.name: s.title or s.name for s in config.sources},
        "gazetteer": config.gazetteer,
        "summary_sentences": config.bulletins.summary_sentences,
        "max_claims": config.bulletins.max_claims,
    }


def refresh(
    store: Any,
    config: Any,
    bulletin_id: str,
    *,
    by: str,
    now: datetime,
    version: int | None = None,
    only_untouched: bool = False,
) -> Bulletin | None:
    """Draft a draft again from its incident as it is now (same template); None when the
    incident's facts are unchanged. See :func:`alerting.bulletins.drafting.refresh_bulletin`."""
    try:
        return _step(
            refresh_bulletin,
            store,
            bulletin_id,
            templates=load_templates(config),
            office=config.office,
            now=now,
            by=by,
            version=version,
            only_untouched=only_untouched,
            **_context_options(config),
        )
    except TemplateError as exc:
        raise BulletinServiceError(str(exc)) from None


def _step(func: Any, *args: Any, **kwargs: Any) -> Bulletin:
    try:
        return func(*args, **kwargs)
    except WorkflowError as exc:
        raise BulletinServiceError(str(exc)) from None


def edit(store: Any, bulletin_id: str, **kwargs: Any) -> Bulletin:
    return _step(edit_bulletin, store, bulletin_id, **kwargs)


def submit(
    store: Any, bulletin_id: str, *, by: str, now: datetime, version: int | None = None
) -> Bulletin:
    """Submit for approval; with ``version``, only the version the officer read (another
    raises :class:`store.ConflictError`, and nothing changes)."""
    return _step(submit_bulletin, store, bulletin_id, by=by, now=now, version=version)


def approve(
    store: Any, bulletin_id: str, *, by: str, now: datetime, version: int | None = None
) -> Bulletin:
    """Approve; with ``version``, only the text the approver read (compare-and-set)."""
    return _step(approve_bulletin, store, bulletin_id, by=by, now=now, version=version)


def publish(
    store: Any,
    bulletin_id: str,
    *,
    by: str,
    now: datetime,
    url: str | None = None,
    version: int | None = None,
) -> Bulletin:
    """Publish, and record the bulletin as the incident's response against its deadlines."""
    bulletin = _step(publish_bulletin, store, bulletin_id, by=by, now=now, url=url, version=version)
    if bulletin.incident_id:
        incident = store.get_record(Incident, bulletin.incident_id)
        if incident is not None:
            record_bulletin_response(
                store,
                incident,
                bulletin,
                posted_at=now,
                deadlines=alert_deadlines(store, incident.id),
            )
    return bulletin


def get(store: Any, bulletin_id: str) -> Bulletin:
    bulletin = store.get_record(Bulletin, bulletin_id)
    if bulletin is None:
        raise BulletinServiceError(f"没有编号为 {bulletin_id} 的通报")
    return bulletin


def weibo(bulletin: Bulletin) -> WeiboText:
    try:
        return weibo_text(bulletin)
    except TooLong as exc:
        raise BulletinServiceError(f"通报 {bulletin.id}: {exc}") from None


def export_docx(bulletin: Bulletin, config: Any, path: Path | None = None) -> bytes:
    doc = bulletin_docx(
        bulletin.title,
        bulletin.body,
        issuer=bulletin.issuer,
        issued_on=bulletin.issued_on,
        config=config.bulletins,
        draft_mark=None if bulletin.status in ISSUED else DRAFT_MARK,
    )
    try:
        return write_docx(doc, path)
    except OSError as exc:
        raise BulletinServiceError(f"{path}: 无法写入（{exc}）") from None


def track_responses(store: Any, config: Any, *, now: datetime) -> list[OfficialResponse]:
    """Link the office's posts to the incidents they answer (run after each detection)."""
    return link_responses(store, config.office, now=now)


def responses(store: Any, incident_id: str) -> list[OfficialResponse]:
    _incident(store, incident_id)
    records = store.list_records(OfficialResponse, limit=1000, incident_id=incident_id)
    return sorted(records, key=lambda r: r.posted_at)


def effect(
    store: Any, config: Any, incident_id: str, *, now: datetime, hours: float = 6.0
) -> SpreadEffect | None:
    """The claim's spread before and after the office's first answer."""
    return spread_effect(
        store, _incident(store, incident_id), config.office, now=now, window=timedelta(hours=hours)
    )
