"""The ``api:`` configuration section: secret, base URL, sessions, limits.

A missing or placeholder secret is refused when the app starts outside development
(:meth:`ApiSettings.check_secret`), not when the file is read: a crawler host needs no API
secret, and ``tingfeng crawl`` must not fail for the lack of one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: Values that are obviously not secret; refused outside development.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "dev", "development", "tingfeng", "please-change-me"}
)
MIN_SECRET_LENGTH = 32
#: The secret used in development when none is set (never accepted in production).
DEVELOPMENT_SECRET = "development-only-secret-not-for-production"


class SettingsError(Exception):
    """The API cannot start with these settings; the message names the key."""


class ApiSettings(BaseModel):
    """The ``api:`` section (documented in docs/configuration.md)."""

    model_config = ConfigDict(extra="forbid")

    environment: Literal["development", "production"] = "production"
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_window_minutes: float = Field(default=15.0, gt=0)
    poll_seconds: float = Field(default=15.0, ge=0.2, le=3600)
    max_body_bytes: int = Field(default=65536, ge=1024)
    max_query_bytes: int = Field(default=4096, ge=256)
    export_max_rows: int = Field(default=100_000, ge=1)
    cache_seconds: float = Field(default=2.0, ge=0, le=300)
    #: Searches are answered again from memory while the store has not changed (any write
    #: drops them at once), for at most this long.
    search_cache_seconds: float = Field(default=60.0, ge=0, le=3600)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def check_secret(self) -> str:
        """The secret to sign with; raises :class:`SettingsError` outside development when it
        is missing, a placeholder or too short."""
        value = self.secret_key.get_secret_value() if self.secret_key else ""
        if self.environment == "development":
            return value or DEVELOPMENT_SECRET
        if not value:
            raise SettingsError(
                "api.secret_key: required outside development (set TINGFENG_API__SECRET_KEY "
                "to a random string of at least 32 characters)"
            )
        if value.lower() in PLACEHOLDER_SECRETS or value == DEVELOPMENT_SECRET:
            raise SettingsError("api.secret_key: a placeholder value; use a random secret")
        if len(value) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"api.secret_key: too short ({len(value)} characters, at least "
                f"{MIN_SECRET_LENGTH} needed)"
            )
        return value
