"""The durable side of ``ledger.AttemptWindow``: marks on ``deliveries.attempts.v1``.

A mark is written and acknowledged (``acks=all``) *before* the first platform
call it covers, with a plain idempotent producer of its own: it must survive a
crash even when the runtime's own produce is transactional and aborted. The
topic is compacted (one key per source topic-partition) and read to its end
whenever a worker (re)takes a partition.

When the cluster is away the journal can be neither read nor written; that is a
transient fault of the record being delivered, not a fault of the record: it raises
``JournalUnavailable`` (a ``RetryableError``), so the runtime retries the record with
back-off and, past its budget, dead-letters it as ``retries_exhausted`` for replay —
never as ``unprocessable``. A platform call is never made without its mark.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Optional

from casetrail.runtime import RetryableError
from casetrail.settings import KafkaSettings


class JournalUnavailable(RetryableError):
    """The attempts topic could not be read or written (the cluster away): try the record again."""


class AttemptJournal:
    def __init__(self, kafka: KafkaSettings, topic: str):
        from confluent_kafka import Consumer, Producer, TopicPartition

        self.topic = topic
        self._producer = Producer(kafka.producer_config(**{
            "client.id": f"{kafka.client_id_prefix}-delivery-attempts", "linger.ms": 0}))
        self._consumer = Consumer(kafka.consumer_config(f"{topic}-reader", **{
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "client.id": f"{kafka.client_id_prefix}-delivery-attempts-reader"}))
        self._consumer.assign([TopicPartition(topic, 0, 0)])
        self._partition = TopicPartition(topic, 0)
        self._marks: dict[str, int] = {}
        self._lock = threading.Lock()

    def _read_to_end(self) -> None:
        low, high = self._consumer.get_watermark_offsets(self._partition, timeout=10)
        while True:
            position = self._consumer.position([self._partition])[0].offset
            if position < 0:  # nothing fetched yet: we are at the start of what the topic keeps
                position = low
            if position >= high:
                return
            message = self._consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                continue
            self._marks[message.key().decode()] = int(message.value())

    def mark(self, partition_key: str) -> Optional[int]:
        from confluent_kafka import KafkaException

        with self._lock:
            try:
                self._read_to_end()
            except KafkaException as exc:
                raise JournalUnavailable(f"attempt marks of {self.topic} unreadable: {exc.args[0]}") from None
            return self._marks.get(partition_key)

    def write(self, partition_key: str, mark: int) -> None:
        from confluent_kafka import KafkaException

        errors: list = []
        with self._lock:
            try:
                self._producer.produce(self.topic, key=partition_key.encode(), value=str(mark).encode(),
                                       on_delivery=lambda err, msg: errors.append(err) if err else None)
            except (KafkaException, BufferError) as exc:
                raise JournalUnavailable(f"attempt mark for {partition_key} refused: {exc}") from None
            remaining = self._producer.flush(30)
        if remaining or errors:
            raise JournalUnavailable(f"attempt mark for {partition_key} not acknowledged: {errors or 'timeout'}")
        self._marks[partition_key] = mark

    async def amark(self, partition_key: str) -> Optional[int]:
        return await asyncio.to_thread(self.mark, partition_key)

    async def awrite(self, partition_key: str, mark: int) -> None:
        await asyncio.to_thread(self.write, partition_key, mark)

    def close(self) -> None:
        self._consumer.close()
        self._producer.flush(10)
