"""Per-tenant delivery configuration and credentials, validated at start.

Where each tenant's decisions go: ``config/delivery/<tenant>.yaml``
(``CASETRAIL_DELIVERY_CONFIG_DIR``) names, per platform, the endpoint, the
identity casetrail acts as, the queue -> group mapping and the rate limit.
Secrets never sit in that file: each comes from

1. a file ``$CASETRAIL_DELIVERY_SECRETS_DIR/<tenant>.<platform>.<field>`` (a
   Kubernetes Secret mounted as a volume, one key per credential; default
   ``/var/run/secrets/casetrail-delivery``; ``<tenant>/<platform>/<field>`` works too), or
2. the environment: ``CASETRAIL_DELIVERY__<TENANT>__<PLATFORM>__<FIELD>``
   (upper case, ``-`` as ``_``), e.g. ``CASETRAIL_DELIVERY__ACME_SHOP__ZENDESK__API_TOKEN``,

and is held as ``SecretStr``. A missing secret, a malformed URL, an unknown
platform or field refuses start-up with a message naming the entry
(``acme-shop.zendesk.api_token: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator


PLATFORMS = ("zendesk", "intercom", "freshdesk", "servicenow", "email")


class DeliveryConfigError(ValueError):
    """A tenant's delivery configuration cannot be used; the message names the entry."""


class _Platform(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_per_minute: float = Field(default=200, gt=0)  # our own ceiling, below the vendor's plan limit
    concurrency: int = Field(default=4, ge=1, le=64)  # requests in flight per tenant and platform
    timeout_seconds: float = Field(default=10, gt=0, le=120)
    groups: dict[str, str] = Field(default_factory=dict)  # casetrail queue -> the platform's group / team id


class _HttpPlatform(_Platform):
    base_url: str

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local server)")
        return value.rstrip("/")


class ZendeskConfig(_HttpPlatform):
    platform: Literal["zendesk"] = "zendesk"
    email: Optional[str] = None  # with api_token: Basic "{email}/token:{api_token}"
    api_token: Optional[SecretStr] = None
    oauth_token: Optional[SecretStr] = None  # or a Bearer token


class IntercomConfig(_HttpPlatform):
    platform: Literal["intercom"] = "intercom"
    base_url: str = "https://api.intercom.io"
    api_version: str = "2.11"  # sent as Intercom-Version
    admin_id: str  # the admin (bot teammate) replies and notes are written as
    access_token: Optional[SecretStr] = None


class FreshdeskConfig(_HttpPlatform):
    platform: Literal["freshdesk"] = "freshdesk"
    api_key: Optional[SecretStr] = None  # Basic "{api_key}:X"


class ServiceNowConfig(_HttpPlatform):
    platform: Literal["servicenow"] = "servicenow"
    username: Optional[str] = None
    password: Optional[SecretStr] = None
    oauth_token: Optional[SecretStr] = None
    case_table: str = "sn_customerservice_case"  # records numbered CS...; INC... go to incident


class EmailConfig(_Platform):
    platform: Literal["email"] = "email"
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    use_tls: bool = False  # implicit TLS (port 465)
    from_address: str
    username: Optional[str] = None
    password: Optional[SecretStr] = None
    # groups: casetrail queue -> the team mailbox that receives the internal hand-off


PlatformConfig = Union[ZendeskConfig, IntercomConfig, FreshdeskConfig, ServiceNowConfig, EmailConfig]
_MODELS: dict[str, type[BaseModel]] = {
    "zendesk": ZendeskConfig, "intercom": IntercomConfig, "freshdesk": FreshdeskConfig,
    "servicenow": ServiceNowConfig, "email": EmailConfig,
}
# The secrets each platform needs: at least one of each tuple must be set.
_REQUIRED_SECRETS: dict[str, tuple[tuple[str, ...], ...]] = {
    "zendesk": (("api_token", "oauth_token"),),
    "intercom": (("access_token",),),
    "freshdesk": (("api_key",),),
    "servicenow": (("password", "oauth_token"),),
    "email": (),
}
_SECRET_FIELDS = {"api_token", "oauth_token", "access_token", "api_key", "password"}


