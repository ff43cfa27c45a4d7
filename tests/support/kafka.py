"""Test helpers that talk to the real broker (no mocks of Kafka anywhere)."""

from __future__ import annotations

import time
import uuid
from typing import Iterable, Optional

from confluent_kafka import Consumer, Message, Producer

from casetrail.codec import AvroCodec
from casetrail.settings import kafka_settings
from casetrail.topic_admin import apply_topics
from casetrail.topics import TopicSpec


def create_topics(prefix: str, specs: Iterable[TopicSpec]) -> None:
    apply_topics(list(specs), prefix=prefix)


def producer() -> Producer:
    return Producer(kafka_settings().producer_config(**{"linger.ms": 5}))


def produce_events(topic: str, events, headers: Optional[list] = None, codec: Optional[AvroCodec] = None) -> None:
    codec = codec or AvroCodec()
    p = producer()
    for event in events:
        p.produce(topic, codec.encode(event), key=getattr(event, "conversation_id", None), headers=headers or [])
    assert p.flush(30) == 0, "inputs not acknowledged by the broker"


def produce_raw(topic: str, values: Iterable[bytes], key: bytes = b"raw", headers: Optional[list] = None) -> None:
    p = producer()
    for value in values:
        p.produce(topic, value, key=key, headers=headers or [])
    assert p.flush(30) == 0


def consume(topics: list[str], expected: int, timeout: float = 60.0) -> list[Message]:
    """Read from the beginning until ``expected`` records arrived or ``timeout`` passed."""
    consumer = Consumer({
        **kafka_settings().consumer_config(f"test-{uuid.uuid4().hex[:8]}"),
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe(topics)
    found: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if not message.error():
                    found.append(message)
    finally:
        consumer.close()
    return found


def consume_until_quiet(topics: list[str], quiet: float = 5.0, timeout: float = 120.0) -> list[Message]:
    """Read everything until no record arrived for ``quiet`` seconds."""
    consumer = Consumer({
        **kafka_settings().consumer_config(f"test-{uuid.uuid4().hex[:8]}"),
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe(topics)
    found: list[Message] = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    try:
        while time.monotonic() < deadline and time.monotonic() - last < quiet:
            batch = [m for m in consumer.consume(500, 0.5) if not m.error()]
            if batch:
                found.extend(batch)
                last = time.monotonic()
    finally:
        consumer.close()
    return found
