"""Ingest's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own.

Per-source webhook secrets are named by their source (``CASETRAIL_WEBHOOK_SECRET_<SOURCE>``), so
they are not fields: ``webhook_secret_variables`` is the one place that reads them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import Field

from casetrail.settings import CasetrailSettings
from services.ingest.budget import DEFAULT_BUDGET_SECONDS

WEBHOOK_SECRET_PREFIX = "CASETRAIL_WEBHOOK_SECRET_"


class IngestSettings(CasetrailSettings):
    default_tenant: str = "default"  # CASETRAIL_DEFAULT_TENANT: the tenant of a record that names none
    ingest_seal_originals: bool = True  # CASETRAIL_INGEST_SEAL_ORIGINALS: keep the original text sealed per customer
    ingest_budget_seconds: float = Field(default=DEFAULT_BUDGET_SECONDS, gt=0)  # CASETRAIL_INGEST_BUDGET_SECONDS: CPU per record
    # CASETRAIL_WEBHOOK_SECRETS_FILE: the webhook bridge's secrets, YAML list of {tenant, source, secret, scheme?}
    webhook_secrets_file: Optional[Path] = None


def webhook_secret_variables() -> dict[str, str]:
    """``{source: secret}`` from every non-empty ``CASETRAIL_WEBHOOK_SECRET_<SOURCE>`` (the default tenant's).

    Which variables exist is itself configuration (one per source), so they are read by prefix here.
    """
    return {name[len(WEBHOOK_SECRET_PREFIX):].lower(): value for name, value in os.environ.items()
            if name.startswith(WEBHOOK_SECRET_PREFIX) and value}
