"""Ingest's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own."""

from __future__ import annotations

from casetrail.settings import CasetrailSettings


class IngestSettings(CasetrailSettings):
    default_tenant: str = "default"  # CASETRAIL_DEFAULT_TENANT: the tenant of a record that names none
    ingest_seal_originals: bool = True  # CASETRAIL_INGEST_SEAL_ORIGINALS: keep the original text sealed per customer
