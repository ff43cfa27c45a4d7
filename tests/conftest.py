"""Shared fixtures. The broker fixture follows confluent-kafka-python's test
tiers: a session-wide broker that honours ``KAFKA_BOOTSTRAP_SERVERS``.

Integration and end-to-end tests never skip for want of a broker: if none can
be had, they fail with a message that says how to get one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """A real Apache Kafka broker: the configured cluster, a testcontainer, or the project's own."""
    from casetrail.settings import kafka_settings

    if kafka_settings().explicitly_configured:  # the one rule: set and not blank
        from casetrail_tools.broker import wait_until_ready

        servers = kafka_settings().bootstrap_servers
        wait_until_ready(servers, timeout=60)
        print(f"\nusing Kafka cluster at {servers} (KAFKA_BOOTSTRAP_SERVERS)")
        return servers
    if os.environ.get("CASETRAIL_TEST_DOCKER") == "1" and _docker_answers():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer("apache/kafka:4.1.1").with_kraft()
        container.start()
        servers = container.get_bootstrap_server()
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = servers
        kafka_settings.cache_clear()
        print(f"\nusing testcontainers Kafka at {servers}")
        return servers
    from casetrail_tools import broker

    try:
        servers = broker.start(progress=lambda line: print("\n" + line))
    except Exception as exc:  # noqa: BLE001 - turn any failure into a clear, failing message
        pytest.fail(
            "integration tests need a real Kafka broker and none could be started: "
            f"{exc}\nStart one with `make kafka-up`, or point KAFKA_BOOTSTRAP_SERVERS at a cluster.",
            pytrace=False,
        )
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = servers
    kafka_settings.cache_clear()
    return servers


@pytest.fixture
def topic_prefix() -> str:
    """A unique topic prefix so tests never see each other's records on a shared broker."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture(autouse=True)
def settings_read_afresh():
    """Each test's shared settings come from its own environment (``monkeypatch.setenv`` before the code
    under test runs), never from the process-wide cache an earlier test filled."""
    from casetrail.settings import settings

    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (tests/support/postgres.py); never skipped."""
    from tests.support.postgres import server_url, server_scratch

    with server_scratch() as scratch:
        yield from server_url(scratch)


@pytest.fixture
def postgres_url(postgres_server):
    """An empty database of this test's own on the session's PostgreSQL server."""
    from tests.support.postgres import fresh_database

    yield from fresh_database(postgres_server)
