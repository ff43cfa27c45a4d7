"""The shared settings: defaults, the variables the floor reads, and errors that name the variable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from casetrail.settings import CasetrailSettings, InvalidSettings, KafkaSettings

SHARED_VARIABLES = ("CASETRAIL_PROMOTIONS_FILE", "CASETRAIL_VECTOR_CACHE", "CASETRAIL_KEYSTORE_MASTER_KEY",
                    "CASETRAIL_EMBEDDING_URL", "CASETRAIL_EMBEDDING_PROTOCOL", "CASETRAIL_EMBEDDING_MODEL",
                    "CASETRAIL_EMBEDDING_API_KEY", "CASETRAIL_EMBEDDING_ENGINE", "CASETRAIL_EMBEDDING_THREADS",
                    "OTEL_TRACES_EXPORTER", "CASETRAIL_TRACE_FILE", "CASETRAIL_DATA_DIR", "CASETRAIL_FETCH_MAX_WAIT_MS")


@pytest.fixture
def clean(monkeypatch):
    for name in SHARED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean, tmp_path):
    clean.setenv("CASETRAIL_DATA_DIR", str(tmp_path))
    config = CasetrailSettings(_env_file=None)
    assert config.promotions_path == tmp_path / "versions" / "promoted.json"
    assert config.vector_cache == Path.home() / ".cache" / "casetrail" / "kb-vectors.sqlite3"
    assert config.keystore_master_key is None and config.keystore_master_key_bytes is None
    assert (config.embedding_url, config.embedding_protocol, config.embedding_engine, config.embedding_threads) == \
        (None, "openai", "auto", 1)
    assert (config.otel_traces_exporter, config.trace_file) == ("none", Path("var/traces.jsonl"))


def test_values_from_the_environment(clean, tmp_path):
    key = base64.b64encode(bytes(range(32))).decode()
    clean.setenv("CASETRAIL_PROMOTIONS_FILE", str(tmp_path / "p.json"))
    clean.setenv("CASETRAIL_VECTOR_CACHE", "  ")  # empty: the cache is off
    clean.setenv("CASETRAIL_KEYSTORE_MASTER_KEY", key)
    clean.setenv("CASETRAIL_EMBEDDING_ENGINE", " Native ")
    clean.setenv("OTEL_TRACES_EXPORTER", "casetrail_file")
    clean.setenv("CASETRAIL_TRACE_FILE", str(tmp_path / "t.jsonl"))
    config = CasetrailSettings(_env_file=None)
    assert config.promotions_path == tmp_path / "p.json"
    assert config.vector_cache is None
    assert config.keystore_master_key_bytes == bytes(range(32))
    assert key not in repr(config)
    assert config.embedding_engine == "native"
    assert (config.otel_traces_exporter, config.trace_file) == ("casetrail_file", tmp_path / "t.jsonl")


@pytest.mark.parametrize("variable, value, problem", [
    ("CASETRAIL_FETCH_MAX_WAIT_MS", "0", "greater than or equal to 1"),
    ("CASETRAIL_EMBEDDING_THREADS", "many", "valid integer"),
    ("CASETRAIL_EMBEDDING_ENGINE", "gpu", "'auto', 'packaged' or 'native'"),
    ("CASETRAIL_EMBEDDING_PROTOCOL", "grpc", "'openai' or 'tei'"),
    ("OTEL_TRACES_EXPORTER", "jaeger", "'none', 'console', 'otlp' or 'casetrail_file'"),
    ("CASETRAIL_KEYSTORE_MASTER_KEY", "c2VjcmV0LWtleQ==", "decodes to 10 bytes"),
])
def test_a_bad_value_is_refused_naming_its_variable_and_not_its_value(clean, variable, value, problem):
    clean.setenv(variable, value)
    with pytest.raises(InvalidSettings) as caught:
        CasetrailSettings(_env_file=None)
    message = str(caught.value)
    assert message.startswith(f"invalid settings: {variable}: ") and problem in message
    assert value not in message


def test_an_aliased_field_names_every_variable_that_sets_it():
    assert CasetrailSettings.variable_names("schema_registry_url") == ["SCHEMA_REGISTRY_URL", "CASETRAIL_SCHEMA_REGISTRY_URL"]
    assert KafkaSettings.variable_names("sasl_password") == ["KAFKA_SASL_PASSWORD"]
    assert CasetrailSettings.variable_names("otel_traces_exporter") == ["OTEL_TRACES_EXPORTER"]


def test_the_sdk_reads_its_own_service_name(monkeypatch):
    from casetrail.runtime.tracing import service_resource

    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert service_resource("triage", "1.2.3").attributes["service.name"] == "casetrail-triage"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "triage-eu")
    attributes = service_resource("triage", "1.2.3").attributes
    assert (attributes["service.name"], attributes["service.version"]) == ("triage-eu", "1.2.3")


def test_the_tooling_settings(monkeypatch, tmp_path):
    from casetrail_tools.broker import local_broker
    from casetrail_tools.settings import DEFAULT_BROKER_PORT, ToolingSettings

    monkeypatch.delenv("CASETRAIL_BROKER_PORT", raising=False)
    assert ToolingSettings(_env_file=None).broker_port == DEFAULT_BROKER_PORT
    monkeypatch.setenv("CASETRAIL_BROKER_PORT", "19402")
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path))
    assert (local_broker().port, local_broker().home) == (19402, tmp_path / "kafka")
    monkeypatch.setenv("CASETRAIL_BROKER_PORT", "70000")
    with pytest.raises(InvalidSettings, match="CASETRAIL_BROKER_PORT: .*less than or equal to 65535"):
        ToolingSettings(_env_file=None)
