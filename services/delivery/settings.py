"""Delivery's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own.

Platform credentials are not fields: they come from files under ``delivery_secrets_dir``
or from ``CASETRAIL_DELIVERY__<TENANT>__<PLATFORM>__<FIELD>`` (``services.delivery.config``),
whose names depend on the tenant configuration; ``referenced_secret`` is the one place that
reads such a variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from casetrail.settings import REPO_ROOT, CasetrailSettings

DEFAULT_SECRETS_DIR = Path("/var/run/secrets/casetrail-delivery")


class DeliverySettings(CasetrailSettings):
    delivery_config_dir: Path = REPO_ROOT / "config" / "delivery"  # CASETRAIL_DELIVERY_CONFIG_DIR: <tenant>.yaml files
    delivery_secrets_dir: Path = DEFAULT_SECRETS_DIR  # CASETRAIL_DELIVERY_SECRETS_DIR: mounted credentials


def referenced_secret(variable: str) -> Optional[str]:
    """The credential in the environment variable ``variable``, whose name the tenant's delivery
    configuration decides (``CASETRAIL_DELIVERY__<TENANT>__<PLATFORM>__<FIELD>``); None when unset."""
    return os.environ.get(variable)
