"""Passwords, keyed hashes, login rate limits and masking of personal numbers.

Pure functions and small classes with an injected clock, so tests need no sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from threading import Lock

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

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
    """Failed logins per key (``user:NAME``, ``ip:ADDR``) in a sliding window.

    In memory, per process: with several API workers each keeps its own count, so the
    effective limit is ``max_failures`` × workers (documented).
    """

    def __init__(self, max_failures: int, window: timedelta, clock: Clock) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until one more attempt is allowed for all ``keys``, or None if allowed."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, (times[0] + self.window - now).total_seconds())
        return max(1, int(wait + 0.999)) if wait > 0 else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


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
