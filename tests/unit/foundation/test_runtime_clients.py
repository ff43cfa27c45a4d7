"""The runtime's Kafka client settings: transactions, read_committed, range assignment, murmur2."""

import pytest

from casetrail.runtime import Service
from casetrail.settings import CasetrailSettings


def test_consumer_reads_committed_with_range_assignment_and_manual_commits():
    config = Service("probe", config=CasetrailSettings(topic_prefix="p.")).consumer_config()
    assert config["isolation.level"] == "read_committed"
    assert config["partition.assignment.strategy"] == "range"
    assert config["enable.auto.commit"] is False
    assert config["group.id"] == "p.casetrail-probe"
    assert config["fetch.wait.max.ms"] == 100


def test_producer_is_transactional_per_worker_with_the_java_partitioner():
    service = Service("probe", config=CasetrailSettings(topic_prefix="p.", worker_id="w2"))
    config = service.producer_config()
    assert config["transactional.id"] == "p.casetrail-probe-w2"
    assert config["partitioner"] == "murmur2_random"
    assert config["acks"] == "all" and config["enable.idempotence"] is True
    assert config["message.timeout.ms"] <= config["transaction.timeout.ms"]


def test_a_transaction_call_answered_concurrent_transactions_is_retried_within_tens_of_milliseconds():
    """librdkafka's default (100 ms doubling to 1 s) held each batch 300-700 ms in send_offsets_to_transaction
    while a busy coordinator wrote the previous commit's markers (docs/benchmarks.md, session 10)."""
    from confluent_kafka import Producer

    config = Service("probe", config=CasetrailSettings(topic_prefix="p.")).producer_config()
    assert config["retry.backoff.ms"] == 20
    assert config["retry.backoff.ms"] <= config["retry.backoff.max.ms"] <= 250
    offline = {key: value for key, value in config.items() if key not in ("transactional.id", "bootstrap.servers")}
    Producer(offline).flush(0)  # librdkafka knows both names (an unknown one raises here)


def test_tables_take_their_partition_count_from_topics():
    service = Service("router", config=CasetrailSettings())
    table = service.table("sla_timers")
    assert table.changelog_topic == "casetrail-router-sla_timers-changelog"
    from casetrail.topics import DRAFTS_VERIFIED

    assert table.partitions == DRAFTS_VERIFIED.partitions


def test_settings_bounds(monkeypatch):
    with pytest.raises(ValueError):
        CasetrailSettings(fetch_max_wait_ms=0)
    with pytest.raises(ValueError):
        CasetrailSettings(retry_attempts=0)
