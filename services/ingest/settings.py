"""Ingest's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own."""

from __future__ import annotations

from pydantic import Field

from casetrail.settings import CasetrailSettings
from services.ingest.budget import DEFAULT_BUDGET_SECONDS


class IngestSettings(CasetrailSettings):
    default_tenant: str = "default"  # CASETRAIL_DEFAULT_TENANT: the tenant of a record that names none
    ingest_seal_originals: bool = True  # CASETRAIL_INGEST_SEAL_ORIGINALS: keep the original text sealed per customer
    ingest_budget_seconds: float = Field(default=DEFAULT_BUDGET_SECONDS, gt=0)  # CASETRAIL_INGEST_BUDGET_SECONDS: CPU per record
