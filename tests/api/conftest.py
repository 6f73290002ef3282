"""In-process API fixtures: a real SQLite store with 临江市 seeded, an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from models import Role
from store.sqlite import SQLiteStore
from tests.api.factory import PASSWORDS, SOURCES, T0, USERS, seed_city
from tingfeng.config import Config, StoreConfig

SECRET = "test-secret-0123456789-abcdefghijklmnop"


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2() -> Iterator[None]:
    """Real argon2, with the smallest cost parameters: the default costs 0.5 s per hash on
    a loaded CI machine, and these tests hash and verify hundreds of times."""
    from argon2 import PasswordHasher

    import api.security as sec

    saved = sec._hasher, sec._DUMMY_HASH
    sec._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    sec._DUMMY_HASH = sec._hasher.hash("not-a-real-password")
    yield
    sec._hasher, sec._DUMMY_HASH = saved


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: T0 + timedelta(days=1))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Env:
    app: FastAPI
    store: SQLiteStore
    clock: FakeClock
    config: Config
    path: Path

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1:8000")

    def login(self, role: Role, client: TestClient | None = None) -> tuple[TestClient, str]:
        """A client logged in as the seeded user of ``role``, and its CSRF token."""
        c = client or self.client()
        r = c.post("/api/v1/login", json={"username": USERS[role], "password": PASSWORDS[role]})
        assert r.status_code == 200, r.text
        return c, r.json()["csrf_token"]


def make_config(tmp_path: Path, **api: object) -> Config:
    settings = {"environment": "production", "secret_key": SECRET, "cache_seconds": 0, **api}
    return Config(
        store=StoreConfig(path=tmp_path / "api.db"),
        api=ApiSettings.model_validate(settings),
        sources=SOURCES,
    )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    config = make_config(tmp_path)
    store = SQLiteStore(config.store.path)
    clock = FakeClock()
    seed_city(store, clock())
    app = create_app(config, store=store, clock=clock)
    yield Env(app, store, clock, config, config.store.path)
    store.close()


@pytest.fixture
def admin(env: Env) -> tuple[TestClient, str]:
    return env.login(Role.ADMIN)
