"""Console configuration: local accounts (argon2 hashes, never passwords), OIDC, cookies.

Read from the YAML file named by ``CASETRAIL_REVIEW_CONFIG`` (default
``<data_dir>/review/review.yaml``; see ``review.example.yaml``). Accounts can
also come from ``CASETRAIL_REVIEW_ACCOUNTS`` (a JSON list of the same entries,
e.g. a Kubernetes Secret), the session signing key from
``CASETRAIL_REVIEW_SECRET_KEY`` and the OIDC client secret from
``CASETRAIL_REVIEW_OIDC_CLIENT_SECRET`` (all ``services.review.settings.ReviewSettings``).

Roles: ``agent`` (works the queue), ``lead`` (an agent who may also reveal the
sealed original), ``auditor`` (reads and reveals; acts on nothing).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.review.accounts import ROLES, Account, Role  # ROLES, Account: also imported from here

if TYPE_CHECKING:
    from services.review.settings import ReviewSettings

UI_LOCALES: tuple[str, ...] = ("en", "de", "fr", "es", "lt")


class ReviewConfigError(ValueError):
    pass


class OidcConfig(BaseModel):
    """An OpenID Connect provider (authorization code flow with PKCE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str  # discovery at <issuer>/.well-known/openid-configuration
    client_id: str
    client_secret: SecretStr = SecretStr("")
    redirect_url: str  # https://console.example/auth/callback
    scope: str = "openid email profile"
    tenant_claim: str = "casetrail_tenant"
    role_claim: str = "casetrail_role"
    username_claim: str = "email"
    # Used when the provider cannot add the claims above: the tenant every OIDC user belongs to.
    default_tenant: Optional[str] = None
    default_role: Optional[Role] = None
    label: str = "Single sign-on"


class ReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: list[Account] = Field(default_factory=list)
    oidc: Optional[OidcConfig] = None
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    secure_cookies: bool = True  # off only for a plain-http local demo
    session_hours: float = Field(default=10.0, gt=0, le=24 * 7)
    page_size: int = Field(default=50, ge=10, le=500)

    def account(self, username: str) -> Optional[Account]:
        for account in self.accounts:
            if secrets.compare_digest(account.username.casefold().encode(), username.casefold().encode()):
                return account
        return None


def load_config(path: Optional[Path] = None, settings: Optional["ReviewSettings"] = None) -> ReviewConfig:
    """The file at ``path`` (default ``settings.review_config_path``) with the settings' accounts,
    signing key, cookie choice and OIDC client secret over it."""
    from casetrail.yaml_config import load_yaml_config
    from services.review.settings import ReviewSettings

    settings = settings or ReviewSettings()
    overrides: dict = {}
    if settings.review_secret_key is not None:
        overrides["secret_key"] = settings.review_secret_key
    if settings.review_secure_cookies is not None:
        overrides["secure_cookies"] = settings.review_secure_cookies
    config = load_yaml_config(path or settings.review_config_path, ReviewConfig, ReviewConfigError,
                              list_key="accounts", extra_entries=settings.review_accounts,
                              what="review configuration", overrides=overrides)
    if config.oidc is not None and settings.review_oidc_client_secret is not None:
        oidc = config.oidc.model_copy(update={"client_secret": settings.review_oidc_client_secret})
        config = config.model_copy(update={"oidc": oidc})
    return config


def save_account(path: Path, account: Account) -> None:
    """Add or replace ``account`` in the YAML file (``casetrail review account add``)."""
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    data = data or {}
    accounts = [a for a in data.get("accounts") or [] if a.get("username") != account.username]
    accounts.append(account.model_dump())
    data["accounts"] = accounts
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    path.chmod(0o600)
