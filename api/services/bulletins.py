"""Bulletins for the API and the dashboard: masked views, who may do what, each step audited.

The workflow itself (draft → submitted → approved → published) lives in
:mod:`tingfeng.services.bulletins`, which the CLI calls too; this module adds what only a
multi-user server needs: object-level authorization (an officer never approves their own
bulletin, monitors and analysts only read), optimistic concurrency on every step (the
``version`` the user read; a stale one is 409 with the current record), the audit log
(before/after), and masking of phone and ID-card numbers in every text it hands out.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerting.policy import tier_zh
from api.deps import Principal
from api.errors import ApiError
from api.security import mask_personal
from api.services.auth import audit
from models import (
    Alert,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Incident,
    Role,
    field_error,
    find_placeholders,
)
from models.auth import ROLE_LABELS
from models.records import IncidentHistory
from store import ConflictError, Store
from tingfeng.services import bulletins as svc

#: Roles that draft, edit, submit, approve and publish; everyone else reads.
WRITERS = (Role.OFFICER, Role.ADMIN)
STATUS_LABELS = {
    BulletinStatus.DRAFT: "草稿",
    BulletinStatus.SUBMITTED: "待审核",
    BulletinStatus.APPROVED: "已审核",
    BulletinStatus.PUBLISHED: "已发布",
}
ACTION_LABELS = {
    "draft": "起草",
    "edit": "修改",
    "submit": "提交审核",
    "approve": "审核通过",
    "publish": "发布",
    "refresh": "按最新情况重新生成",
}
KIND_CODES = {
    "situation": BulletinKind.SITUATION,
    "rebuttal": BulletinKind.REBUTTAL,
    "response": BulletinKind.RESPONSE,
    "progress": BulletinKind.PROGRESS,
}
KindCode = Literal["situation", "rebuttal", "response", "progress"]
#: Bulletins considered per list request (most recently updated first).
LIST_LIMIT = 2000


# -- request models ------------------------------------------------------------------------
class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_id: str = Field(min_length=1, max_length=200, description="事件编号")
    kind: KindCode = Field(
        default="situation",
        description="situation 情况通报 / rebuttal 辟谣声明 / response 回应 / progress 进展通报",
    )


class EditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000, description="the version you read; stale → 409")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)

    @model_validator(mode="after")
    def _not_blank(self) -> EditRequest:
        """A title or body of spaces and new lines only is no text: refused, not saved as
        a new version with nothing to publish."""
        for name, what in (("title", "标题"), ("body", "正文")):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise field_error(name, f"{what}不能为空（只有空格或换行）")
        return self


class StepRequest(BaseModel):
    """Submit or approve the text the user has read: ``version`` is that text's version."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000, description="the version you read; stale → 409")


class PublishRequest(StepRequest):
    url: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^https?://[^\s]+$",
        description="the official post that carried it",
    )


class BulletinFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_id: str | None = Field(default=None, max_length=200)
    status: BulletinStatus | None = None
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=50, ge=1, le=200)


# -- response models -----------------------------------------------------------------------
class HistoryEntry(BaseModel):
    action: str
    action_label: str
    by: str
    at: datetime | None


class BulletinSummary(BaseModel):
    id: str
    version: int
    incident_id: str | None
    incident_title: str | None = None
    kind: BulletinKind
    title: str
    status: BulletinStatus
    status_label: str
    drafted_by: str | None
    approved_by: str | None
    placeholders: int
    updated_at: datetime


class BulletinPublic(BaseModel):
    id: str
    version: int
    incident_id: str | None
    kind: BulletinKind
    template: str
    title: str
    body: str
    issuer: str
    issued_on: date | None
    status: BulletinStatus
    status_label: str
    drafted_by: str | None
    submitted_by: str | None
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None
    published_url: str | None
    placeholders: list[str]
    notes: str
    history: list[HistoryEntry]
    #: What the asking user may do now (edit, submit, approve, publish), with the reason
    #: when an action is withheld.
    actions: list[str]
    withheld: dict[str, str]
    created_at: datetime
    updated_at: datetime


