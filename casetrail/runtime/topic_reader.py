"""Reading whole topics outside the consumer group: every partition assigned, no group membership, no
commits, ``read_committed``, from each partition's beginning or from its end.

A topic consumed in the group gives each record to one worker; some topics every worker must read whole.
Two readers in the runtime are this one reader with a different start:

* the broadcast topics (``broadcast.py``, ``Service.broadcast``): news every worker must hear, read from
  the **end** as it was before the service's warm-ups ran (a warm-up loads the current state; what is
  published after that is heard);
* the erasure topic (``erasure.py``): the set of erased customers, rebuilt at every start, so read from
  the **beginning**, and up to its current end before the first table is swept (``to_end``).

Partitions added to a topic later are read after the next restart.
"""

from __future__ import annotations

import enum
import logging
import time
from typing import Iterable, Iterator, Optional

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from casetrail.runtime.consumer_errors import usable

log = logging.getLogger("casetrail.runtime")

METADATA_TIMEOUT_SECONDS = 30.0
CATCH_UP_STALL_SECONDS = 120.0  # reading to the end made no progress for this long: stop
TO_END_BATCH = 500


class StartAt(str, enum.Enum):
    """Where a reader starts in each partition."""

    beginning = "beginning"  # every record the topic still holds
    end = "end"  # only what is written after ``assign``


class WholeTopicReader:
    """Every partition of ``topics``, read from ``start`` outside any consumer group."""

    def __init__(self, consumer_config: dict, topics: Iterable[str], start: StartAt, *,
                 consumer: Optional[Consumer] = None):
        self.topics = list(topics)
        self.start = start
        self.assigned = False
        self._source = f"reader of {', '.join(self.topics)}"  # in its errors and warnings
        # no commits (a reader starts at its start position every time), only committed records, and an
        # end-of-partition event so that ``to_end`` knows when it has read everything
        self._consumer = consumer if consumer is not None else Consumer(
            {**consumer_config, "enable.auto.commit": False, "enable.partition.eof": True,
             "isolation.level": "read_committed",
             "auto.offset.reset": "earliest" if start is StartAt.beginning else "latest"}, logger=log)

    def assign(self) -> dict[str, str]:
        """Assign every partition of every topic at the start position. Returns the topics that cannot be
        read (not there yet, or an error) with the reason; then nothing is assigned."""
        consumer = self._consumer
        unreadable: dict[str, str] = {}
        start: list[TopicPartition] = []
        for topic in self.topics:
            found = consumer.list_topics(topic, timeout=METADATA_TIMEOUT_SECONDS).topics.get(topic)
            if found is None or found.error is not None or not found.partitions:
                unreadable[topic] = found.error.str() if found is not None and found.error is not None else "no partitions"
                continue
            for partition in sorted(found.partitions):
                start.append(TopicPartition(topic, partition, self._start_offset(topic, partition)))
        if unreadable:
            return unreadable
        consumer.assign(start)
        self.assigned = True
        log.info("topics read whole", extra={"start": self.start.value,
                                             "from": sorted(f"{tp.topic}:{tp.partition}@{tp.offset}" for tp in start)})
        return {}

    def _start_offset(self, topic: str, partition: int) -> int:
        if self.start is StartAt.beginning:
            return OFFSET_BEGINNING
        _, end = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=METADATA_TIMEOUT_SECONDS)
        return end

    def take(self, max_records: int, timeout: float = 0) -> list[Message]:
        """The records that arrived since the last call (waits at most ``timeout``; 0: never)."""
        return [message for message in self._consumer.consume(max_records, timeout) if usable(message, self._source)]

    def to_end(self) -> Iterator[Message]:
        """Every record up to the end of each partition as it is now (an empty partition has nothing to read)."""
        consumer = self._consumer
        remaining = set()
        for tp in consumer.assignment():
            low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                       timeout=METADATA_TIMEOUT_SECONDS)
            if high > low:  # an empty partition never reports its end
                remaining.add((tp.topic, tp.partition))
        last_progress = time.monotonic()
        while remaining:
            if time.monotonic() - last_progress > CATCH_UP_STALL_SECONDS:
                raise RuntimeError(f"reading {', '.join(self.topics)} made no progress for {CATCH_UP_STALL_SECONDS:.0f}s")
            for message in consumer.consume(TO_END_BATCH, 1.0):
                last_progress = time.monotonic()
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard((message.topic(), message.partition()))
                elif usable(message, self._source):
                    yield message

    def close(self) -> None:
        self._consumer.close()
