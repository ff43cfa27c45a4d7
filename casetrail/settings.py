"""Typed, frozen settings read from the environment (and an optional ``.env``).

Kafka client options are fields whose names map to librdkafka's dotted keys
(``sasl_mechanism`` -> ``sasl.mechanism``), so SASL/SSL settings pass through
to every client without a hand-written table. Secrets are ``SecretStr`` and
never appear in logs or ``repr``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, Optional

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", frozen=True, extra="ignore")

    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: Optional[str] = None
    sasl_username: Optional[str] = None
    sasl_password: Optional[SecretStr] = None
    ssl_ca_location: Optional[str] = None
    ssl_certificate_location: Optional[str] = None
    ssl_key_location: Optional[str] = None
    ssl_key_password: Optional[SecretStr] = None
    client_id_prefix: str = "casetrail"

    def librdkafka_config(self) -> dict[str, str]:
        """Options for confluent-kafka clients, dotted keys generated from field names."""
        config: dict[str, str] = {}
        for name, value in self:
            if value is None or name == "client_id_prefix":
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            config[name.replace("_", ".")] = str(value)
        return config

    @property
    def explicitly_configured(self) -> bool:
        """True when the environment names a cluster: then casetrail starts no broker."""
        return "bootstrap_servers" in self.model_fields_set


class CasetrailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASETRAIL_", env_file=".env", frozen=True, extra="ignore")

    schema_registry_url: Optional[str] = Field(
        default=None, validation_alias=AliasChoices("SCHEMA_REGISTRY_URL", "CASETRAIL_SCHEMA_REGISTRY_URL")
    )
    schema_registry_basic_auth: Optional[SecretStr] = None
    qdrant_url: Optional[str] = Field(default=None, validation_alias=AliasChoices("QDRANT_URL", "CASETRAIL_QDRANT_URL"))
    qdrant_api_key: Optional[SecretStr] = Field(
        default=None, validation_alias=AliasChoices("QDRANT_API_KEY", "CASETRAIL_QDRANT_API_KEY")
    )
    # "production" (the Helm chart's default) turns development conveniences into errors: the key
    # store refuses to run without its master key (casetrail/privacy/keystore.py).
    environment: Literal["development", "production"] = "development"
    data_dir: Path = REPO_ROOT / "var"
    tenants_dir: Path = REPO_ROOT / "config" / "tenants"
    http_host: str = "127.0.0.1"
    http_port: int = 0  # 0: each service's default port (see casetrail.runtime.service.DEFAULT_PORTS)
    log_level: str = "INFO"
    max_payload_bytes: int = 1024 * 1024
    topic_prefix: str = ""  # lets tests and demos isolate themselves on a shared cluster
    create_topics: bool = True  # services apply casetrail.topics at start; off where operators own topics
    # How long a service's fetch may wait at the broker for data (Faust fixes 1,500 ms). While a fetch
    # waits, partitions left out of it (their previous records were still being processed) are not
    # fetched again, so a busy service adds up to this much per hop. 100 ms doubled the pipeline's
    # sustained rate (docs/benchmarks.md); it stays opt-in until re-validated as the default (the
    # restart stalls first blamed on it were Faust's flow-control race, now handled by the runtime).
    fetch_max_wait_ms: int = Field(default=1500, ge=1, le=30_000)

    def registry_config(self) -> dict[str, str]:
        if self.schema_registry_basic_auth is None:
            return {}
        return {"basic.auth.user.info": self.schema_registry_basic_auth.get_secret_value()}


@cache
def kafka_settings() -> KafkaSettings:
    return KafkaSettings()


@cache
def settings() -> CasetrailSettings:
    return CasetrailSettings()