class BulletinsPublic(BaseModel):
    data: list[BulletinSummary]
    count: int
    page: int
    per_page: int


class WeiboPublic(BaseModel):
    id: str
    version: int
    headline: str
    text: str
    length: int


# -- views ---------------------------------------------------------------------------------
def _m(text: str | None) -> str:
    return mask_personal(text) or ""


def _at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def masked(bulletin: Bulletin) -> Bulletin:
    """The bulletin with phone and ID-card numbers masked in every text it carries."""
    facts = dict(bulletin.facts)
    if isinstance(facts.get("notes"), str):
        facts["notes"] = _m(facts["notes"])
    facts.pop("context", None)
    return bulletin.model_copy(
        update={"title": _m(bulletin.title), "body": _m(bulletin.body), "facts": facts}
    )


def permissions(user: Principal, b: Bulletin) -> tuple[list[str], dict[str, str]]:
    """What ``user`` may do to ``b`` now, and why not for the rest (shown in the editor)."""
    allowed: list[str] = []
    withheld: dict[str, str] = {}
    writer = user.role in WRITERS
    readonly = f"{ROLE_LABELS[user.role]}只能查看通报，不能修改或审核"
    checks = {
        "edit": None if b.status != BulletinStatus.PUBLISHED else "已发布的通报不能修改",
        "submit": None if b.status == BulletinStatus.DRAFT else "只有草稿可以提交审核",
        "approve": (
            "须先提交审核"
            if b.status != BulletinStatus.SUBMITTED
            else "起草人不能审核自己起草的通报"
            if user.name == b.drafted_by
            else f"仍有 {len(b.placeholders)} 处待核实内容"
            if b.placeholders
            else None
        ),
        "publish": None if b.status == BulletinStatus.APPROVED else "须审核通过后才能发布",
        "refresh": (
            "只有草稿可以按最新情况重新生成"
            if b.status != BulletinStatus.DRAFT
            else "通报没有所属事件，无法重新生成"
            if not b.incident_id
            else None
        ),
    }
    for action, reason in checks.items():
        if not writer:
            withheld[action] = readonly
        elif reason:
            withheld[action] = reason
        else:
            allowed.append(action)
    return allowed, withheld


def history_label(entry: dict[str, Any]) -> str:
    """A history step in words: 按最新情况重新生成（依据 80 条帖子） for a redraft."""
    action = str(entry.get("action", ""))
    label = ACTION_LABELS.get(action, action)
    posts = entry.get("posts")
    if action == "refresh" and isinstance(posts, int):
        label += f"（依据 {posts} 条帖子，原文已保留）"
    return label


def public(b: Bulletin, user: Principal) -> BulletinPublic:
    m = masked(b)
    allowed, withheld = permissions(user, b)
    history = [
        HistoryEntry(
            action=str(h.get("action", "")),
            action_label=history_label(h),
            by=str(h.get("by", "")),
            at=_at(h.get("at")),
        )
        for h in b.history
    ]
    return BulletinPublic(
        id=b.id,
        version=b.version,
        incident_id=b.incident_id,
        kind=b.bulletin_kind,
        template=b.template,
        title=m.title,
        body=m.body,
        issuer=b.issuer,
        issued_on=b.issued_on,
        status=b.status,
        status_label=STATUS_LABELS[b.status],
        drafted_by=b.drafted_by,
        submitted_by=b.submitted_by,
        approved_by=b.approved_by,
        approved_at=b.approved_at,
        published_at=b.published_at,
        published_url=b.published_url,
        placeholders=find_placeholders(m.title, m.body),
        notes=str(m.facts.get("notes") or ""),
        history=history,
        actions=allowed,
        withheld=withheld,
        created_at=b.created_at,
        updated_at=b.updated_at,
    )


def summary(b: Bulletin, titles: dict[str, str] | None = None) -> BulletinSummary:
    return BulletinSummary(
        id=b.id,
        version=b.version,
        incident_id=b.incident_id,
        incident_title=_m((titles or {}).get(b.incident_id or "")) or None,
        kind=b.bulletin_kind,
        title=_m(b.title),
        status=b.status,
        status_label=STATUS_LABELS[b.status],
        drafted_by=b.drafted_by,
        approved_by=b.approved_by,
        placeholders=len(b.placeholders),
        updated_at=b.updated_at,
    )


