"""Passwords, keyed hashes, login rate limits and masking of personal numbers.

Pure functions and small classes with an injected clock, so tests need no sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from store import Store

Clock = Callable[[], datetime]

_hasher = PasswordHasher()
#: A hash to verify against when the user does not exist, so both cases take equal time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"至少 {MIN_PASSWORD_LENGTH} 个字符 (at least {MIN_PASSWORD_LENGTH} characters)"
    if len(password) > 256:
        return "过长 (at most 256 characters)"
    return None


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under the API secret, hex: how tokens and sessions are
    stored, so a copy of the store holds nothing that logs anyone in."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


TOKEN_PREFIX = "tf_"


def new_api_token() -> tuple[str, str, str]:
    """``(token_id, secret, full_token)``; the full token is shown once to its creator."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return token_id, secret, f"{TOKEN_PREFIX}{token_id}.{secret}"


def split_api_token(token: str) -> tuple[str, str] | None:
    if not token.startswith(TOKEN_PREFIX) or "." not in token:
        return None
    token_id, _, secret = token[len(TOKEN_PREFIX) :].partition(".")
    if not re.fullmatch(r"[0-9a-f]{16}", token_id) or not secret:
        return None
    return token_id, secret


class LoginLimiter:
    """Failed logins per key (``user:NAME``, ``ip:ADDR``) in a sliding window, counted in
    the store (one state record, ``login-failures``: each key's failure times in the
    window, epoch seconds), so every API process that serves one store shares one count:
    with ``--workers N`` the limit is still ``max_failures``. Each change is one atomic
    read-modify-write (:meth:`store.Store.update_state`), so failures arriving at two
    processes at once are both counted, and it drops every key whose failures have all
    left the window: the record holds one window's keys at most, however many addresses
    ever failed. A successful login clears its user's count (not its address's).
    (Versions before 2026-12-03 kept a ``login-failures:KEY`` record per key and never
    deleted one; they are no longer read.)
    """

    STATE = "login-failures"

    def __init__(
        self,
        max_failures: int,
        window: timedelta,
        clock: Clock,
        store: Store,
        per_address: int | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.per_address = per_address or max_failures
        self.window = window
        self.clock = clock
        self.store = store

    def limit(self, key: str) -> int:
        return self.per_address if key.startswith("ip:") else self.max_failures

    def _recent(self, times: list[float] | None, now: float) -> list[float]:
        horizon = now - self.window.total_seconds()
        return [t for t in times or [] if t > horizon]

    def _in_window(self, failures: object, now: float) -> dict[str, list[float]]:
        """The stored record without the keys that have no failure in the window left."""
        if not isinstance(failures, dict):
            return {}
        kept = {key: self._recent(times, now) for key, times in failures.items()}
        return {key: times for key, times in kept.items() if times}

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until one more attempt is allowed for all ``keys``, or None if allowed."""
        now = self.clock().timestamp()
        failures = self._in_window(self.store.get_state(self.STATE), now)
        wait = 0.0
        for key in keys:
            times = failures.get(key, [])
            limit = self.limit(key)
            if len(times) >= limit:
                # The attempt that frees a place: the oldest of the last ``limit``.
                oldest = sorted(times)[-limit]
                wait = max(wait, oldest + self.window.total_seconds() - now)
        return max(1, int(wait + 0.999)) if wait > 0 else None

    def remaining(self, key: str) -> int:
        """Failures ``key`` may still have in the window before it is refused."""
        now = self.clock().timestamp()
        failures = self._in_window(self.store.get_state(self.STATE), now)
        return max(0, self.limit(key) - len(failures.get(key, [])))

    def failed(self, *keys: str) -> None:
        now = self.clock().timestamp()

        def add(stored: object) -> dict[str, list[float]]:
            failures = self._in_window(stored, now)
            for key in keys:
                # older failures cannot matter once ``limit`` are newer
                failures[key] = sorted([*failures.get(key, []), now])[-self.limit(key) :]
            return failures

        self.store.update_state(self.STATE, add)

    def succeeded(self, key: str) -> None:
        now = self.clock().timestamp()

        def clear(stored: object) -> dict[str, list[float]] | None:
            failures = self._in_window(stored, now)
            failures.pop(key, None)
            return failures or None

        if self.store.get_state(self.STATE) is not None:  # nothing to clear: no write
            self.store.update_state(self.STATE, clear)


# Mainland mobile numbers (optionally +86 / 86 prefixed, with spaces or dashes) and
# 18-digit resident ID numbers (last character may be X); not inside longer digit runs,
# so post ids and timestamps are left alone.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])((?:\+?86[- ]?)?1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![0-9])")


def mask_personal(text: str | None) -> str | None:
    """Mask phone numbers (138****5678) and ID-card numbers (110101********123X)."""
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(3)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
