"""Read the dead-letter topic from its start to its current end (what the operators' commands scan)."""

from __future__ import annotations

import uuid
from typing import Iterator, Optional

from confluent_kafka import Consumer, KafkaError, TopicPartition

from casetrail.codec import AvroCodec
from casetrail.events import DeadLetter
from casetrail.settings import kafka_settings, settings
from casetrail.topic_admin import resolved_name
from casetrail.topics import DEADLETTER


def dead_letters(topic_prefix: Optional[str] = None, timeout: float = 30.0,
                 purpose: str = "read") -> Iterator[DeadLetter]:
    """Every dead letter now on the topic, partition by partition in offset order."""
    kafka = kafka_settings()
    codec = AvroCodec(settings().schema_registry_url, settings().registry_config())
    topic = resolved_name(DEADLETTER, topic_prefix)
    consumer = Consumer(kafka.consumer_config(f"casetrail-deadletter-{purpose}-{uuid.uuid4().hex[:8]}",
                                              **{"enable.partition.eof": True, "enable.auto.commit": False,
                                                 "auto.offset.reset": "earliest"}))
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
        partitions = [TopicPartition(topic, p, 0) for p in metadata.partitions]
        consumer.assign(partitions)
        remaining = {tp.partition for tp in partitions}
        while remaining:
            for message in consumer.consume(500, 1.0):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        remaining.discard(message.partition())
                        continue
                    raise RuntimeError(f"reading {topic} failed: {error.str()}")
                yield codec.decode(message.value(), expected=DeadLetter)
    finally:
        consumer.close()