def list_bulletins(store: Store, f: BulletinFilters) -> BulletinsPublic:
    equals: dict[str, Any] = {}
    if f.incident_id:
        equals["incident_id"] = f.incident_id
    if f.status:
        equals["status"] = f.status
    rows = store.list_records(Bulletin, limit=LIST_LIMIT, **equals)
    rows.sort(key=lambda b: (b.updated_at, b.id), reverse=True)
    start = (f.page - 1) * f.per_page
    page = rows[start : start + f.per_page]
    ids = sorted({b.incident_id for b in page if b.incident_id})
    titles = {i.id: i.title for i in (store.get_record(Incident, x) for x in ids) if i}
    return BulletinsPublic(
        data=[summary(b, titles) for b in page], count=len(rows), page=f.page, per_page=f.per_page
    )


# -- checks and steps ----------------------------------------------------------------------
def _not_found(bulletin_id: str) -> ApiError:
    return ApiError(404, "bulletin_id", f"没有编号为 {bulletin_id} 的通报 (no such bulletin)")


def get_bulletin(store: Store, bulletin_id: str) -> Bulletin:
    bulletin = store.get_record(Bulletin, bulletin_id) if len(bulletin_id) <= 200 else None
    if bulletin is None:
        raise _not_found(bulletin_id)
    return bulletin


def _writer(user: Principal) -> None:
    if user.role not in WRITERS:
        raise ApiError(
            403,
            "role",
            f"{ROLE_LABELS[user.role]}无权修改通报（需要宣传/发言人或管理员） (forbidden)",
        )


def conflict(current: Bulletin, expected: int, user: Principal) -> ApiError:
    return ApiError(
        409,
        "version",
        f"通报已被他人修改：你看到的是第 {expected} 版，当前为第 {current.version} 版；"
        f"请查看当前内容后重试 (stale version {expected}, stored {current.version})",
        extra={"current": public(current, user).model_dump(mode="json")},
    )


def _check_version(current: Bulletin, version: int, user: Principal) -> None:
    if current.version != version:
        raise conflict(current, version, user)


def _state(current: Bulletin, text: str, user: Principal) -> ApiError:
    return ApiError(
        409,
        "status",
        f"{text}（当前状态：{STATUS_LABELS[current.status]}）",
        extra={"current": public(current, user).model_dump(mode="json")},
    )


def _service_error(exc: svc.BulletinServiceError, field: str) -> ApiError:
    return ApiError(422, field, str(exc))


def draft(
    store: Store, config: Any, body: DraftRequest, user: Principal, *, now: datetime, ip: str
) -> Bulletin:
    _writer(user)
    if store.get_record(Incident, body.incident_id) is None:
        raise ApiError(
            404, "incident_id", f"没有编号为 {body.incident_id} 的事件 (no such incident)"
        )
    try:
        bulletin = svc.draft(store, config, body.incident_id, now=now, by=user.name, kind=body.kind)
    except svc.BulletinServiceError as exc:
        raise _service_error(exc, "kind") from None
    audit(
        store, user.name, "bulletin.draft", target=bulletin, after=masked(bulletin), ip=ip, at=now
    )
    return bulletin


def edit(
    store: Store, bulletin_id: str, body: EditRequest, user: Principal, *, now: datetime, ip: str
) -> Bulletin:
    _writer(user)
    current = get_bulletin(store, bulletin_id)
    if body.title is None and body.body is None:
        raise ApiError(422, "body", "请提供要修改的标题或正文 (title or body required)")
    _check_version(current, body.version, user)
    if current.status == BulletinStatus.PUBLISHED:
        raise _state(current, "已发布的通报不能修改，请起草进展通报", user)
    try:
        saved = svc.edit(
            store,
            bulletin_id,
            by=user.name,
            now=now,
            title=body.title,
            body=body.body,
            version=body.version,
        )
    except ConflictError:
        raise conflict(get_bulletin(store, bulletin_id), body.version, user) from None
    except svc.BulletinServiceError as exc:
        raise _service_error(exc, "body") from None
    audit(
        store,
        user.name,
        "bulletin.edit",
        target=saved,
        before=masked(current),
        after=masked(saved),
        ip=ip,
        at=now,
    )
    return saved


