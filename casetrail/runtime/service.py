"""The Faust service runtime every casetrail service runs on.

A service registers processors (one source topic each, an input event type
and a handler that returns the events to emit). For every record the runtime:

1. decodes it (bytes that do not decode go to the dead-letter topic with the
   reason code, exception type, source topic/partition/offset and the
   original bytes; the consumer keeps going),
2. continues the W3C trace context found in the record headers,
3. calls the handler — pure decision logic lives behind it,
4. encodes each output, injects the trace context into its headers, produces
   it and waits for the broker's acknowledgement (``acks=all``),
5. only then lets Faust acknowledge the record, so its offset is committed
   after its outputs exist (at-least-once; downstream effects are idempotent).

A handler that raises ``RetryableError`` (a dependency is briefly away) is
retried with back-off without committing; any other exception dead-letters
the record. SIGTERM stops the worker gracefully (Faust/mode install the
handlers); a restart resumes from the last committed offset.
"""

from __future__ import annotations

import asyncio
import os
import inspect
import logging
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional, Union

import faust
from faust.types import TP
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from casetrail import __version__
from casetrail.codec import AvroCodec, DecodeError
from casetrail.events import DeadLetter, ProducerInfo
from casetrail.events.envelope import AvroRecord
from casetrail.runtime import metrics
from casetrail.runtime.structured_logging import configure_logging
from casetrail.runtime.tracing import configure_tracing, extract_context, headers_to_dict, inject_headers
from casetrail.settings import CasetrailSettings, KafkaSettings, kafka_settings, settings
from casetrail.topic_admin import apply_topics, resolved_name
from casetrail.topics import ALL_TOPICS, DEADLETTER, TopicSpec

log = logging.getLogger("casetrail.runtime")

DEFAULT_PORTS = {"ingest": 8101, "triage": 8102, "drafter": 8103, "verifier": 8104, "router": 8105, "audit": 8106,
                 "delivery": 8108}
EVENT_TYPE_HEADER = "casetrail-event-type"
MAX_BACKOFF_SECONDS = 30.0
FAUST_FETCH_MAX_WAIT_MS = 1500  # fixed in faust.transport.drivers.aiokafka


class RetryableError(Exception):
    """A transient fault (e.g. Qdrant unreachable): retry the record, do not commit it."""


@dataclass(frozen=True)
class Output:
    topic: TopicSpec
    event: AvroRecord
    key: Optional[str] = None  # default: the event's conversation_id
    headers: dict[str, bytes] = field(default_factory=dict)


@dataclass
class RecordContext:
    """Where the current record came from, and a way to dead-letter it on purpose."""

    service: "Service"
    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: bytes
    headers: dict[str, bytes]
    timestamp: Optional[float]
    _dead_letters: list[tuple[str, str, Optional[str]]] = field(default_factory=list)

    def dead_letter(self, reason_code: str, reason: str, exception_type: Optional[str] = None) -> None:
        """Send this record to the dead-letter topic (after the handler returns) and move on.

        ``reason`` must not contain ticket text or personal data.
        """
        self._dead_letters.append((reason_code, reason, exception_type))


Handler = Callable[[Any, RecordContext], Union[list[Output], Awaitable[list[Output]]]]


@dataclass(frozen=True)
class _Processor:
    source: TopicSpec
    input_type: Optional[type[AvroRecord]]
    handler: Handler
    concurrency: int


