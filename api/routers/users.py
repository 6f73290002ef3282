"""Users (admins only): list, create, change role / disable / reset password."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminUser, ClientIp, StoreDep
from api.services.auth import create_user, update_user
from models import Role, User
from models.auth import ROLE_LABELS, USERNAME_PATTERN

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserPublic(BaseModel):
    name: str
    display_name: str
    role: Role
    role_label: str
    disabled: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            name=user.id,
            display_name=user.display_name,
            role=user.role,
            role_label=ROLE_LABELS[user.role],
            disabled=user.disabled,
            version=user.version,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field(default="", max_length=80)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="the version you read; a stale one gives 409")
    role: Role | None = None
    disabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=80)
    password: str | None = Field(default=None, min_length=8, max_length=256)


MAX_USERS = 10_000


@router.get("", response_model=UsersPublic)
def list_(admin: AdminUser, store: StoreDep) -> UsersPublic:
    users = sorted(store.list_records(User, limit=MAX_USERS), key=lambda u: u.id)
    return UsersPublic(data=[UserPublic.of(u) for u in users], count=len(users))


@router.post("", response_model=UserPublic, status_code=201)
def create(body: UserCreate, admin: AdminUser, store: StoreDep, ip: ClientIp) -> UserPublic:
    user = create_user(
        store,
        body.name,
        body.role,
        body.password,
        actor=admin.name,
        display_name=body.display_name,
        ip=ip,
    )
    return UserPublic.of(user)


@router.patch("/{name}", response_model=UserPublic)
def update(
    name: str, body: UserUpdate, admin: AdminUser, store: StoreDep, ip: ClientIp
) -> UserPublic:
    """Optimistic concurrency: send the ``version`` you read; 409 returns the current user."""
    user = update_user(
        store,
        name,
        version=body.version,
        actor=admin.name,
        role=body.role,
        disabled=body.disabled,
        display_name=body.display_name,
        password=body.password,
        ip=ip,
    )
    return UserPublic.of(user)