def refresh(
    store: Store,
    config: Any,
    bulletin_id: str,
    body: StepRequest,
    user: Principal,
    *,
    now: datetime,
    ip: str,
) -> Bulletin:
    """Draft the ``version`` read again from its incident as it is now (same template). The
    stored record is returned unchanged (same version) when the incident holds nothing new."""
    _writer(user)
    current = get_bulletin(store, bulletin_id)
    _check_version(current, body.version, user)
    if current.status != BulletinStatus.DRAFT:
        raise _state(current, "只有草稿可以按最新情况重新生成", user)
    try:
        saved = svc.refresh(store, config, bulletin_id, by=user.name, now=now, version=body.version)
    except ConflictError:
        raise conflict(get_bulletin(store, bulletin_id), body.version, user) from None
    except svc.BulletinServiceError as exc:
        raise _service_error(exc, "status") from None
    if saved is None:
        return current
    audit(
        store,
        user.name,
        "bulletin.refresh",
        target=saved,
        before=masked(current),
        after=masked(saved),
        ip=ip,
        at=now,
    )
    return saved


def step(
    store: Store,
    bulletin_id: str,
    action: Literal["submit", "approve", "publish"],
    body: StepRequest,
    user: Principal,
    *,
    now: datetime,
    ip: str,
) -> Bulletin:
    """Submit, approve or publish the version the user read, after the server-side checks."""
    _writer(user)
    current = get_bulletin(store, bulletin_id)
    _check_version(current, body.version, user)
    if action == "submit" and current.status != BulletinStatus.DRAFT:
        raise _state(current, "只有草稿可以提交审核", user)
    if action == "approve":
        if current.status != BulletinStatus.SUBMITTED:
            raise _state(current, "须先提交审核才能审核", user)
        if user.name == current.drafted_by:
            raise ApiError(
                403,
                "approved_by",
                f"起草人（{user.name}）不能审核自己起草的通报，须由另一位同事审核 "
                "(the drafter cannot approve)",
            )
        if current.placeholders:
            raise ApiError(
                422,
                "body",
                f"仍有 {len(current.placeholders)} 处待核实内容，补全后才能审核通过："
                + "、".join(_m(p) for p in current.placeholders),
            )
    if action == "publish" and current.status != BulletinStatus.APPROVED:
        raise _state(current, "须审核通过后才能发布", user)
    try:
        # The version read is the one changed, or nothing is (a compare-and-set in the
        # store's write): another officer's change in between is this request's 409.
        v = body.version
        if action == "submit":
            saved = svc.submit(store, bulletin_id, by=user.name, now=now, version=v)
        elif action == "approve":
            saved = svc.approve(store, bulletin_id, by=user.name, now=now, version=v)
        else:
            url = body.url if isinstance(body, PublishRequest) else None
            saved = svc.publish(store, bulletin_id, by=user.name, now=now, url=url, version=v)
    except ConflictError:
        raise conflict(get_bulletin(store, bulletin_id), body.version, user) from None
    except svc.BulletinServiceError as exc:
        raise _service_error(exc, "status") from None
    audit(
        store,
        user.name,
        f"bulletin.{action}",
        target=saved,
        before=masked(current),
        after=masked(saved),
        ip=ip,
        at=now,
    )
    return saved


def weibo(bulletin: Bulletin) -> WeiboPublic:
    try:
        text = svc.weibo(masked(bulletin))
    except svc.BulletinServiceError as exc:
        raise ApiError(422, "body", str(exc)) from None
    return WeiboPublic(
        id=bulletin.id,
        version=bulletin.version,
        headline=text.headline,
        text=text.text,
        length=text.length,
    )


def docx_bytes(bulletin: Bulletin, config: Any) -> bytes:
    return svc.export_docx(masked(bulletin), config)


