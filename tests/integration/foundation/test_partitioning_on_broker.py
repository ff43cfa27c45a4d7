"""Every producer places a key where the Java client would (murmur2), on the real broker."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from casetrail.partitioning import partition_for
from casetrail.settings import kafka_settings
from casetrail.topics import TopicSpec
from tests.support.kafka import consume, create_topics

pytestmark = pytest.mark.integration


def test_keys_land_on_the_partition_the_java_partitioner_picks(kafka_bootstrap, topic_prefix):
    spec = TopicSpec("placement", "conversation_id", None, "partitioner check", partitions=6)
    create_topics(topic_prefix, [spec])
    topic = f"{topic_prefix}{spec.name}"
    keys = [f"conv-{i}".encode() for i in range(60)] + [b"zendesk:35436", "ü-key".encode()]
    producer = Producer(kafka_settings().producer_config())
    for key in keys:
        producer.produce(topic, b"v", key)
    assert producer.flush(30) == 0
    placed = {m.key(): m.partition() for m in consume([topic], expected=len(keys), timeout=60)}
    assert placed == {key: partition_for(key, 6) for key in keys}
    assert len(set(placed.values())) == 6  # and it spreads
