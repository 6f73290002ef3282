"""API tokens (admins only): a token carries one role; the full token is shown once."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminUser, ClientIp, NowDep, SecretDep, StoreDep
from api.services.auth import create_token, revoke_token
from models import ApiToken, Role
from models.auth import ROLE_LABELS

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenPublic(BaseModel):
    id: str
    name: str
    role: Role
    role_label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, t: ApiToken) -> TokenPublic:
        return cls(
            id=t.id,
            name=t.name,
            role=t.role,
            role_label=ROLE_LABELS[t.role],
            created_by=t.created_by,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked=t.revoked,
        )


class TokensPublic(BaseModel):
    data: list[TokenPublic]
    count: int


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    role: Role
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class TokenCreated(TokenPublic):
    token: str = Field(description="the full token; shown only in this answer")


@router.get("", response_model=TokensPublic)
def list_(admin: AdminUser, store: StoreDep) -> TokensPublic:
    tokens = store.list_records(ApiToken, limit=10_000)
    return TokensPublic(data=[TokenPublic.of(t) for t in tokens], count=len(tokens))


@router.post("", response_model=TokenCreated, status_code=201)
def create(
    body: TokenCreate,
    admin: AdminUser,
    store: StoreDep,
    now: NowDep,
    ip: ClientIp,
    secret: SecretDep,
) -> TokenCreated:
    expires = now + timedelta(days=body.expires_days) if body.expires_days else None
    record, full = create_token(
        store, body.name, body.role, secret=secret, actor=admin.name, expires_at=expires, ip=ip
    )
    return TokenCreated(**TokenPublic.of(record).model_dump(), token=full)


@router.delete("/{token_id}", response_model=TokenPublic)
def revoke(token_id: str, admin: AdminUser, store: StoreDep, ip: ClientIp) -> TokenPublic:
    return TokenPublic.of(revoke_token(store, token_id, actor=admin.name, ip=ip))