def docx_filename(bulletin: Bulletin) -> str:
    """A file name an officer recognises: the title (without characters file systems
    refuse), the status for a draft, and the id."""
    import re

    title = re.sub(r'[\\/:*?"<>|\r\n\t]+', "", _m(bulletin.title)).strip()[:60] or "通报"
    mark = "" if bulletin.status in svc.ISSUED else "（草稿）"
    return f"{title}{mark}-{bulletin.id}.docx"


# -- the incident page's response panel -----------------------------------------------------
class TierStep(BaseModel):
    at: datetime
    tier: str | None
    text: str
    source: Literal["alert", "incident"]


class ResponsePublic(BaseModel):
    post_id: str
    url: str | None
    author: str | None
    posted_at: datetime
    minutes_after_first_seen: float | None
    linked_by: str
    similarity: float | None
    on_time: dict[str, bool]
    bulletin_id: str | None


class Rebuttal(BaseModel):
    bulletin_id: str
    title: str
    kind: BulletinKind
    published_at: datetime | None
    url: str | None
    similarity: float
    incident_id: str | None


class EffectWindow(BaseModel):
    start: datetime
    end: datetime
    hours: float
    claim_posts: int
    reposts: int
    claim_posts_per_hour: float | None
    reposts_per_hour: float | None
    doubt_share: float | None
    rebut_share: float | None


class EffectPublic(BaseModel):
    answered_at: datetime
    answer: str
    before: EffectWindow
    after: EffectWindow


class IncidentResponse(BaseModel):
    """Everything about the office's answer to one incident, for the incident page."""

    incident_id: str
    tier: str | None
    tier_history: list[TierStep]
    responses: list[ResponsePublic]
    bulletins: list[BulletinSummary]
    rebuttals: list[Rebuttal]
    effect: EffectPublic | None
    can_draft: bool


CHANGE_LABELS = {
    "opened": "事件形成",
    "hot": "热点状态",
    "heat_band": "热度档",
    "rumor_band": "谣言可能档",
    "membership": "帖数",
}


def _tier_zh(value: str) -> str:
    try:
        return tier_zh(value)
    except ValueError:
        return value


_TIER_LETTERS = re.compile(r"(?<![A-Za-z])(IV|III|II|I)(?![A-Za-z])(?:\s*级)?")


def _tier_words(text: str) -> str:
    """A stored history text with its tier letters as Ⅰ级…Ⅳ级 ("III 级" → "Ⅲ级")."""
    return _TIER_LETTERS.sub(lambda m: tier_zh(m.group(1)), text)


def _tier_history(store: Store, incident_id: str) -> tuple[str | None, list[TierStep]]:
    steps: list[TierStep] = []
    alerts = store.list_records(Alert, limit=200, incident_id=incident_id)
    tier = None
    for alert in sorted(alerts, key=lambda a: a.opened_at):
        tier = alert.tier.value
        ups = [ev for ev in alert.history if ev.action == "escalated"]
        opened = str(ups[0].detail.get("from")) if ups else alert.tier.value
        for ev in alert.history:
            # The line is written from the event's fields, not its stored text: alerts
            # saved before the engine wrote Ⅲ级 carry "III 级" / "III → II" in it.
            rule = ev.detail.get("rule")
            by_rule = f"：规则「{rule}」" if rule else ""
            if ev.action == "created":
                text = f"预警开启：{_tier_zh(opened)}{by_rule}" if rule else ev.text
                text = text if rule else f"预警开启：{_tier_words(text)}"
                steps.append(TierStep(at=ev.at, tier=opened, text=text, source="alert"))
            elif ev.action == "escalated":
                to, was = str(ev.detail.get("to") or ""), str(ev.detail.get("from") or "")
                text = (
                    f"升级：{_tier_zh(was)} → {_tier_zh(to)}{by_rule}"
                    if to and was
                    else f"升级：{_tier_words(ev.text)}"
                )
                steps.append(TierStep(at=ev.at, tier=to, text=text, source="alert"))
            elif ev.action == "new_appeal":
                name = ev.detail.get("deadline")
                clock = next((d for d in alert.deadlines if d.name == name), None)
                text = f"新诉求：{_m(ev.text)}"
                if clock is not None:
                    state = "已答复" if clock.met_at else f"须在 {clock.hours:g} 小时内答复"
                    text += f"；{state}"
                steps.append(TierStep(at=ev.at, tier=alert.tier.value, text=text, source="alert"))
            elif ev.action in ("responded", "closed", "recovered"):
                label = {"responded": "已回应", "closed": "已关闭", "recovered": "事件平息"}
                steps.append(
                    TierStep(
                        at=ev.at,
                        tier=alert.tier.value,
                        text=f"{label[ev.action]}{('：' + ev.text) if ev.text else ''}",
                        source="alert",
                    )
                )
    history = store.get_record(IncidentHistory, incident_id)
    for change in history.changes if history else []:
        if change.change == "membership":
            continue
        label = CHANGE_LABELS.get(change.change, change.change)
        text = f"{label}：{change.shift_zh()}" if change.old is not None else label
        if change.reason:
            text += f"（{change.reason}）"
        steps.append(TierStep(at=change.at, tier=None, text=text, source="incident"))
    steps.sort(key=lambda s: s.at)
    return tier, steps


