"""Delivery's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own.

Platform credentials are not settings: they come from files under ``delivery_secrets_dir``
or from ``CASETRAIL_DELIVERY__<TENANT>__<PLATFORM>__<FIELD>`` (``services.delivery.config``),
whose names depend on the tenant configuration.
"""

from __future__ import annotations

from pathlib import Path

from casetrail.settings import REPO_ROOT, CasetrailSettings

DEFAULT_SECRETS_DIR = Path("/var/run/secrets/casetrail-delivery")


class DeliverySettings(CasetrailSettings):
    delivery_config_dir: Path = REPO_ROOT / "config" / "delivery"  # CASETRAIL_DELIVERY_CONFIG_DIR: <tenant>.yaml files
    delivery_secrets_dir: Path = DEFAULT_SECRETS_DIR  # CASETRAIL_DELIVERY_SECRETS_DIR: mounted credentials
