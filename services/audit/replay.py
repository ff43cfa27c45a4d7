"""Replay: read event topics from the beginning to their end offsets (as of the start) into a store.

What ``casetrail audit rebuild`` and the audit benchmark run. A fresh consumer
group that commits nothing, so a replay never disturbs the live consumer;
records written after the replay started are left to the live consumer.
Decoding (and, into an empty SQLite store, the whole single-write rebuild of
``bulk.py``) can run in worker processes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

from casetrail.settings import KafkaSettings, kafka_settings
from services.audit.consumer import kafka_consumer, topic_names
from services.audit.decoding import rows_from_values
from services.audit.store import AuditStore


@dataclass
class ReplayStats:
    """What a replay read, stored and skipped (by reason), and how long reading and chaining took."""

    records: int = 0
    stored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    chains: int = 0
    seconds_read: float = 0.0
    seconds_chain: float = 0.0
    topics: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.seconds_read + self.seconds_chain


def replay(store: AuditStore, topics: Optional[list[str]] = None, *, kafka: Optional[KafkaSettings] = None,
           workers: int = 0, batch: int = 5000, progress: Optional[Callable[[str], None]] = None) -> ReplayStats:
    """Read ``topics`` from the beginning to their end offsets (as of the start) into ``store``.

    A fresh consumer group that commits nothing, so replays never disturb the
    live consumer. ``workers`` > 0 decodes in that many processes, which then
    also compute the hash chains and summaries. Into an empty SQLite store the
    workers write every row once, finished (``services.audit.bulk``); otherwise
    this process stores the decoded rows and then rechains them.
    """
    from services.audit import bulk as bulk_rebuild
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    kafka = kafka or kafka_settings()
    topics = topics or topic_names()
    pool = None
    if workers > 0:
        import multiprocessing

        # Before the consumer exists: forking a process with librdkafka threads is unsafe. And without
        # open store connections: a worker must not inherit this process's SQLite connection state
        # (with it, a worker's commit in the single-write rebuild can wait forever for a lock).
        store.engine.dispose()
        pool = multiprocessing.get_context("fork").Pool(workers)
    stats = ReplayStats()
    staged = bulk_rebuild.BulkRebuild(store, pool) if bulk_rebuild.usable(store, pool) else None
    # A rebuild into an empty store through this process: index once at the end. (The staged path
    # writes rows in chain order, so its index updates are cheap appends spread over the workers.)
    bulk = staged is None and store.counts()["events"] == 0
    if bulk:
        store.begin_bulk_load()
    consumer = kafka_consumer(kafka, f"casetrail-audit-replay-{uuid.uuid4().hex[:12]}")
    started = time.perf_counter()
    try:
        metadata = consumer.list_topics(timeout=10)
        assignment, ends = [], {}
        for topic in topics:
            info = metadata.topics.get(topic)
            if info is None or info.error is not None:
                if progress:
                    progress(f"topic {topic} does not exist: nothing to replay from it")
                continue
            for partition in info.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                if high > low:
                    ends[(topic, partition)] = high
                    assignment.append(TopicPartition(topic, partition, OFFSET_BEGINNING))
        total = sum(ends.values())
        if progress:
            progress(f"replaying {len(assignment)} partitions of {len(topics)} topics (up to {total} records)")
        if assignment:
            consumer.assign(assignment)
        pending: list = []
        last_report = time.monotonic()
        empty_polls = 0

        def drain(block: bool) -> None:
            while pending and (block or pending[0].ready() or len(pending) > 4):
                rows, skipped = pending.pop(0).get()
                _store(rows, skipped)

        def _store(rows, skipped: dict[str, int]) -> None:
            if isinstance(rows, list):
                store.ingest_rows(rows, rechain=False)
                rows = len(rows)
            stats.stored += rows  # staged: the worker stored them and sent the count
            for reason, n in skipped.items():
                stats.skipped[reason] = stats.skipped.get(reason, 0) + n

        while ends:
            messages = consumer.consume(num_messages=batch, timeout=1.0)
            if not messages:
                empty_polls += 1
                if empty_polls >= 10:  # e.g. a partition ending in control records: trust the position
                    for tp in consumer.position([TopicPartition(t, p) for t, p in ends]):
                        if tp.offset >= ends.get((tp.topic, tp.partition), 0):
                            ends.pop((tp.topic, tp.partition), None)
                    empty_polls = 0
                continue
            empty_polls = 0
            values = []
            for message in messages:
                if message.error():
                    continue
                key = (message.topic(), message.partition())
                end = ends.get(key)
                if end is None or message.offset() >= end:
                    continue  # written after the replay started: the live consumer stores it
                stats.records += 1
                stats.topics[message.topic()] = stats.topics.get(message.topic(), 0) + 1
                if message.value() is not None:
                    values.append(message.value())
                if message.offset() >= end - 1:
                    ends.pop(key)
            if staged is not None:
                pending.append(staged.submit(values))
                drain(block=False)
            elif pool is not None:
                pending.append(pool.apply_async(rows_from_values, (values,)))
                drain(block=False)
            else:
                _store(*rows_from_values(values))
            if progress and time.monotonic() - last_report > 5:
                last_report = time.monotonic()
                progress(f"  read {stats.records}/{total} records")
        drain(block=True)
    except BaseException:
        if pool is not None:
            pool.terminate()
            pool.join()
        if staged is not None:
            staged.discard()
        raise
    finally:
        consumer.close()
        if bulk:  # also after a failure: never leave the store without its indexes
            store.end_bulk_load()
    stats.seconds_read = time.perf_counter() - started
    if progress:
        progress(f"read {stats.records} records in {stats.seconds_read:.1f}s; computing hash chains and summaries")
    started = time.perf_counter()
    chained = (lambda done, n: progress(f"  chained {done}/{n}")) if progress else None
    try:
        if staged is not None:
            # The workers compute each chain from their staging files and write its finished rows.
            stats.chains = staged.finish(chained)
        else:
            # The same worker processes compute the chains; this process writes them.
            stats.chains = store.rechain_all(progress=chained, pool=pool)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    stats.seconds_chain = time.perf_counter() - started
    return stats