@dataclass(frozen=True)
class TenantDelivery:
    tenant: str
    platforms: dict[str, PlatformConfig]

    def platform(self, name: str) -> Optional[PlatformConfig]:
        return self.platforms.get(name)


def config_dir() -> Path:
    from services.delivery.settings import DeliverySettings

    return DeliverySettings().delivery_config_dir


def secrets_dir() -> Path:
    from services.delivery.settings import DeliverySettings

    return DeliverySettings().delivery_secrets_dir


def _env_name(tenant: str, platform: str, field: str) -> str:
    return "__".join(("CASETRAIL_DELIVERY", tenant, platform, field)).upper().replace("-", "_")


def _secret(tenant: str, platform: str, field: str, variable: Callable[[str], Optional[str]], secrets: Path) -> Optional[str]:
    # A Secret mounted as a volume: one file per key, "<tenant>.<platform>.<field>" (Secret keys hold no
    # "/"); or a directory tree <tenant>/<platform>/<field>.
    for path in (secrets / f"{tenant}.{platform}.{field}", secrets / tenant / platform / field):
        if path.is_file():
            return path.read_text().strip()
    return variable(_env_name(tenant, platform, field))


def load_tenant(path: Path, *, env: Optional[Mapping[str, str]] = None, secrets: Optional[Path] = None) -> TenantDelivery:
    """``env`` stands in for the environment's credential variables (tests, benchmarks)."""
    from services.delivery.settings import referenced_secret

    variable = referenced_secret if env is None else env.get
    secrets = secrets_dir() if secrets is None else secrets
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DeliveryConfigError(f"{path.name}: not valid YAML: {exc}") from None
    tenant = str(doc.get("tenant") or path.stem)
    raw_platforms = doc.get("platforms") or {}
    if not isinstance(raw_platforms, dict):
        raise DeliveryConfigError(f"{tenant}.platforms: must be a mapping of platform name to settings")
    platforms: dict[str, PlatformConfig] = {}
    for name, raw in raw_platforms.items():
        where = f"{tenant}.{name}"
        if name not in _MODELS:
            raise DeliveryConfigError(f"{where}: unknown platform; known: {', '.join(PLATFORMS)}")
        raw = dict(raw or {})
        for field in sorted(_SECRET_FIELDS & set(raw)):
            raise DeliveryConfigError(f"{where}.{field}: secrets never go in the config file; "
                                      f"mount {secrets / f'{tenant}.{name}.{field}'} or set {_env_name(tenant, name, field)}")
        for field in _SECRET_FIELDS & set(_MODELS[name].model_fields):
            value = _secret(tenant, name, field, variable, secrets)
            if value:
                raw[field] = value
        try:
            model = _MODELS[name].model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise DeliveryConfigError(f"{where}.{field}: {first['msg']}") from None
        for alternatives in _REQUIRED_SECRETS[name]:
            if not any(getattr(model, f) is not None for f in alternatives):
                hint = " or ".join(f"{secrets / f'{tenant}.{name}.{f}'} / {_env_name(tenant, name, f)}" for f in alternatives)
                raise DeliveryConfigError(f"{where}.{alternatives[0]}: missing secret; provide {hint}")
        if name == "zendesk" and model.api_token is not None and not model.email:
            raise DeliveryConfigError(f"{where}.email: an api_token authenticates as '{{email}}/token'; set email")
        if name == "servicenow" and model.password is not None and not model.username:
            raise DeliveryConfigError(f"{where}.username: basic authentication needs the username")
        platforms[name] = model
    return TenantDelivery(tenant, platforms)


def load_all(directory: Optional[Path] = None, **kwargs) -> dict[str, TenantDelivery]:
    """Every tenant's delivery configuration; raises ``DeliveryConfigError`` naming the first bad entry."""
    directory = directory or config_dir()
    tenants: dict[str, TenantDelivery] = {}
    if not directory.is_dir():
        return tenants
    for path in sorted(directory.glob("*.yaml")):
        loaded = load_tenant(path, **kwargs)
        tenants[loaded.tenant] = loaded
    return tenants
