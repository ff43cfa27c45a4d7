"""Audit's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode

from casetrail.settings import CasetrailSettings, json_list
from services.audit.tokens import TokenEntry


class AuditSettings(CasetrailSettings):
    # CASETRAIL_AUDIT_DB_URL: a SQLAlchemy URL (PostgreSQL for several readers); default the SQLite
    # file <data_dir>/audit/audit.sqlite
    audit_db_url: Optional[str] = None
    # CASETRAIL_AUDIT_CONFIG: the tokens and retention file; default <data_dir>/audit/audit.yaml
    audit_config: Optional[Path] = None
    # CASETRAIL_AUDIT_TOKENS: more token entries as a JSON list (e.g. a Kubernetes Secret)
    audit_tokens: Annotated[list[TokenEntry], NoDecode, BeforeValidator(json_list)] = Field(default_factory=list)

    @property
    def audit_config_path(self) -> Path:
        return self.audit_config or self.data_dir / "audit" / "audit.yaml"
