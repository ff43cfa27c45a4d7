"""The worker loop: poll a batch, handle each record, commit it all in one transaction.

For a batch of records the worker

1. decodes each record (undecodable bytes become a dead letter with the reason),
2. continues the record's W3C trace and calls the handler; a ``RetryableError``
   is retried with jittered exponential back-off (tenacity) up to the budget,
   then dead-lettered as ``retries_exhausted``; any other exception
   dead-letters the record as ``unprocessable``,
3. produces the outputs and dead letters into the worker's open transaction,
4. writes the tables' changed keys to their changelogs in the same transaction,
5. sends the batch's next offsets with the consumer's group metadata and
   commits (``TransactionalProducer.commit``).

When a transaction aborts (a record the broker refused, a fenced generation, a
transaction timeout after an outage) the tables are rolled back and the batch
is handled again one record per transaction; a record whose own transaction
fails with a permanent produce error (too large, unknown topic) is
dead-lettered with that reason in a transaction of its own. Nothing is
committed past a record whose outputs were not acknowledged, and nothing that
was aborted is visible to ``read_committed`` consumers, so the pipeline never
skips a record and never shows one twice.

Before a batch is handled, the entries of customers erased since (or found in partitions just
restored) are deleted and tombstoned in a transaction of their own (``casetrail.runtime.erasure``).

Over 400 lines: the loop, its transactions and every path by which one aborts are one piece
of reasoning (what is committed with what), kept in one place on purpose.

Polling happens in a helper thread (so the loop stays free for ``task``
coroutines); changelog restore on assignment runs in that thread too, inside
``consume``, while the loop is waiting for it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Mapping, Optional

from confluent_kafka import Consumer, KafkaException, TopicPartition
from opentelemetry.trace import SpanKind, Status, StatusCode
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from casetrail.codec import DecodeError
from casetrail.privacy.keystore import KeyStoreBusy
from casetrail.runtime import metrics
from casetrail.runtime.after_commit import AfterCommit
from casetrail.runtime.consumer_errors import usable
from casetrail.runtime.contract import NotYetDue, Output, Processor, RecordContext, RetryableError
from casetrail.runtime.dead_letters import record_owner, send_dead_letters
from casetrail.runtime.erasure import TableSweeper, sweeper_for
from casetrail.runtime.failure import failure_site
from casetrail.runtime.holds import PartitionHolds
from casetrail.runtime.polling import Linger, ready_records
from casetrail.runtime.restore import TableOwnership
from casetrail.runtime.ticks import run_due_timers
from casetrail.runtime.tracing import extract_context, headers_to_dict
from casetrail.runtime.transactions import CommitOutcome, OutputRefused, TransactionalProducer

if TYPE_CHECKING:
    from casetrail.runtime.service import Service

log = logging.getLogger("casetrail.runtime")


class Worker:
    """One process's consumer, transactional producer and tables for a ``Service``."""

    def __init__(self, service: "Service"):
        self.service = service
        self.processors: dict[str, Processor] = {service.topic_name(p.source): p for p in service.processors}
        self.consumer: Optional[Consumer] = None
        self.producer: Optional[TransactionalProducer] = None
        self.assigned: set[tuple[str, int]] = set()
        self.restoring = False
        self.started = False
        self.heartbeat = time.monotonic()
        self.ownership = TableOwnership(service)  # which partitions' table state is loaded
        self._poll_thread = ThreadPoolExecutor(1, thread_name_prefix="casetrail-poll")
        self._failures = 0  # consecutive aborted batches (back-off)
        self.holds = PartitionHolds()  # partitions paused at a record that is not due yet
        self.in_tick = False  # a timer is running: what it produces joins the tick's transaction
        self.current_record: Optional[RecordContext] = None  # the record whose handler is running
        self.after_commit = AfterCommit()  # run when the open transaction commits, dropped when it aborts
        self.erasures: Optional[TableSweeper] = None  # deletes erased customers' table entries

    # -- lifecycle ---------------------------------------------------------------------
    def open(self) -> None:
        service = self.service
        self.producer = TransactionalProducer(service.producer_config(), self._committed,
                                              operation_timeout=service.config.transaction_timeout_ms / 1000)
        if self.processors:
            self.consumer = Consumer(service.consumer_config(), logger=log)
            self.consumer.subscribe(list(self.processors), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                    on_lost=self._on_lost)
            self.erasures = sweeper_for(service)  # has read every erasure so far
        self.started = True

    def close(self) -> None:
        try:
            if self.producer is not None:
                self.producer.close()
        except Exception as exc:  # a fenced or failed producer has nothing left to flush
            log.warning("producer closed with an error", extra={"error": type(exc).__name__})
        if self.consumer is not None:
            self.consumer.close()  # leaves the group: the partitions move at once
        if self.erasures is not None:
            self.erasures.close()
        self._poll_thread.shutdown(wait=False)

    # -- assignment (called inside consume, in the poll thread) -------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.restoring = True
        try:
            fresh = self.ownership.assigned({tp.partition for tp in partitions})
            self.assigned = {(tp.topic, tp.partition) for tp in partitions}
            if fresh and self.erasures is not None:
                self.erasures.restored()  # swept before the next record is handled
            log.info("partitions assigned", extra={"partitions": sorted(f"{t}:{p}" for t, p in self.assigned),
                                                   "restored": sorted(fresh)})
        finally:
            self.restoring = False

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # The loop never holds an open transaction across consume(), so nothing is in flight here.
        # The tables are kept (TableOwnership) until the next assignment says what comes back.
        self.assigned = set()
        self.holds.clear()  # a partition that comes back starts unpaused; its held record comes again

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("partitions lost (group session timed out); tables will be restored on the next assignment",
                    extra={"partitions": sorted(f"{t}:{p}" for t, p in self.assigned)})
        self.ownership.lost()
        self._on_revoke(consumer, partitions)

    def owned_partitions(self, topic: str) -> set[int]:
        return {p for t, p in self.assigned if t == topic}

    # -- the loop ---------------------------------------------------------------------------
    async def run(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        config = self.service.config
        reader = self.service.broadcast_reader
        idle = config.poll_timeout_ms / 1000 if reader is not None else 1.0
        linger = Linger(config.poll_linger_ms / 1000)
        while not stopping.is_set():
            self.heartbeat = time.monotonic()
            await run_due_timers(self)
            if reader is not None:
                await reader.handle_new()
            if self.consumer is None:
                await asyncio.wait([asyncio.ensure_future(stopping.wait())], timeout=self.service.next_timer_in(idle))
                continue
            self._release_due_holds()
            wait = min(config.poll_timeout_ms / 1000, self.service.next_timer_in(1.0), self.holds.seconds_to_next(1.0))
            messages = await loop.run_in_executor(self._poll_thread, ready_records, self.consumer,
                                                  config.max_poll_records, wait, linger)
            records = [m for m in messages if usable(m, "consumer")]
            if not await self._erasures_swept(records):
                continue
            if records:
                await self.process_batch(records)
            else:
                self.producer.poll()

    def _release_due_holds(self) -> None:
        due = self.holds.due()
        if due:
            try:
                self.consumer.resume([TopicPartition(topic, partition) for topic, partition in due])
            except KafkaException:
                pass  # no longer assigned

    def _hold(self, record, due: float) -> None:
        """Pause the record's partition at the record until ``due`` (its later records wait too)."""
        topic, partition, offset = record.topic(), record.partition(), record.offset()
        self.holds.hold(topic, partition, offset, due)
        try:
            self.consumer.pause([TopicPartition(topic, partition)])
            self.consumer.seek(TopicPartition(topic, partition, offset))  # also drops what was fetched past it
        except KafkaException:
            pass  # no longer assigned: the new owner starts from the committed offset

    async def _erasures_swept(self, records: list) -> bool:
        """Erased customers' entries deleted and tombstoned (their own transaction) before the records are
        handled; when that aborts, the records are fetched again (``casetrail.runtime.erasure``)."""
        if self.erasures is None or self.erasures.swept(lambda: self.commit([])):
            return True
        if records:
            await self._rewind(records, "erasure sweep aborted")
        return False

    # -- batches and transactions ------------------------------------------------------------
    async def process_batch(self, records: list) -> None:
        outcome = await self._transaction(records)
        if outcome.committed:
            self._failures = 0
            return
        if outcome.permanent_error is None:
            await self._rewind(records, outcome.abort_reason)
            return
        log.warning("batch aborted by a refused output; handling its records one transaction each",
                    extra={"records": len(records), "reason": outcome.abort_reason})
        for index, record in enumerate(records):
            outcome = await self._isolated(record)
            if not outcome.committed:
                await self._rewind(records[index:], outcome.abort_reason)
                return
        self._failures = 0

    async def _isolated(self, record) -> CommitOutcome:
        """One record in its own transaction; dead-lettered with the reason if an output is refused for good."""
        outcome = await self._transaction([record])
        permanent = outcome.permanent_error
        if outcome.committed or permanent is None:
            return outcome
        ctx = self._context(record)
        ctx.dead_letter("output_unproducible", f"an output of this record was refused: {permanent.name()}",
                        permanent.name())
        try:
            send_dead_letters(ctx, self.service)
        except KeyStoreBusy as busy:
            return self._key_store_away(busy)
        self.after_commit.extend(ctx._after_commit)
        return self.commit(self._offsets_of([record]))

    def _key_store_away(self, busy: KeyStoreBusy) -> CommitOutcome:
        """A dead letter could not be sealed: nothing raw is written; the records are fetched again."""
        log.warning("key store unavailable while sealing a dead letter", extra={"error": str(busy)[:200]})
        return self.abort("key_store_unavailable")

    async def _rewind(self, records: list, reason: Optional[str]) -> None:
        """A transient abort (outage, timeout, lost membership): fetch the records again from the first
        one not committed, after a back-off. Polling also lets a consumer that lost its group membership
        rejoin; partitions that moved are handled by their new owner from the committed offsets."""
        first: dict[tuple[str, int], int] = {}
        for record in records:
            first.setdefault((record.topic(), record.partition()), record.offset())
        for (topic, partition), offset in first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException:
                pass  # no longer assigned
        self._failures += 1
        pause = min(30.0, 0.25 * 2 ** min(self._failures, 7))
        log.warning("batch aborted; fetching it again", extra={"records": len(records), "reason": reason,
                                                               "retry_in_s": pause})
        await asyncio.sleep(pause)

    async def _transaction(self, records: list) -> CommitOutcome:
        handled = []
        try:
            for record in records:
                if (record.topic(), record.partition()) in self.holds:
                    continue  # behind a record that is not due: fetched again when the partition resumes
                try:
                    await self._process(record)
                except NotYetDue as not_due:
                    self._hold(record, not_due.due)
                    continue
                handled.append(record)
        except OutputRefused as refused:
            return self._refused(refused)
        except KeyStoreBusy as busy:
            return self._key_store_away(busy)
        return self.commit(self._offsets_of(handled))

    def _refused(self, refused: OutputRefused) -> CommitOutcome:
        # Often _STATE: an earlier output of this transaction was refused by the broker and the
        # transaction can take no more. That earlier delivery error (e.g. MSG_SIZE_TOO_LARGE) is
        # what says whether to isolate the records, so it is kept beside the refusal.
        aborted = self.abort(refused.error.name())
        return CommitOutcome(False, [*aborted.delivery_errors, refused.error], refused.error.name())

    def _offsets_of(self, records: list) -> list[TopicPartition]:
        last: dict[tuple[str, int], int] = {}
        for record in records:
            last[(record.topic(), record.partition())] = record.offset()
        return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()]

    def commit(self, offsets: list[TopicPartition], group_metadata=None) -> CommitOutcome:
        try:
            for table in self.service.tables.values():
                for partition, key, value in table.pending_changes():
                    self.producer.produce(table.changelog_topic, value, key, partition=partition)
        except OutputRefused as refused:  # the transaction failed already (an output refused meanwhile)
            return self._refused(refused)
        metadata = group_metadata or (self.consumer.consumer_group_metadata() if offsets else None)
        outcome = self.producer.commit(offsets, metadata)
        for table in self.service.tables.values():
            table.accept() if outcome.committed else table.roll_back()
        self.after_commit.committed() if outcome.committed else self.after_commit.dropped()
        return outcome

    def abort(self, reason: str) -> CommitOutcome:
        outcome = self.producer.abort(reason)
        for table in self.service.tables.values():
            table.roll_back()
        self.after_commit.dropped()
        return outcome

    # -- one record --------------------------------------------------------------------------
    def _context(self, record) -> RecordContext:
        timestamp_type, timestamp = record.timestamp()
        return RecordContext(
            service=self.service, topic=record.topic(), partition=record.partition(), offset=record.offset(),
            key=record.key(), value=record.value(), headers=headers_to_dict(record.headers()),
            timestamp=timestamp / 1000 if timestamp_type else None,
        )

    async def _process(self, record) -> None:
        service = self.service
        topic = record.topic()
        processor = self.processors[topic]
        ctx = self._context(record)
        service.series(metrics.EVENTS_IN, topic).inc()
        started = time.perf_counter()
        with service.tracer.start_as_current_span(
            f"process {topic}", context=extract_context(ctx.headers), kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.name": topic,
                "messaging.destination.partition.id": str(ctx.partition),
                "messaging.kafka.offset": ctx.offset,
                "messaging.consumer.group.name": service.app_id,
                "casetrail.service": service.name,
            },
        ) as span:
            service.current_partition, self.current_record = ctx.partition, ctx
            try:
                outputs = await self._run_handler(processor, ctx, span)
            finally:
                service.current_partition, self.current_record = None, None
            for output in outputs:
                service.send(output)
            send_dead_letters(ctx, self.service)
            self.after_commit.extend(ctx._after_commit)  # the record's effects wait for the batch's commit
        service.series(metrics.PROCESSING_SECONDS, topic).observe(time.perf_counter() - started)

    async def _run_handler(self, processor: Processor, ctx: RecordContext, span) -> list[Output]:
        service = self.service
        if processor.input_type is None:
            payload: Any = ctx.value
        else:
            try:
                payload = service.codec.decode(ctx.value or b"", expected=processor.input_type)
            except DecodeError as exc:
                span.set_status(Status(StatusCode.ERROR, exc.reason_code))
                ctx.dead_letter(exc.reason_code, str(exc), type(exc).__name__)
                return []
            ctx.owned_by(*record_owner(payload))
        config = service.config
        try:
            try:  # the common case without building a retry loop per record
                return await self._call(processor, payload, ctx)
            except RetryableError as first:
                if config.retry_attempts <= 1:
                    raise
                self._retrying(ctx, 1, first)
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(RetryableError),
                stop=stop_after_attempt(config.retry_attempts - 1),
                wait=wait_random_exponential(multiplier=config.retry_initial_seconds, max=config.retry_max_seconds),
                before_sleep=lambda state: self._retrying(ctx, state.attempt_number + 1, state.outcome.exception()),
                reraise=True,
            ):
                with attempt:
                    return await self._call(processor, payload, ctx)
        except NotYetDue:
            raise
        except RetryableError as exc:
            span.set_status(Status(StatusCode.ERROR, "retries_exhausted"))
            log.error("transient failure outlasted the retries; dead-lettered for replay",
                      extra={"topic": ctx.topic, "partition": ctx.partition, "offset": ctx.offset,
                             "error": type(exc).__name__, "attempts": config.retry_attempts})
            ctx.dead_letter("retries_exhausted", f"{type(exc).__name__} after {config.retry_attempts} attempts",
                            type(exc).__name__)
        except Exception as exc:  # unprocessable: dead-letter it and keep consuming
            site = failure_site(exc)
            span.record_exception(exc, attributes={"exception.message": type(exc).__name__})
            span.set_status(Status(StatusCode.ERROR, "unprocessable"))
            log.error("unprocessable record dead-lettered",
                      extra={"topic": ctx.topic, "partition": ctx.partition, "offset": ctx.offset,
                             "error": type(exc).__name__, "site": site})
            ctx.dead_letter("unprocessable", f"{type(exc).__name__} at {site}", type(exc).__name__)
        return []

    @staticmethod
    async def _call(processor: Processor, payload: Any, ctx: RecordContext) -> list[Output]:
        registered = len(ctx._after_commit)
        try:
            result = processor.handler(payload, ctx)
            if inspect.isawaitable(result):
                result = await result
            return list(result or [])
        except BaseException:  # nothing of a failed attempt is sent, so nothing of it is counted
            del ctx._after_commit[registered:]
            raise

    def _retrying(self, ctx: RecordContext, attempt: int, error: Optional[BaseException]) -> None:
        service = self.service
        metrics.RETRIES.labels(service.name, ctx.topic).inc()
        metrics.EVENTS_FAILED.labels(service.name, ctx.topic, "retryable").inc()
        log.warning("transient failure, retrying",
                    extra={"topic": ctx.topic, "partition": ctx.partition, "offset": ctx.offset,
                           "attempt": attempt, "error": type(error).__name__ if error else None})

    def _committed(self, written: Mapping[str, int]) -> None:
        """A transaction committed with ``written`` records per topic: now they are visible, count them."""
        for topic, count in written.items():
            self.service.series(metrics.EVENTS_OUT, topic).inc(count)
