"""The live consumer of every event topic: store a batch, then commit its offsets.

Why a dedicated confluent-kafka consumer instead of one runtime processor per
topic: audit reads *every* topic, never produces derived events, and stores
in batches (one transaction and one rechain per batch, which is what makes it
keep up with the whole pipeline), then commits the batch's offsets — the same
at-least-once contract as the runtime (store first, commit after), with
deduplication by event id making redelivery harmless. A commit the broker
refuses for a passing reason is retried with the next batch or idle poll.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Optional

from casetrail.settings import KafkaSettings, kafka_settings
from casetrail.topic_admin import prefixed, resolved_name
from casetrail.topics import EVENT_TOPICS, INTAKE
from services.audit import metrics
from services.audit.decoding import rows_from_values
from services.audit.store import AuditStore

log = logging.getLogger("casetrail.audit")

GROUP = "casetrail-audit"  # without the topic prefix; the chart's ACLs add it (casetrail_tools/kafka_access.py)


def consumer_group(prefix: Optional[str] = None) -> str:
    """The live consumer's group on the cluster: the topic prefix + ``casetrail-audit``."""
    return prefixed(GROUP, prefix)


def topic_names(prefix: Optional[str] = None) -> list[str]:
    """Every event topic audit folds (all of ``casetrail.topics.EVENT_TOPICS``)."""
    return [resolved_name(spec, prefix) for spec in EVENT_TOPICS]


def kafka_consumer(kafka: KafkaSettings, group_id: str, **extra: str):
    """A confluent-kafka consumer of audit's kind: manual commits, from the earliest offset."""
    from confluent_kafka import Consumer

    return Consumer({
        **kafka.librdkafka_config(),
        "group.id": group_id,
        "client.id": f"{kafka.client_id_prefix}-audit",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        "isolation.level": "read_committed",  # aborted transactions never reach the audit store
        **extra,
    })


def _count_skips(topic: str, skipped: dict[str, int]) -> None:
    for reason, n in skipped.items():
        # Raw intake payloads (JSON / RFC 5322 with a casetrail-source header)
        # are not Avro by design: ingest turns them into events audit does store.
        label = "raw_intake" if topic.endswith(INTAKE.name) and reason == "not_avro" else reason
        metrics.RECORDS_SKIPPED.labels(label).inc(n)


def _transient_commit_errors() -> frozenset[int]:
    from confluent_kafka import KafkaError

    # The group coordinator moved or is loading (a broker restart), the group is
    # rebalancing, or the broker did not answer in time: the batch is stored, and
    # a later commit (or, after a restart, a redelivery the store deduplicates by
    # event id) covers it.
    return frozenset((
        KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.REQUEST_TIMED_OUT, KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN,
        KafkaError._WAIT_COORD,
    ))


def _commit(consumer) -> bool:
    """Commit the consumer's positions; False (logged, counted) when the broker refused for a passing reason."""
    from confluent_kafka import KafkaError, KafkaException

    try:
        consumer.commit(asynchronous=False)
        return True
    except KafkaException as exc:
        error = exc.args[0]
        if error.code() == KafkaError._NO_OFFSET:
            return True  # nothing new to commit
        if not (error.retriable() or error.code() in _transient_commit_errors()):
            raise
        metrics.COMMIT_FAILURES.labels(error.name()).inc()
        log.warning("offset commit failed; retrying with the next batch (stored records are deduplicated on redelivery)",
                    extra={"error": error.name(), "reason": error.str()})
        return False


class AuditConsumer:
    """Consume every event topic, store each batch, then commit it."""

    def __init__(self, store: AuditStore, *, topics: Optional[list[str]] = None, group_id: Optional[str] = None,
                 kafka: Optional[KafkaSettings] = None, batch_size: int = 1000):
        self.store = store
        self.topics = topics or topic_names()
        self.group_id = group_id or consumer_group()
        self.kafka = kafka or kafka_settings()
        self.batch_size = batch_size
        self._stop = threading.Event()
        self.assigned = threading.Event()  # set once the group gave this consumer its partitions

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, idle_stop_seconds: Optional[float] = None) -> int:
        """Consume until ``stop()`` (or ``idle_stop_seconds`` without records); returns records stored."""
        from casetrail.runtime.consumer_errors import usable

        consumer = kafka_consumer(self.kafka, self.group_id)
        consumer.subscribe(self.topics, on_assign=lambda _consumer, _partitions: self.assigned.set())
        stored = 0
        uncommitted = False
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                messages = consumer.consume(num_messages=self.batch_size, timeout=0.5)
                values_by_topic: dict[str, list[bytes]] = {}
                for message in messages:
                    if not usable(message, "audit consumer"):  # a fatal error stops the service (exit 1: restarted)
                        continue
                    if message.value() is None:
                        continue
                    values_by_topic.setdefault(message.topic(), []).append(message.value())
                if not values_by_topic:
                    if uncommitted:  # a commit failed while the broker was away: retry once it answers
                        uncommitted = not _commit(consumer)
                    if idle_stop_seconds is not None and time.monotonic() - idle_since > idle_stop_seconds:
                        break
                    continue
                idle_since = time.monotonic()
                started = time.perf_counter()
                rows = []
                for topic, values in values_by_topic.items():
                    topic_rows, skipped = rows_from_values(values)
                    rows += topic_rows
                    if skipped:
                        _count_skips(topic, skipped)
                        log.warning("records not stored", extra={"topic": topic, "skipped": skipped})
                self.store.ingest_rows(rows, rechain=True)
                uncommitted = not _commit(consumer)
                metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
                for row in rows:
                    metrics.RECORDS_STORED.labels(row["stage"]).inc()
                stored += len(rows)
        finally:
            consumer.close()
        return stored