def _rebuttals(store: Store, inc: Incident, claim: str) -> list[Rebuttal]:
    """Published bulletins of other incidents that answer the same claim, best first."""
    from nlp.claims import ClaimIndex, ClaimItem

    published = [
        b
        for b in store.list_records(Bulletin, limit=LIST_LIMIT, status=BulletinStatus.PUBLISHED)
        if b.incident_id != inc.id
    ]
    if not published or not claim.strip():
        return []
    # Each bulletin is indexed by the claims it answered (kept in its drafting facts) and
    # by its title: its whole body is mostly the office's own words and would match little.
    index = ClaimIndex()
    by_id = {b.id: b for b in published}
    items = []
    for b in published:
        when = b.published_at or b.created_at
        claims = ((b.facts.get("context") or {}).get("claims")) or []
        texts = [str(c.get("text") or "") for c in claims if isinstance(c, dict)] + [b.title]
        items += [ClaimItem(f"{b.id}#{i}", t, when, "bulletin") for i, t in enumerate(texts)]
    index.add(items)
    out: list[Rebuttal] = []
    seen: set[str] = set()
    for match in index.match(claim, top=20):
        b = by_id[match.id.split("#")[0]]
        if b.id in seen:
            continue
        seen.add(b.id)
        out.append(
            Rebuttal(
                bulletin_id=b.id,
                title=_m(b.title),
                kind=b.bulletin_kind,
                published_at=b.published_at,
                url=b.published_url,
                similarity=round(match.similarity, 3),
                incident_id=b.incident_id,
            )
        )
    return out[:5]


def incident_response(
    store: Store, config: Any, inc: Incident, user: Principal, *, now: datetime, claim: str
) -> IncidentResponse:
    """Tier history, linked responses, this incident's bulletins, earlier rebuttals of the
    same claim and the spread before/after the first answer. ``claim`` is the incident's
    most-spread circulating claim (from the incident detail)."""
    tier, history = _tier_history(store, inc.id)
    responses = [
        ResponsePublic(
            post_id=r.post_id,
            url=r.url,
            author=_m(r.author) or None,
            posted_at=r.posted_at,
            minutes_after_first_seen=r.minutes_after_first_seen,
            linked_by=r.linked_by,
            similarity=r.similarity,
            on_time=r.on_time,
            bulletin_id=r.bulletin_id,
        )
        for r in svc.responses(store, inc.id)
    ]
    own = store.list_records(Bulletin, limit=200, incident_id=inc.id)
    own.sort(key=lambda b: b.updated_at, reverse=True)
    effect = svc.effect(store, config, inc.id, now=now)
    effect_public = None
    if effect is not None:
        d = effect.as_dict()
        effect_public = EffectPublic.model_validate({**d, "answer": _m(str(d.get("answer") or ""))})
    return IncidentResponse(
        incident_id=inc.id,
        tier=tier,
        tier_history=history,
        responses=responses,
        bulletins=[summary(b) for b in own],
        rebuttals=_rebuttals(store, inc, claim),
        effect=effect_public,
        can_draft=user.role in WRITERS,
    )


