"""The review console's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own.

The YAML file holds accounts, OIDC and cookie choices; these settings name the file and
carry what a deployment keeps in a Secret (accounts, the session signing key, the OIDC
client secret), which override or extend the file (``services.review.config.load_config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from pydantic import BeforeValidator, Field, SecretStr, field_validator

from pydantic_settings import NoDecode

from casetrail.settings import CasetrailSettings, json_list
from services.review.accounts import Account


class ReviewSettings(CasetrailSettings):
    # CASETRAIL_REVIEW_CONFIG: the console's YAML file; default <data_dir>/review/review.yaml
    review_config: Optional[Path] = None
    # CASETRAIL_REVIEW_ACCOUNTS: more accounts as a JSON list of the file's entries (argon2 hashes)
    review_accounts: Annotated[list[Account], NoDecode, BeforeValidator(json_list)] = Field(default_factory=list)
    # CASETRAIL_REVIEW_SECRET_KEY: signs session cookies; default the file's, else a random key per start
    review_secret_key: Optional[SecretStr] = None
    # CASETRAIL_REVIEW_SECURE_COOKIES: overrides the file's ``secure_cookies`` (off only for plain-http demos)
    review_secure_cookies: Optional[bool] = None
    # CASETRAIL_REVIEW_OIDC_CLIENT_SECRET: the OIDC client's secret (the provider is configured in the file)
    review_oidc_client_secret: Optional[SecretStr] = None

    @field_validator("review_secret_key", "review_secure_cookies", "review_oidc_client_secret", mode="before")
    @classmethod
    def _empty_means_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def review_config_path(self) -> Path:
        return self.review_config or self.data_dir / "review" / "review.yaml"
