"""Replay dead-lettered records: put the original bytes back on their source topic.

An operator runs it once the cause is fixed (``retries_exhausted`` after a
dependency came back, ``unknown_tenant`` after a policy was added):
``casetrail deadletter replay --reason R --since T``. Replayed records carry the
original key, value and headers plus ``casetrail-replayed-from`` (the dead
letter's id); the ids the services derive from them are the ones a first pass
would have derived, so a record replayed twice still has one effect.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from casetrail.codec import AvroCodec
from casetrail.events import DeadLetter
from casetrail.settings import kafka_settings, settings
from casetrail.topic_admin import resolved_name
from casetrail.topics import DEADLETTER

REPLAYED_FROM_HEADER = "casetrail-replayed-from"


@dataclass
class ReplayReport:
    scanned: int = 0
    replayed: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"dead letters scanned: {self.scanned}", f"replayed: {self.replayed}",
                *(f"  {topic}: {count}" for topic, count in sorted(self.by_topic.items()))]


def select(letter: DeadLetter, reason: Optional[str], since: Optional[dt.datetime]) -> bool:
    """Whether a dead letter is one the operator asked for."""
    if reason is not None and letter.reason_code != reason:
        return False
    return since is None or letter.occurred_at >= since


def replay(reason: Optional[str], since: Optional[dt.datetime], *, dry_run: bool = False,
           progress: Callable[[str], None] = print, timeout: float = 30.0,
           topic_prefix: Optional[str] = None) -> ReplayReport:
    """Read the dead-letter topic to its end and re-produce the selected records to their source topics."""
    kafka = kafka_settings()
    codec = AvroCodec(settings().schema_registry_url, settings().registry_config())
    topic = resolved_name(DEADLETTER, topic_prefix)
    consumer = Consumer(kafka.consumer_config(f"casetrail-deadletter-replay-{uuid.uuid4().hex[:8]}",
                                              **{"enable.partition.eof": True, "enable.auto.commit": False,
                                                 "auto.offset.reset": "earliest"}))
    producer = Producer(kafka.producer_config(**{"linger.ms": 5}))
    report = ReplayReport()
    metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
    partitions = [TopicPartition(topic, p, 0) for p in metadata.partitions]
    consumer.assign(partitions)
    remaining = {tp.partition for tp in partitions}
    try:
        while remaining:
            for message in consumer.consume(500, 1.0):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        remaining.discard(message.partition())
                        continue
                    raise RuntimeError(f"reading {topic} failed: {error.str()}")
                report.scanned += 1
                letter = codec.decode(message.value(), expected=DeadLetter)
                if not select(letter, reason, since):
                    continue
                report.replayed += 1
                report.by_topic[letter.source_topic] = report.by_topic.get(letter.source_topic, 0) + 1
                if dry_run:
                    continue
                headers = [*letter.original_headers.items(), (REPLAYED_FROM_HEADER, letter.event_id.encode())]
                producer.produce(letter.source_topic, letter.original_value, letter.original_key, headers=headers)
                producer.poll(0)
        if producer.flush(timeout):
            raise RuntimeError("not every replayed record was acknowledged by the broker")
    finally:
        consumer.close()
    for line in report.lines():
        progress(line)
    return report