def claim_of(store: Store, inc: Incident) -> str:
    """The incident's most-spread source text (its core claim), or its title."""
    posts = store.get_posts(inc.root_ids[-50:]) if inc.root_ids else []
    worded = [p for p in posts if (p.text or p.title or "").strip()]
    if not worded:
        return inc.title
    top = max(worded, key=lambda p: (p.reposts + p.comments + p.likes, p.id))
    return top.text or top.title or inc.title


#: Deadline names of the default tier policy, as the incident page shows them.
DEADLINE_LABELS = {
    "first_response": "首次回应",
    "authoritative_release": "权威信息发布",
    "press_conference": "新闻发布会/通稿",
    "progress_update": "进展通报",
    "answer": "答复办结",
}


# -- which draft the incident page offers first ---------------------------------------------
class DraftChoice(BaseModel):
    kind: KindCode
    label: str
    #: Why this kind comes first (only on the first choice), in Chinese.
    reason: str | None = None


DRAFT_BUTTONS: dict[str, str] = {
    "rebuttal": "起草辟谣",
    "situation": "起草情况通报",
    "response": "起草回应",
    "progress": "起草进展通报",
}
#: The alert rule that opens an alert on residents' own questions or complaints.
APPEAL_RULE = "直接诉求"
#: Category words of complaints (民生诉求 in nlp/categories.yaml, or an office's 投诉).
APPEAL_CATEGORY_WORDS = ("诉求", "投诉", "咨询")
#: Rumor score from which a rebuttal comes before a situation report (the high band).
REBUTTAL_FIRST = 0.8


def draft_choices(
    inc: Incident, alerts: list[Alert], bulletins: list[Bulletin]
) -> list[DraftChoice]:
    """The bulletin kinds the incident page offers, the natural one first, with its reason.

    - an approved or published bulletin on the incident: 进展通报 first (it refers to the
      last one; without one it is not offered, having nothing to follow up);
    - an alert opened by the 直接诉求 rule, or a complaint category: 回应 next;
    - rumor score in the high band (≥ 0.8): 辟谣 before 情况通报, else 情况通报 first.
    Every kind stays available; only the order (and the first one's reason) changes."""
    order: list[tuple[str, str | None]] = []
    issued = [b for b in bulletins if b.status in svc.ISSUED]
    if issued:
        last = max(issued, key=lambda b: b.published_at or b.approved_at or b.updated_at)
        what = "已发布" if last.status == BulletinStatus.PUBLISHED else "已审核"
        order.append(
            ("progress", f"本事件已有{what}的{last.bulletin_kind.value}，后续情况宜发进展通报")
        )
    rules = {a.rule for a in alerts}
    category = inc.category or ""
    if APPEAL_RULE in rules:
        why = f"预警由「{APPEAL_RULE}」规则开启（网民直接向政务账号咨询或投诉）"
        order.append(("response", why))
    elif any(w in category for w in APPEAL_CATEGORY_WORDS):
        order.append(("response", f"事件类别为{category}，网民反映的问题宜直接回应"))
    score = inc.rumor_score
    if score is not None and score >= REBUTTAL_FIRST:
        order.append(("rebuttal", f"谣言可能高（{score:.2f}），宜先辟谣"))
        order.append(("situation", None))
    else:
        band = (
            "尚无谣言评分"
            if score is None
            else f"谣言可能中等（{score:.2f}），先通报已知情况、核实后再辟谣"
            if score >= 0.5
            else f"谣言可能低（{score:.2f}）"
        )
        order.append(("situation", band if "核实" in band else f"{band}，宜先通报情况"))
        order.append(("rebuttal", None))
    order.append(("response", None))
    seen: set[str] = set()
    choices: list[DraftChoice] = []
    for kind, reason in order:
        if kind in seen:
            continue
        seen.add(kind)
        choices.append(
            DraftChoice(
                kind=kind,  # type: ignore[arg-type]
                label=DRAFT_BUTTONS[kind],
                reason=reason if not choices else None,
            )
        )
    return choices
