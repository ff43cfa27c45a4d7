"""Audit configuration: API tokens (stored as SHA-256 hashes, never in clear) and retention per tenant.

Read from the YAML file named by ``CASETRAIL_AUDIT_CONFIG`` (default
``<data_dir>/audit/audit.yaml``; see ``audit.example.yaml``). Tokens can also
come from ``CASETRAIL_AUDIT_TOKENS``: a JSON list of the same entries, e.g. a
Kubernetes Secret mounted as an environment variable (both are ``AuditSettings``).

Tokens are long random strings (``casetrail audit token`` makes one), so a
plain SHA-256 is the right hash: there is nothing to brute-force that a slow
password hash would protect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.audit.tokens import TokenEntry

if TYPE_CHECKING:
    from services.audit.settings import AuditSettings

DEFAULT_RETENTION = "7y"


class AuditConfigError(ValueError):
    pass


def parse_retention(text: str) -> dt.timedelta:
    """``7y``, ``18m`` (months), ``90d``, ``12w``; years are 365 days, months 30."""
    m = re.fullmatch(r"\s*(\d+)\s*([ymwd])\s*", str(text).lower())
    if not m:
        raise ValueError(f"retention {text!r}: use e.g. 7y, 18m, 90d or 12w")
    n, unit = int(m[1]), m[2]
    return dt.timedelta(days=n * {"y": 365, "m": 30, "w": 7, "d": 1}[unit])


class RetentionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str = DEFAULT_RETENTION
    tenants: dict[str, str] = Field(default_factory=dict)

    @field_validator("default")
    @classmethod
    def _valid_default(cls, value: str) -> str:
        parse_retention(value)
        return value

    @field_validator("tenants")
    @classmethod
    def _valid_tenants(cls, value: dict[str, str]) -> dict[str, str]:
        for tenant, text in value.items():
            try:
                parse_retention(text)
            except ValueError as exc:
                raise ValueError(f"{tenant}: {exc}") from None
        return value

    def for_tenant(self, tenant: str) -> dt.timedelta:
        return parse_retention(self.tenants.get(tenant, self.default))


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: list[TokenEntry] = Field(default_factory=list)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    def token(self, presented: str) -> Optional[TokenEntry]:
        """The entry whose hash matches the presented bearer token (constant-time compare)."""
        digest = hash_token(presented)
        found = None
        for entry in self.tokens:
            if secrets.compare_digest(entry.sha256, digest):
                found = entry
        return found


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    token = "ctk_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


def load_config(path: Optional[Path] = None, settings: Optional["AuditSettings"] = None) -> AuditConfig:
    """The file at ``path`` (default ``settings.audit_config_path``) plus ``settings.audit_tokens``."""
    from casetrail.yaml_config import load_yaml_config
    from services.audit.settings import AuditSettings

    settings = settings or AuditSettings()
    return load_yaml_config(path or settings.audit_config_path, AuditConfig, AuditConfigError, list_key="tokens",
                            extra_entries=settings.audit_tokens, what="audit configuration")
