"""A console account as the YAML file and ``CASETRAIL_REVIEW_ACCOUNTS`` both write it (argon2 hash, never a password).

Roles: ``agent`` (works the queue), ``lead`` (an agent who may also reveal the sealed original),
``auditor`` (reads and reveals; acts on nothing).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["agent", "lead", "auditor"]
ROLES: tuple[str, ...] = ("agent", "lead", "auditor")


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=120)
    tenant: str
    role: Role
    password_hash: str = Field(pattern=r"^\$argon2(id|i|d)\$")
    locale: str = "en"
