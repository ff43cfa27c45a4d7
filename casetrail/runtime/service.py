"""The service runtime every casetrail service runs on (confluent-kafka with Kafka transactions).

A service registers processors (one source topic each, an input event type and
a handler that returns the events to emit), broadcast handlers (a topic every
worker reads whole), tables, timers and warm-up steps; ``run()`` warms up,
starts the health server and runs a ``Worker`` until SIGTERM.

Guarantee (docs/runtime.md, docs/reliability.md): for every input record, its
outputs, its dead letters, its table changes and its offset are committed in one
Kafka transaction (KIP-447: the consumer's group metadata is sent with the
offsets), and every consumer reads ``read_committed``. A record is therefore
processed to visible effect exactly once per committed offset; a crash, an
outage or a refused output aborts the transaction and the record is handled
again (or dead-lettered with the reason), never skipped and never shown twice.
Effects outside Kafka (a delivery to a ticketing system) stay at-least-once and
are made idempotent by the deterministic ids of ``casetrail.events.identity``.

SIGTERM stops gracefully: the batch in hand is committed, the consumer leaves
its group; a restart resumes from the committed offsets with the tables
restored from their changelogs.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import signal
import socket
import time
from typing import Any, Awaitable, Callable, Optional

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from casetrail import __version__
from casetrail.codec import AvroCodec
from casetrail.events import ProducerInfo
from casetrail.events.envelope import AvroRecord
from casetrail.runtime import metrics
from casetrail.runtime.contract import (
    Broadcast, BroadcastHandler, Handler, Output, Processor, RecordContext, RetryableError, Timer,
)
from casetrail.runtime.health import HealthServer
from casetrail.partitioning import PRODUCER_PARTITIONER
from casetrail.runtime.structured_logging import configure_logging
from casetrail.runtime.tables import ChangelogTable
from casetrail.runtime.tracing import configure_tracing, inject_headers
from casetrail.settings import CasetrailSettings, KafkaSettings, kafka_settings, settings
from casetrail.topic_admin import apply_topics, prefixed, resolved_name
from casetrail.topics import ALL_TOPICS, TopicSpec, changelog

__all__ = ["DEFAULT_PORTS", "Output", "RecordContext", "RetryableError", "Service"]

log = logging.getLogger("casetrail.runtime")

DEFAULT_PORTS = {"ingest": 8101, "triage": 8102, "drafter": 8103, "verifier": 8104, "router": 8105, "audit": 8106,
                 "delivery": 8108, "review": 8110}
EVENT_TYPE_HEADER = "casetrail-event-type"
# A transaction begun right after the previous one committed finds the coordinator still writing that
# commit's markers, and AddOffsetsToTxn is answered CONCURRENT_TRANSACTIONS; librdkafka retries it
# after retry.backoff.ms, by default 100 ms doubling up to 1 s (AddPartitionsToTxn retries after a
# fixed 20 ms, as the Java client does since KAFKA-5477). On a busy broker (its first seconds under a
# new load) the markers take 100-300 ms, so batches waited 300-700 ms in send_offsets_to_transaction and
# every hop's records stayed invisible to read_committed consumers meanwhile. 20 ms doubling up to
# 250 ms retries soon after the markers are written (docs/benchmarks.md, "Session 10: the first minute").
TRANSACTION_RETRY_BACKOFF_MS = 20
TRANSACTION_RETRY_BACKOFF_MAX_MS = 250
MAX_RECORD_BYTES = 8 * 1024 * 1024  # dead letters carry the original bytes (intake allows 4 MiB)


class Service:
    """One casetrail service: processors, tables, timers and the worker that runs them."""

    def __init__(self, name: str, version: str = __version__, *, config: Optional[CasetrailSettings] = None,
                 kafka: Optional[KafkaSettings] = None):
        self.name = name
        self.version = version
        self.config = config or settings()
        self.kafka = kafka or kafka_settings()
        self.producer_info = ProducerInfo(service=name, version=version)
        self.codec = AvroCodec(self.config.schema_registry_url, self.config.registry_config())
        self.processors: list[Processor] = []
        self.broadcasts: list[Broadcast] = []
        self.tables: dict[str, ChangelogTable] = {}
        self.timers: list[Timer] = []
        self.tracer = trace.get_tracer(f"casetrail.{name}", version)
        self.current_partition: Optional[int] = None
        self._metric_children: dict[tuple[int, str], Any] = {}
        self._warm_ups: list[Callable[[], None]] = []
        self._tasks: list[Callable[[], Awaitable[None]]] = []
        self._warm = False
        self._worker = None
        self.broadcast_reader = None  # opened in run(), before the warm-ups (runtime/broadcast.py)
        self._keystore = None
        # the tenant of a dead-lettered record that names none (ingest sets CASETRAIL_DEFAULT_TENANT's)
        self.default_tenant = "default"

    @property
    def keystore(self):
        """The key store dead letters are sealed with (``default_keystore``: shared, master key required
        outside development); opened on first use."""
        if self._keystore is None:
            from casetrail.privacy.keystore import default_keystore

            self._keystore = default_keystore(self.config)
        return self._keystore

    @keystore.setter
    def keystore(self, store) -> None:
        self._keystore = store

    # -- registration -----------------------------------------------------------------
    def processor(self, source: TopicSpec, input_type: Optional[type[AvroRecord]] = None, *,
                  concurrency: int = 1) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.processors.append(Processor(source, input_type, handler, concurrency))
            return handler

        return register

    def broadcast(self, source: TopicSpec,
                  input_type: Optional[type[AvroRecord]] = None) -> Callable[[BroadcastHandler], BroadcastHandler]:
        """Every worker hands every record of ``source`` to the handler, read outside the group from the end
        of the topic as of start-up (runtime/broadcast.py). The handler changes only its own process (a cache
        to invalidate): it returns nothing and writes no table."""
        def register(handler: BroadcastHandler) -> BroadcastHandler:
            self.broadcasts.append(Broadcast(source, input_type, handler))
            return handler

        return register

    def table(self, name: str, default: Any = None, partitions: Optional[int] = None, *,
              erasable_by: Optional[Callable[[Any, Any], Optional[str]]] = None) -> ChangelogTable:
        """A table with a compacted changelog (``<app id>-<name>-changelog``), co-partitioned with the
        service's inputs: state that survives restarts and moves with its partitions.

        ``partitions`` defaults to the partition count of the service's input topics (``casetrail.topics``).
        ``erasable_by(key, value)`` names an entry's customer key (``casetrail.privacy.customer_key``):
        the entries of an erased customer are deleted and tombstoned (``casetrail.runtime.erasure``).
        """
        spec = self.changelog_spec(name, partitions)
        table = ChangelogTable(name, resolved_name(spec, self.config.topic_prefix), spec.partitions,
                               lambda: self.current_partition, default, erasable_by)
        self.tables[name] = table
        return table

    def changelog_spec(self, name: str, partitions: Optional[int] = None) -> TopicSpec:
        for spec in ALL_TOPICS:
            if spec.name == f"casetrail-{self.name}-{name}-changelog":
                return spec if partitions is None else changelog(f"casetrail-{self.name}", name, partitions)
        return changelog(f"casetrail-{self.name}", name, partitions or 3)

    def timer(self, seconds: float) -> Callable:
        """A periodic coroutine run between batches; what it produces and writes is one transaction, committed
        with the worker's consumer positions and group metadata so that a zombie's tick is refused (ticks.py)."""
        def register(fn: Callable[[], Awaitable[None]]) -> Callable:
            self.timers.append(Timer(seconds, fn, time.monotonic() + seconds))
            return fn

        return register

    def warm_up(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Register a blocking start-up step (load models, index the KB) run before the worker starts,
        so ``/readyz`` only answers once the first record will not pay for it."""
        self._warm_ups.append(fn)
        return fn

    def next_timer_in(self, longest: float) -> float:
        """Seconds until the next timer is due (at most ``longest``)."""
        if not self.timers:
            return longest
        return max(0.0, min(longest, min(timer.due for timer in self.timers) - time.monotonic()))

    def task(self, fn: Callable[[], Awaitable[None]]) -> Callable:
        """A background coroutine started with the worker (it must not use tables)."""
        self._tasks.append(fn)
        return fn

    # -- names and clients ------------------------------------------------------------
    @property
    def app_id(self) -> str:
        """The consumer group and transactional id prefix: prefixed like every casetrail group."""
        return prefixed(f"casetrail-{self.name}", self.config.topic_prefix)

    @property
    def http_port(self) -> int:
        return self.config.http_port or DEFAULT_PORTS.get(self.name, 8100)

    def topic_name(self, spec: TopicSpec) -> str:
        return resolved_name(spec, self.config.topic_prefix)

    def kafka_client_config(self) -> dict:
        return {**self.kafka.librdkafka_config(), "client.id": f"{self.kafka.client_id_prefix}-{self.name}"}

    def consumer_config(self) -> dict:
        config = self.config
        return {
            **self.kafka_client_config(),
            "group.id": self.app_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            # range keeps the tables co-partitioned: a worker gets the same partition numbers of every input
            "partition.assignment.strategy": "range",
            "fetch.wait.max.ms": config.fetch_max_wait_ms,
            "session.timeout.ms": config.session_timeout_ms,
            "max.poll.interval.ms": max(300_000, config.transaction_timeout_ms * 4),
        }

    def producer_config(self) -> dict:
        config = self.config
        worker = config.worker_id or socket.gethostname()
        return {
            **self.kafka_client_config(),
            "transactional.id": f"{self.app_id}-{worker}",
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": PRODUCER_PARTITIONER,
            "linger.ms": config.linger_ms,
            "message.max.bytes": MAX_RECORD_BYTES + 64 * 1024,
            "transaction.timeout.ms": config.transaction_timeout_ms,
            "message.timeout.ms": config.transaction_timeout_ms,
            "retry.backoff.ms": TRANSACTION_RETRY_BACKOFF_MS,
            "retry.backoff.max.ms": TRANSACTION_RETRY_BACKOFF_MAX_MS,
        }

    def series(self, metric, topic: str):
        """The (service, topic) child of a metric, looked up once: labels() is costly per record."""
        key = (id(metric), topic)
        child = self._metric_children.get(key)
        if child is None:
            child = self._metric_children[key] = metric.labels(self.name, topic)
        return child

    def owned_partitions(self, source: TopicSpec) -> set[int]:
        """Partitions of ``source`` this worker owns now (timers act only on those)."""
        if self._worker is None:
            return set()
        return self._worker.owned_partitions(self.topic_name(source))

    # -- producing ----------------------------------------------------------------------
    def send(self, output: Output) -> None:
        """Produce ``output`` into the worker's open transaction (committed with the record or tick)."""
        name = self.topic_name(output.topic)
        event = output.event
        key = output.key if output.key is not None else getattr(event, "conversation_id", None)
        with self.tracer.start_as_current_span(
            f"send {name}", kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.operation.type": "send",
                        "messaging.operation.name": "send", "messaging.destination.name": name},
        ):
            headers = inject_headers({EVENT_TYPE_HEADER: type(event).__name__.encode(), **output.headers})
            value = self.codec.encode(event, topic=name)
        self._worker.producer.produce(name, value, key.encode() if isinstance(key, str) else key,
                                      list(headers.items()))

    async def produce(self, *outputs: Output) -> None:
        """Produce from a timer (joins the tick's transaction, committed after the tick with its table
        writes) or a task (its own transaction, unless a batch's is open: then it joins that one)."""
        worker = self._worker
        joins = worker.in_tick or worker.producer.in_transaction
        for output in outputs:
            self.send(output)
        if not joins and outputs:
            outcome = worker.producer.commit([])
            if not outcome.committed:
                raise RuntimeError(f"produce aborted: {outcome.abort_reason}")

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the transaction of the record being handled, or of the running timer tick, committed;
        dropped on abort or refusal (a zombie's batch or tick). For metrics that count what became visible
        (runtime/after_commit.py). Handlers may use ``ctx.after_commit`` alike."""
        worker = self._worker
        if worker is not None and worker.current_record is not None:
            worker.current_record.after_commit(fn)
        elif worker is not None and worker.in_tick:
            worker.after_commit.add(fn)
        else:
            raise RuntimeError("after_commit is for a handler or a timer: no transaction is being built here")

    # -- health ---------------------------------------------------------------------------
    def _readiness(self) -> tuple[bool, str]:
        worker = self._worker
        if not self._warm or worker is None or not worker.started:
            return False, "starting"
        if worker.restoring:
            return False, "restoring tables"
        if self.processors and not worker.assigned:
            return False, "no partitions assigned"
        return True, "ok"

    def _liveness(self) -> tuple[bool, str]:
        worker = self._worker
        if worker is None:
            return True, "starting"
        stalled = time.monotonic() - worker.heartbeat
        limit = self.config.transaction_timeout_ms / 1000 * 4 + self.config.retry_max_seconds * self.config.retry_attempts
        return (stalled < limit, f"loop last turned {stalled:.0f}s ago")

    # -- running ------------------------------------------------------------------------------
    def run(self, loglevel: Optional[str] = None) -> None:
        """Run until SIGTERM/SIGINT (graceful: the batch in hand commits, the group is left)."""
        level = (loglevel or self.config.log_level).upper()
        faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack: a stuck worker explains itself
        configure_logging(self.name, level)
        configure_tracing(self.name, self.version, self.config)
        metrics.SERVICE_INFO.info({"service": self.name, "version": self.version})
        log.info("starting", extra={"service": self.name, "app_id": self.app_id, "port": self.http_port})
        health = HealthServer(self.config.http_host, self.http_port, self.name, self.version, self._readiness,
                              self._liveness)
        health.start()
        try:
            if self.config.create_topics:
                report = apply_topics(ALL_TOPICS + tuple(self._extra_topics()), kafka=self.kafka,
                                      prefix=self.config.topic_prefix)
                for line in report.drift:
                    log.warning("topic drift", extra={"drift": line})
            self._check_keystore()
            if self.broadcasts:  # before the warm-ups: what they load is current as of the reader's start
                from casetrail.runtime.broadcast import BroadcastReader

                self.broadcast_reader = BroadcastReader(self)
                self.broadcast_reader.open()
            for step in self._warm_ups:
                started = time.perf_counter()
                step()
                log.info("warmed up", extra={"step": step.__name__, "seconds": round(time.perf_counter() - started, 2)})
            self._warm = True
            asyncio.run(self._serve())
        finally:
            health.stop()
            if self.broadcast_reader is not None:
                self.broadcast_reader.close()
        log.info("stopped", extra={"service": self.name})

    def _check_keystore(self) -> None:
        """Refuse to start when the key store cannot seal what this worker dead-letters: an unreachable
        store or a master key that does not open its keys would otherwise fail every dead letter of the
        run, one record at a time, long after ``/readyz`` said yes."""
        from casetrail.privacy.keystore import KeyStoreError

        try:
            line = self.keystore.check()
        except KeyStoreError as exc:
            log.error("refusing to start: the key store check failed", extra={"error": str(exc)})
            raise SystemExit(f"{self.name}: refusing to start: {exc}") from None
        log.info("key store checked", extra={"keystore": line})

    def _extra_topics(self) -> list[TopicSpec]:
        known = {spec.name for spec in ALL_TOPICS}
        return [self.changelog_spec(name) for name in self.tables
                if self.changelog_spec(name).name not in known]

    async def _serve(self) -> None:
        from casetrail.runtime.worker import Worker

        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        worker = self._worker = Worker(self)
        await loop.run_in_executor(None, worker.open)
        tasks = [asyncio.ensure_future(fn()) for fn in self._tasks]
        try:
            await worker.run(stopping)
        finally:
            for task in tasks:
                task.cancel()
            worker.close()
