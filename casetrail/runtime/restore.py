"""Rebuild a worker's tables from their changelogs when partitions are assigned to it.

Reads each table's changelog partition from the beginning up to its end
(``read_committed``: aborted writes never come back) with a consumer outside
any group, so restoring commits nothing and moves nobody's offsets.

``TableOwnership`` decides what to restore across rebalances: an orderly revoke
keeps the tables until the next assignment says which partitions come back
(nobody else can have written them in between); a lost assignment (the group
session timed out, e.g. while the broker was away) means another worker may
have handled them meanwhile, so the copies are dropped and restored.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from casetrail.runtime.tables import ChangelogTable

if TYPE_CHECKING:
    from casetrail.runtime.service import Service

log = logging.getLogger("casetrail.runtime")
# A restore that reads nothing for this long is stuck (a partition's end never comes): better to stop
# the worker, loudly, than to hold its partitions unready for good.
RESTORE_STALL_SECONDS = 120.0


def restore_partitions(service: "Service", tables: list[ChangelogTable], partitions: set[int]) -> int:
    """Load ``partitions`` of every table from its changelog; returns the records read."""
    started = time.perf_counter()
    consumer = Consumer({**service.kafka_client_config(), "group.id": f"{service.app_id}-restore",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "isolation.level": "read_committed"}, logger=log)
    by_topic = {table.changelog_topic: table for table in tables}
    wanted: list[TopicPartition] = []
    for topic in by_topic:
        for partition in sorted(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
            if high > low:
                wanted.append(TopicPartition(topic, partition, OFFSET_BEGINNING))
    remaining = {(tp.topic, tp.partition) for tp in wanted}
    read = 0
    last_progress = time.monotonic()
    try:
        if wanted:
            consumer.assign(wanted)
        while remaining:
            if time.monotonic() - last_progress > RESTORE_STALL_SECONDS:
                # raised inside the rebalance callback: the worker stops and its supervisor starts it again
                raise RuntimeError(f"changelog restore made no progress for {RESTORE_STALL_SECONDS:.0f}s; "
                                   f"not at the end of: {sorted(f'{t}:{p}' for t, p in remaining)}")
            for message in consumer.consume(1000, 1.0):
                last_progress = time.monotonic()
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        remaining.discard((message.topic(), message.partition()))
                        continue
                    raise RuntimeError(f"changelog restore failed: {error.str()}")
                by_topic[message.topic()].load(message.partition(), message.key(), message.value())
                read += 1
    finally:
        consumer.close()
    log.info("tables restored", extra={"partitions": sorted(partitions), "records": read,
                                       "seconds": round(time.perf_counter() - started, 3)})
    return read


class TableOwnership:
    """The partitions whose table state a worker holds, kept across an orderly revoke."""

    def __init__(self, service: "Service"):
        self.service = service
        self.held: set[int] = set()

    def assigned(self, partitions: set[int]) -> set[int]:
        """Drop what moved away, restore what is new; returns the partitions restored."""
        tables = list(self.service.tables.values())
        fresh = partitions - self.held
        stale = self.held - partitions
        for table in tables:
            table.drop(stale | fresh)  # a fresh partition starts empty: its changelog is the truth
        if fresh and tables:
            restore_partitions(self.service, tables, fresh)
        self.held = set(partitions)
        return fresh

    def lost(self) -> None:
        """The copies may be stale: forget them (the next assignment restores them)."""
        for table in self.service.tables.values():
            table.drop(self.held)
        self.held = set()
