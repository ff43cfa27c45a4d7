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

    def consumer_config(self, group_id: str, **extra) -> dict:
        """A consumer that sees only committed records (``read_committed``): aborted transactions never show."""
        return {**self.librdkafka_config(), "group.id": group_id, "isolation.level": "read_committed", **extra}

    def producer_config(self, **extra) -> dict:
        """A producer that places keys as the Java client does (murmur2), acknowledged by every replica."""
        from casetrail.partitioning import PRODUCER_PARTITIONER

        return {**self.librdkafka_config(), "partitioner": PRODUCER_PARTITIONER, "acks": "all",
                "enable.idempotence": True, **extra}

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
    # How long a consumer's fetch may wait at the broker when a partition has no new data
    # (librdkafka ``fetch.wait.max.ms``). librdkafka fetches every assigned partition
    # independently, so this bounds idle latency only (docs/runtime.md).
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=30_000)
    # The runtime (docs/runtime.md): one Kafka transaction per polled batch.
    worker_id: str = ""  # this worker's part of the transactional id; default: the host name (a pod's name)
    transaction_timeout_ms: int = Field(default=60_000, ge=1_000, le=900_000)
    session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)  # how fast a dead worker's partitions move
    poll_timeout_ms: int = Field(default=100, ge=1, le=10_000)  # longest wait for records before timers run
    # Records per batch (= per transaction). A batch must be handled well within the transaction
    # timeout even at the slowest handler (triage under load: ~100 ms a record); smaller batches
    # also let read_committed consumers downstream see outputs sooner.
    max_poll_records: int = Field(default=100, ge=1, le=100_000)
    linger_ms: float = Field(default=1.0, ge=0, le=1_000)
    retry_attempts: int = Field(default=5, ge=1, le=100)  # RetryableError: attempts before dead-lettering
    retry_initial_seconds: float = Field(default=0.5, gt=0, le=60)
    retry_max_seconds: float = Field(default=8.0, gt=0, le=300)

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
