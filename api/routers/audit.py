"""The audit log (admins only): every state change, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminUser, StoreDep
from models import AuditEntry

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str | None = Field(default=None, max_length=100)
    action: str | None = Field(default=None, max_length=100)
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=50, ge=1, le=200)


class AuditPage(BaseModel):
    data: list[AuditEntry]
    count: int
    page: int
    per_page: int


@router.get("", response_model=AuditPage)
def list_(query: Annotated[AuditQuery, Query()], admin: AdminUser, store: StoreDep) -> AuditPage:
    equals = {k: v for k, v in (("actor", query.actor), ("action", query.action)) if v}
    offset = (query.page - 1) * query.per_page
    rows = store.list_records(AuditEntry, limit=query.per_page, offset=offset, **equals)
    rows.sort(key=lambda e: e.id, reverse=True)
    total = store.count_records(AuditEntry) if not equals else offset + len(rows)
    return AuditPage(data=rows, count=total, page=query.page, per_page=query.per_page)