def _failure_site(exc: BaseException) -> str:
    """``module:function:line`` of where an exception was raised: useful, and free of data."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    frame = frames[-1]
    module = frame.filename.rsplit("/", 1)[-1]
    return f"{module}:{frame.name}:{frame.lineno}"


class Service:
    """One casetrail service: a Faust app plus the casetrail processing contract."""

    def __init__(
        self,
        name: str,
        version: str = __version__,
        *,
        config: Optional[CasetrailSettings] = None,
        kafka: Optional[KafkaSettings] = None,
    ):
        self.name = name
        self.version = version
        self.config = config or settings()
        self.kafka = kafka or kafka_settings()
        self.producer_info = ProducerInfo(service=name, version=version)
        self.codec = AvroCodec(self.config.schema_registry_url, self.config.registry_config())
        self._processors: list[_Processor] = []
        self._app: Optional[faust.App] = None
        self._tracer = trace.get_tracer(f"casetrail.{name}", version)
        self._send_failure: Optional[BaseException] = None
        self._metric_children: dict[tuple[int, str], Any] = {}
        self._warm_ups: list[Callable[[], None]] = []

    # -- registration -----------------------------------------------------
    def processor(
        self, source: TopicSpec, input_type: Optional[type[AvroRecord]] = None, *, concurrency: int = 1
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._processors.append(_Processor(source, input_type, handler, concurrency))
            if self._app is not None:
                self._attach(self._processors[-1])
            return handler

        return register

    def table(self, name: str, default: Any = None, partitions: int = 3) -> faust.Table:
        """A Faust table with a compacted changelog: state that survives restarts.

        Keys and values travel as JSON (the app's default serializer).
        """
        return self.app.Table(name, default=default, partitions=partitions)

    def timer(self, seconds: float) -> Callable:
        def register(fn: Callable[[], Awaitable[None]]) -> Callable:
            return self.app.timer(interval=seconds, name=f"{self.name}.{fn.__name__}")(fn)

        return register

    def warm_up(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Register a blocking start-up step (load models, index the KB) run before the worker
        starts, so ``/readyz`` only answers once the first record will not pay for it."""
        self._warm_ups.append(fn)
        return fn

    def task(self, fn: Callable[[], Awaitable[None]]) -> Callable:
        return self.app.task(fn)

    # -- the Faust app ----------------------------------------------------
    @property
    def app_id(self) -> str:
        return f"{self.config.topic_prefix}casetrail-{self.name}"

    @property
    def http_port(self) -> int:
        return self.config.http_port or DEFAULT_PORTS.get(self.name, 8100)

    @property
    def app(self) -> faust.App:
        if self._app is None:
            self._app = self._create_app()
            for processor in self._processors:
                self._attach(processor)
        return self._app

    def _create_app(self) -> faust.App:
        servers = ";".join(f"kafka://{host}" for host in self.kafka.bootstrap_servers.split(","))
        datadir = self.config.data_dir / "faust" / self.app_id
        datadir.mkdir(parents=True, exist_ok=True)
        app = _App(
            self.app_id,
            broker=servers,
            broker_credentials=self._faust_credentials(),
            store="memory://",  # tables are rebuilt from their compacted changelogs on start
            datadir=str(datadir),
            topic_partitions=3,
            topic_replication_factor=1,
            producer_acks=-1,
            producer_max_request_size=8 * 1024 * 1024,  # dead letters carry the original bytes
            consumer_auto_offset_reset="earliest",
            web_enabled=True,
            web_bind=self.config.http_host,
            web_port=self.http_port,
            web_host=self.config.http_host,
            autodiscover=False,
            broker_commit_every=int(os.environ.get("CASETRAIL_COMMIT_EVERY", "1000")),
            broker_commit_interval=1.0,
            stream_wait_empty=True,
            version=1,
        )
        _make_producer_idempotent(app)
        if self.config.fetch_max_wait_ms != FAUST_FETCH_MAX_WAIT_MS:  # Faust's own classes unless asked otherwise
            _bound_fetch_wait(app, self.config.fetch_max_wait_ms)

        @app.page("/metrics")
        async def metrics_page(web, request):  # noqa: ARG001 - Faust view signature
            return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

        @app.page("/healthz")
        async def healthz(web, request):  # noqa: ARG001
            return web.json({"status": "ok", "service": self.name, "version": self.version})

        @app.timer(interval=15.0, name=f"{self.name}.consumer_lag")
        async def refresh_consumer_lag():
            # Per-record updates stop when a consumer is stuck; this keeps the gauge truthful.
            await self._refresh_lag()

        @app.page("/readyz")
        async def readyz(web, request):  # noqa: ARG001
            ready, detail = self._readiness()
            return web.json({"ready": ready, "detail": detail}, status=200 if ready else 503)

        return app

    def _faust_credentials(self):
        kafka = self.kafka
        if kafka.sasl_mechanism:
            password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
            ssl_context = None
            if kafka.security_protocol.upper() == "SASL_SSL":
                ssl_context = faust.ssl.create_default_context(cafile=kafka.ssl_ca_location)
            return faust.SASLCredentials(
                username=kafka.sasl_username, password=password, mechanism=kafka.sasl_mechanism, ssl_context=ssl_context
            )
        if kafka.security_protocol.upper() == "SSL":
            context = faust.ssl.create_default_context(cafile=kafka.ssl_ca_location)
            if kafka.ssl_certificate_location:
                password = kafka.ssl_key_password.get_secret_value() if kafka.ssl_key_password else None
                context.load_cert_chain(kafka.ssl_certificate_location, kafka.ssl_key_location, password)
            return faust.SSLCredentials(context)
        return None

    def _readiness(self) -> tuple[bool, str]:
        app = self._app
        if app is None or not app.started:
            return False, "starting"
        if app.rebalancing:
            return False, "rebalancing"
        if self._processors:
            try:
                if not app.consumer.assignment():
                    return False, "no partitions assigned"
            except Exception:  # consumer not created yet
                return False, "consumer not ready"
        return True, "ok"

    def _attach(self, processor: _Processor) -> None:
        app = self._app
        topic_name = resolved_name(processor.source, self.config.topic_prefix)
        topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")
        service = self

        async def agent(stream):
            async for event in stream.events():
                await service._process(processor, topic_name, event)

        agent.__name__ = f"{processor.handler.__name__}"
        app.agent(topic, name=f"{self.name}.{processor.handler.__name__}", concurrency=processor.concurrency)(agent)

    # -- per-record processing --------------------------------------------
    async def _process(self, processor: _Processor, topic_name: str, event) -> None:
        message = event.message
        headers = headers_to_dict(message.headers)
        ctx = RecordContext(
            service=self, topic=topic_name, partition=message.partition, offset=message.offset,
            key=message.key, value=message.value, headers=headers, timestamp=message.timestamp,
        )
        self._series(metrics.EVENTS_IN, topic_name).inc()
        self._record_lag(message)
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            f"{topic_name} process",
            context=extract_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": topic_name,
                "messaging.kafka.destination.partition": message.partition,
                "messaging.kafka.message.offset": message.offset,
                "casetrail.service": self.name,
            },
        ) as span:
            outputs = await self._run_handler(processor, ctx, span)
            await self._emit(outputs, ctx)
        self._series(metrics.PROCESSING_SECONDS, topic_name).observe(time.perf_counter() - started)

    async def _run_handler(self, processor: _Processor, ctx: RecordContext, span) -> list[Output]:
        if processor.input_type is None:
            payload: Any = ctx.value
        else:
            try:
                payload = self.codec.decode(ctx.value or b"", expected=processor.input_type)
            except DecodeError as exc:
                span.set_status(Status(StatusCode.ERROR, exc.reason_code))
                ctx.dead_letter(exc.reason_code, str(exc), type(exc).__name__)
                return []
        backoff = 0.5
        while True:
            try:
                result = processor.handler(payload, ctx)
                if inspect.isawaitable(result):
                    result = await result
                return list(result or [])
            except RetryableError as exc:
                metrics.RETRIES.labels(self.name, ctx.topic).inc()
                metrics.EVENTS_FAILED.labels(self.name, ctx.topic, "retryable").inc()
                log.warning(
                    "transient failure, retrying",
                    extra={"topic": ctx.topic, "partition": ctx.partition, "offset": ctx.offset,
                           "error": type(exc).__name__, "backoff_s": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            except Exception as exc:  # unprocessable: dead-letter it and keep consuming
                site = _failure_site(exc)
                span.record_exception(exc, attributes={"exception.message": type(exc).__name__})
                span.set_status(Status(StatusCode.ERROR, "unprocessable"))
                log.error(
                    "unprocessable record dead-lettered",
                    extra={"topic": ctx.topic, "partition": ctx.partition, "offset": ctx.offset,
                           "error": type(exc).__name__, "site": site},
                )
                ctx.dead_letter("unprocessable", f"{type(exc).__name__} at {site}", type(exc).__name__)
                return []

    async def _emit(self, outputs: list[Output], ctx: RecordContext) -> None:
        """Hand outputs to the producer without waiting for each acknowledgement.

        At-least-once still holds: Faust flushes the producer (waits for every
        acknowledgement) before it commits any offset, so an input's offset is
        never committed before its outputs are on the broker. A send that fails
        crashes the worker before that commit (see ``_on_delivered``), and the
        restart reprocesses from the last committed offset. Not waiting per
        record lets the producer batch, which is most of a hop's throughput.
        """
        if self._send_failure is not None:
            raise RuntimeError("a previous send failed; refusing to acknowledge further records") from self._send_failure
        producer = self.app.producer
        for output in outputs:
            await self._send(producer, output)
        for reason_code, reason, exception_type in ctx._dead_letters:
            await self._send(producer, self._dead_letter_output(ctx, reason_code, reason, exception_type))
            metrics.DEAD_LETTERED.labels(self.name, ctx.topic, reason_code).inc()
            metrics.EVENTS_FAILED.labels(self.name, ctx.topic, reason_code).inc()

    def _on_delivered(self, topic: str, future: asyncio.Future) -> None:
        if future.cancelled() or future.exception() is not None:
            error = future.exception() if not future.cancelled() else asyncio.CancelledError()
            self._send_failure = error
            log.critical("send failed; stopping before the next commit", extra={"topic": topic, "error": type(error).__name__})
            # Crash the consumer so no further offsets are committed; a restart reprocesses.
            asyncio.ensure_future(self.app.consumer.crash(error))
            return
        self._series(metrics.EVENTS_OUT, topic).inc()

    def _series(self, metric, topic: str):
        """The (service, topic) child of a metric, looked up once: labels() is costly per record."""
        key = (id(metric), topic)
        child = self._metric_children.get(key)
        if child is None:
            child = self._metric_children[key] = metric.labels(self.name, topic)
        return child

    async def _send(self, producer, output: Output):
        name = resolved_name(output.topic, self.config.topic_prefix)
        event = output.event
        key = output.key if output.key is not None else getattr(event, "conversation_id", None)
        headers = inject_headers({EVENT_TYPE_HEADER: type(event).__name__.encode(), **output.headers})
        future = await producer.send(
            name,
            key.encode() if isinstance(key, str) else key,
            self.codec.encode(event, topic=name),
            None,
            None,
            list(headers.items()),
        )
        future.add_done_callback(lambda f, topic=name: self._on_delivered(topic, f))
        return future

    def _dead_letter_output(
        self, ctx: RecordContext, reason_code: str, reason: str, exception_type: Optional[str]
    ) -> Output:
        record = DeadLetter(
            producer=self.producer_info,
            reason_code=reason_code,
            reason=reason[:1000],
            exception_type=exception_type,
            source_topic=ctx.topic,
            source_partition=ctx.partition,
            source_offset=ctx.offset,
            original_key=ctx.key,
            original_value=ctx.value,
            original_headers={k: v for k, v in ctx.headers.items() if v is not None},
        )
        key = ctx.key.decode("utf-8", "replace") if ctx.key else f"{ctx.topic}:{ctx.partition}:{ctx.offset}"
        return Output(DEADLETTER, record, key=key)

    async def produce(self, *outputs: Output) -> None:
        """Produce outside a processor (timers, tasks) and wait for the acknowledgements."""
        producer = self.app.producer
        futures = [await self._send(producer, output) for output in outputs]
        if futures:
            await asyncio.gather(*futures)

    async def _refresh_lag(self) -> None:
        consumer = self.app.consumer
        try:
            assigned = consumer.assignment()
        except Exception:  # not started yet
            return
        for tp in assigned:
            if tp.topic.endswith("-changelog") or "__assignor" in tp.topic:
                continue
            try:
                highwater, position = consumer.highwater(tp), await consumer.position(tp)
            except Exception:  # partition being revoked; next tick
                continue
            if highwater is not None and position is not None:
                metrics.CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(0, highwater - position))

    def _record_lag(self, message) -> None:
        try:
            highwater = self.app.consumer.highwater(message.tp)
        except Exception:  # not known yet right after assignment
            return
        if highwater is not None:
            metrics.CONSUMER_LAG.labels(self.name, message.topic, str(message.partition)).set(
                max(0, highwater - message.offset - 1)
            )

    # -- running ----------------------------------------------------------
    def run(self, loglevel: Optional[str] = None) -> None:
        """Run until SIGTERM/SIGINT (graceful: in-flight records finish, offsets commit)."""
        level = (loglevel or self.config.log_level).upper()
        configure_logging(self.name, level)
        configure_tracing(self.name, self.version)
        metrics.SERVICE_INFO.info({"service": self.name, "version": self.version})
        log.info("starting", extra={"service": self.name, "app_id": self.app_id, "port": self.http_port})
        if self.config.create_topics:
            report = apply_topics(ALL_TOPICS, kafka=self.kafka)
            for line in report.drift:
                log.warning("topic drift", extra={"drift": line})
        for step in self._warm_ups:
            started = time.perf_counter()
            step()
            log.info("warmed up", extra={"step": step.__name__, "seconds": round(time.perf_counter() - started, 2)})
        worker = faust.Worker(self.app, loglevel=level.lower() if level != "WARNING" else "warn", quiet=True,
                              override_logging=False)
        worker.execute_from_commandline()


class _RedeliveringFlowControl(FlowControlEvent):
    """Faust's flow control, minus the records it silently drops when it resumes.

    ``resume()`` clears every stream buffer (``clear_on_resume``): the events a revoked
    assignment left there are replayed from the committed offsets anyway. But at the end of
    table recovery Faust first resumes the stream partitions and seeks them to their committed
    offsets, and only then resumes flow control; while that seek is awaited the fetcher keeps
    running (flow is already active for the changelog replay) and can hand a freshly fetched
    record to an agent's buffer, which the resume then throws away. The consumer's position is
    already past that record and no later seek happens, so the worker reports ready and never
    processes it (nor commits past it) until it is restarted (faust-streaming #596; #216/#217
    were the same race on the path without tables).

    This keeps the clearing and sends every partition whose buffered records were dropped back
    to the earliest dropped offset: the partition is paused until the seek is done, so nothing
    newer than the dropped records is handed out first. At-least-once either way.
    """

    def __init__(self, app: faust.App, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._app = app
        self._seeks: set[asyncio.Future] = set()

    def resume(self) -> None:
        dropped = self._buffered_offsets()
        super().resume()  # clears the buffers
        if dropped:
            self._redeliver(dropped)

    def _buffered_offsets(self) -> dict[TP, int]:
        """Earliest buffered offset per source partition, changelogs excluded (recovery owns those)."""
        changelogs = self._app.tables.changelog_topics
        earliest: dict[TP, int] = {}
        for queue in list(self._queues):
            for item in list(getattr(queue, "_queue", ())):
                message = getattr(item, "message", None)
                if getattr(message, "tp", None) is None:
                    continue
                # the fetcher's messages carry aiokafka's TopicPartition; Faust's partition
                # sets insist on its own TP (an assertion in the fetcher)
                tp = TP(message.tp.topic, message.tp.partition)
                if tp.topic in changelogs:
                    continue
                if tp not in earliest or message.offset < earliest[tp]:
                    earliest[tp] = message.offset
        return earliest

    def _redeliver(self, dropped: dict[TP, int]) -> None:
        consumer = self._app.consumer
        try:
            assigned = consumer.assignment()
        except Exception:  # consumer not started: nothing was fetched for real
            return
        targets = {tp: offset for tp, offset in dropped.items() if tp in assigned}
        if not targets:
            return  # revoked meanwhile: the next assignment seeks to the committed offsets
        log.warning(
            "resuming flow dropped buffered records; seeking back so they are redelivered",
            extra={"partitions": {f"{tp.topic}:{tp.partition}": offset for tp, offset in targets.items()}},
        )
        consumer.pause_partitions(targets)
        future = asyncio.ensure_future(self._seek_back(consumer, targets, self._app.consumer_generation_id))
        self._seeks.add(future)
        future.add_done_callback(self._seeks.discard)

    async def _seek_back(self, consumer, targets: dict[TP, int], generation: int) -> None:
        app = self._app
        try:
            for tp, offset in targets.items():
                await consumer.seek(tp, offset)
        except Exception as exc:
            if app.consumer_generation_id != generation or app.should_stop:
                return  # a rebalance or shutdown took over; it positions the partitions itself
            log.critical("could not seek back to dropped records; stopping", extra={"error": type(exc).__name__})
            await app.crash(exc)  # never leave the partitions paused: a restart replays them
            return
        if app.consumer_generation_id == generation:
            consumer.resume_partitions(targets)


class _App(faust.App):
    """A Faust app whose flow control does not lose records on resume (see above)."""

    @cached_property
    def flow_control(self) -> FlowControlEvent:
        return _RedeliveringFlowControl(self, loop=self.loop)


def _make_producer_idempotent(app: faust.App) -> None:
    """Faust enables idempotence only inside transactions; casetrail wants it always (acks=all)."""
    from faust.transport.drivers.aiokafka import Producer

    class IdempotentProducer(Producer):
        def _settings_extra(self):
            return {"acks": "all", "enable_idempotence": True}

    app.transport.Producer = IdempotentProducer
    app.producer_transport.Producer = IdempotentProducer


def _bound_fetch_wait(app: faust.App, max_wait_ms: int) -> None:
    """Use ``max_wait_ms`` as the fetch wait Faust fixes at 1,500 ms (see ``fetch_max_wait_ms``).

    aiokafka leaves a partition whose fetched records are still being processed out of the
    next fetch request, and sends no other fetch to that broker while one is in flight; a
    request for the idle partitions then waits the full fetch wait while new records of the
    busy one queue behind it. Under load that was a steady ~1.5 s per hop.
    """
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer

    class BoundedWaitConsumerThread(AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport):
            consumer = super()._create_worker_consumer(transport)
            # aiokafka reads this when the consumer starts (it builds its Fetcher then).
            consumer._fetch_max_wait_ms = max_wait_ms
            return consumer

    class BoundedWaitConsumer(Consumer):
        def _new_consumer_thread(self):
            return BoundedWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)

    app.transport.Consumer = BoundedWaitConsumer
