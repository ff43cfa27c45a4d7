"""Who is signed in, what their role may do, and the signed session cookie that carries it.

- Passwords: argon2id (``argon2-cffi``); an unknown user costs the same hash
  as a known one, so timing does not tell which usernames exist.
- Session: one cookie signed and timestamped with the configured key
  (``itsdangerous``), ``HttpOnly``, ``SameSite=Lax``, ``Secure`` unless the
  configuration turns it off for a plain-http demo. It holds the principal and
  the session's CSRF token, nothing else.
- CSRF: every state-changing request carries the session's token (form field
  ``csrf_token`` or header ``X-CSRF-Token``, which HTMX sends); compared in
  constant time. Requests whose ``Origin`` names another site are refused too.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.review.config import Account, ReviewConfig

SESSION_COOKIE = "casetrail_review"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")

# What each role may do on the console.
PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({"view", "act"}),
    "lead": frozenset({"view", "act", "reveal"}),
    "auditor": frozenset({"view", "reveal"}),
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class Principal:
    username: str
    tenant: str
    role: str
    method: str  # password | oidc
    csrf: str
    locale: str = "en"

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def authenticate(config: ReviewConfig, username: str, password: str) -> Optional[Account]:
    account = config.account(username.strip())
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return account


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, config: ReviewConfig):
        self.config = config
        self._serializer = URLSafeTimedSerializer(config.secret_key.get_secret_value(), salt="casetrail-review")
        self.max_age = int(config.session_hours * 3600)

    def issue(self, *, username: str, tenant: str, role: str, method: str, locale: str = "en") -> tuple[str, Principal]:
        principal = Principal(username=username, tenant=tenant, role=role, method=method,
                              csrf=secrets.token_urlsafe(24), locale=locale)
        payload = {"u": username, "t": tenant, "r": role, "m": method, "c": principal.csrf, "l": locale,
                   "i": int(time.time())}
        return self._serializer.dumps(payload), principal

    def read(self, cookie: Optional[str]) -> Optional[Principal]:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if data.get("r") not in PERMISSIONS:
            return None
        return Principal(username=data["u"], tenant=data["t"], role=data["r"], method=data["m"], csrf=data["c"],
                         locale=data.get("l", "en"))

    def with_locale(self, principal: Principal, locale: str) -> str:
        payload = {"u": principal.username, "t": principal.tenant, "r": principal.role, "m": principal.method,
                   "c": principal.csrf, "l": locale, "i": int(time.time())}
        return self._serializer.dumps(payload)

    def cookie_args(self) -> dict:
        return {"httponly": True, "samesite": "lax", "secure": self.config.secure_cookies, "max_age": self.max_age,
                "path": "/"}


def csrf_ok(principal: Principal, presented: Optional[str]) -> bool:
    return bool(presented) and secrets.compare_digest(principal.csrf.encode(), presented.encode())
