"""Audit's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own."""

from __future__ import annotations

from typing import Optional

from casetrail.settings import CasetrailSettings


class AuditSettings(CasetrailSettings):
    # CASETRAIL_AUDIT_DB_URL: a SQLAlchemy URL (PostgreSQL for several readers); default the SQLite
    # file <data_dir>/audit/audit.sqlite
    audit_db_url: Optional[str] = None
