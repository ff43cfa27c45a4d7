"""Topics every worker of a service reads whole, outside its consumer group (``Service.broadcast``).

A topic consumed in the group gives each record to one worker. Some records are news every
worker must hear: a knowledge-base publication (each drafter worker invalidates its own
cache), an erasure (each worker forgets what it cached of the customer). A broadcast reader is
one more consumer per worker reading its topics whole outside the group (``topic_reader``: every
partition assigned, no group membership, no commits, ``read_committed``). It starts at the end of
each partition as it was *before the service's warm-up steps ran*: what a warm-up loads (the
current knowledge base) is current as of then, and anything published during the warm-up is
still heard. A worker that restarts starts at the end again: it loads the current state in its
warm-up anyway. (The runtime's erasure feed is the same reader started at the beginning.)

The worker polls the reader between batches (never blocking: a broadcast topic is quiet) and
calls the handler on the event loop. A handler changes only its own process: it returns
nothing, produces nothing and writes no table, since every worker runs it. A record that
cannot be decoded, or a handler that raises, is logged and counted
(``casetrail_events_failed_total``), not dead-lettered: every worker would dead-letter it.
Partitions added to a broadcast topic later are read after the next restart.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Optional

from opentelemetry.trace import SpanKind

from casetrail.codec import DecodeError
from casetrail.runtime import metrics
from casetrail.runtime.contract import Broadcast, RecordContext
from casetrail.runtime.failure import failure_site
from casetrail.runtime.topic_reader import StartAt, WholeTopicReader
from casetrail.runtime.tracing import extract_context, headers_to_dict

if TYPE_CHECKING:
    from casetrail.runtime.service import Service

log = logging.getLogger("casetrail.runtime")
MAX_RECORDS_PER_TURN = 100


class BroadcastReader:
    """One worker's reader of the service's broadcast topics."""

    def __init__(self, service: "Service"):
        self.service = service
        self.broadcasts: dict[str, Broadcast] = {service.topic_name(b.source): b for b in service.broadcasts}
        self.topic_reader: Optional[WholeTopicReader] = None

    def open(self) -> None:
        """Assign every partition of the broadcast topics at its current end (call before the warm-ups)."""
        service = self.service
        reader = WholeTopicReader({**service.kafka_client_config(), "group.id": f"{service.app_id}-broadcast",
                                   "fetch.wait.max.ms": service.config.fetch_max_wait_ms},
                                  self.broadcasts, StartAt.end)
        unreadable = reader.assign()
        if unreadable:
            reader.close()
            topic, reason = next(iter(unreadable.items()))
            raise RuntimeError(f"broadcast topic {topic} cannot be read: {reason}")
        self.topic_reader = reader

    async def handle_new(self) -> None:
        """Hand every record that arrived since the last turn to its handler (returns at once if none)."""
        if self.topic_reader is None:
            return
        for message in self.topic_reader.take(MAX_RECORDS_PER_TURN):
            await self._handle(message)

    async def _handle(self, message) -> None:
        service = self.service
        topic = message.topic()
        broadcast = self.broadcasts[topic]
        timestamp_type, timestamp = message.timestamp()
        ctx = RecordContext(service=service, topic=topic, partition=message.partition(), offset=message.offset(),
                            key=message.key(), value=message.value(), headers=headers_to_dict(message.headers()),
                            timestamp=timestamp / 1000 if timestamp_type else None)
        where = {"topic": topic, "partition": ctx.partition, "offset": ctx.offset}
        service.series(metrics.EVENTS_IN, topic).inc()
        with service.tracer.start_as_current_span(
            f"process {topic}", context=extract_context(ctx.headers), kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.operation.type": "process",
                        "messaging.operation.name": "process", "messaging.destination.name": topic,
                        "messaging.destination.partition.id": str(ctx.partition), "messaging.kafka.offset": ctx.offset,
                        "casetrail.service": service.name},
        ):
            payload = ctx.value
            if broadcast.input_type is not None:
                try:
                    payload = service.codec.decode(ctx.value or b"", expected=broadcast.input_type)
                except DecodeError as exc:
                    metrics.EVENTS_FAILED.labels(service.name, topic, exc.reason_code).inc()
                    log.warning("broadcast record not decodable; skipped", extra={**where, "reason": exc.reason_code})
                    return
            try:
                result = broadcast.handler(payload, ctx)
                if inspect.isawaitable(result):
                    result = await result
                if result is not None:
                    raise TypeError("a broadcast handler returns nothing (every worker runs it)")
            except Exception as exc:  # one worker's cache may be stale now; the next record is still handled
                metrics.EVENTS_FAILED.labels(service.name, topic, "unprocessable").inc()
                log.error("broadcast handler failed", extra={**where, "error": type(exc).__name__,
                                                             "site": failure_site(exc)})

    def close(self) -> None:
        if self.topic_reader is not None:
            self.topic_reader.close()
            self.topic_reader = None
