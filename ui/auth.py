"""Clinician accounts: Argon2 password hashes, roles, login throttling, idle logout.

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (Argon2id) and
stored in the store's users table; the console keeps a signed-in clinician
in server-side ``gr.State`` only. What it leaves out: password reset by
e-mail and single sign-on.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from attune.common.errors import InputError

__all__ = ["ROLES", "MIN_PASSWORD_CHARS", "IDLE_SECONDS", "Clinician", "create_user", "login",
           "ensure_admin_from_env", "alive", "touch", "Throttle"]

ROLES = ("clinician", "admin")
MIN_PASSWORD_CHARS = 12
IDLE_SECONDS = 15 * 60  # seconds without a console action before sign-out
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_hasher = PasswordHasher()
# verifying against this when the user is unknown keeps login time the same for both cases
_DUMMY_HASH = _hasher.hash("attune-no-such-user-dummy")


@dataclass(frozen=True)
class Clinician:
    """A signed-in console user (kept in server-side ``gr.State``)."""

    username: str
    role: str
    last_active: float  # time.monotonic() seconds

    @property
    def actor(self) -> str:
        return f"clinician:{self.username}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def create_user(store, username: str, password: str, role: str = "clinician") -> None:
    """Add or reset an account; raises ``InputError`` with a message fit to show."""
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise InputError("A username is 2-32 lower-case letters, digits, '.', '_' or '-'.")
    if role not in ROLES:
        raise InputError(f"A role is one of: {', '.join(ROLES)}.")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise InputError(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    store.upsert_user(username, _hasher.hash(password), role)


class Throttle:
    """Refuse logins for a while after repeated failures for one username."""

    def __init__(self, max_failures: int = 5, lock_seconds: float = 300.0):
        self.max_failures, self.lock_seconds = max_failures, lock_seconds
        self._fails: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def locked(self, username: str) -> bool:
        with self._lock:
            count, since = self._fails.get(username, (0, 0.0))
            if count >= self.max_failures and time.monotonic() - since < self.lock_seconds:
                return True
            if count >= self.max_failures:
                self._fails.pop(username, None)
            return False

    def failed(self, username: str) -> None:
        with self._lock:
            count, _ = self._fails.get(username, (0, 0.0))
            self._fails[username] = (count + 1, time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(username, None)


def login(store, username: str, password: str, throttle: Throttle | None = None) -> Clinician:
    """The signed-in clinician, or ``InputError`` with one message for any failure."""
    username = (username or "").strip().lower()
    if throttle is not None and throttle.locked(username):
        raise InputError("Too many failed attempts. Wait five minutes and try again.")
    row = store.user(username) if username else None
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password or "")
        ok = row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        if throttle is not None:
            throttle.failed(username)
        raise InputError("Wrong username or password.")
    if throttle is not None:
        throttle.succeeded(username)
    if _hasher.check_needs_rehash(row["password_hash"]):
        store.upsert_user(username, _hasher.hash(password), row["role"])
    return Clinician(username=username, role=row["role"], last_active=time.monotonic())


def ensure_admin_from_env(store) -> str | None:
    """Create the first admin from ``ATTUNE_ADMIN_PASSWORD`` (user ``ATTUNE_ADMIN_USER``, default admin).

    An existing account is never overwritten. Returns the username created, if any.
    """
    password = os.environ.get("ATTUNE_ADMIN_PASSWORD")
    if not password:
        return None
    username = (os.environ.get("ATTUNE_ADMIN_USER") or "admin").strip().lower()
    if store.user(username) is not None:
        return None
    create_user(store, username, password, "admin")
    return username


def alive(user: Clinician | None, idle_seconds: float = IDLE_SECONDS) -> Clinician | None:
    """The clinician if still signed in (active within ``idle_seconds``), else None."""
    if user is None or time.monotonic() - user.last_active > idle_seconds:
        return None
    return user


def touch(user: Clinician) -> Clinician:
    return replace(user, last_active=time.monotonic())
