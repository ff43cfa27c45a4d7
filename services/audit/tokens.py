"""An API token entry as the YAML file and ``CASETRAIL_AUDIT_TOKENS`` both write it: a SHA-256 hash, never the token."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["auditor", "qa"]


class TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    tenant: str
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
