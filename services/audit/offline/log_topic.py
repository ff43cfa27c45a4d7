"""A generated event log on a topic of its own: produce it fast, delete the topic afterwards.

For the audit benchmark and the audit integration test (not shipped in the image).
"""

from __future__ import annotations

from typing import Callable, Optional

from casetrail.settings import KafkaSettings, kafka_settings


def produce_log(topic: str, records, kafka: Optional[KafkaSettings] = None,
                progress: Optional[Callable[[str], None]] = None) -> int:
    """Produce ``(key, value bytes)`` records as fast as the broker takes them; waits for every ack."""
    from confluent_kafka import Producer

    producer = Producer({**(kafka or kafka_settings()).producer_config(), "acks": "all",
                         "enable.idempotence": True, "linger.ms": 50, "batch.size": 1_000_000,
                         "compression.type": "lz4", "queue.buffering.max.messages": 500_000})
    failures: list = []
    sent = 0
    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value,
                                 on_delivery=lambda err, _m: failures.append(err) if err else None)
                break
            except BufferError:
                producer.poll(0.1)
        sent += 1
        if sent % 10_000 == 0:
            producer.poll(0)
            if progress and sent % 200_000 == 0:
                progress(f"  produced {sent}")
    remaining = producer.flush(120)
    if remaining or failures:
        raise RuntimeError(f"{remaining} records unacknowledged, {len(failures)} failed (first: {failures[:1]})")
    return sent


def delete_topic(topic: str, kafka: Optional[KafkaSettings] = None) -> None:
    from casetrail.topic_admin import admin_client

    admin = admin_client(kafka)  # keep the client alive until the futures resolve
    for future in admin.delete_topics([topic], operation_timeout=30).values():
        future.result()
