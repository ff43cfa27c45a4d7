"""Publish tickets to the intake topic (``casetrail send``, the demo, benchmarks)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Iterable

from confluent_kafka import Producer

from casetrail.codec import AvroCodec
from casetrail.events import IntakeTicket
from casetrail.settings import kafka_settings, settings
from casetrail.topic_admin import resolved_name
from casetrail.topics import INTAKE


def ticket_from_line(record: dict, default_tenant: str) -> IntakeTicket:
    """A JSONL line ``{source, tenant?, payload, external_id?, content_type?}`` as an IntakeTicket."""
    if not isinstance(record, dict):
        raise ValueError("a line must be a JSON object")
    source = record.get("source")
    if not source:
        raise ValueError("missing 'source'")
    if "payload" not in record:
        raise ValueError("missing 'payload'")
    payload = record["payload"]
    if isinstance(payload, str):
        body = payload.encode("utf-8")
        content_type = record.get("content_type", "message/rfc822" if source == "email" else "text/plain")
    else:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        content_type = record.get("content_type", "application/json")
    return IntakeTicket(
        tenant=record.get("tenant") or default_tenant,
        source=source,
        content_type=content_type,
        payload=body,
        external_id=record.get("external_id"),
        attributes={str(k): str(v) for k, v in (record.get("attributes") or {}).items()},
    )


def intake_key(ticket: IntakeTicket) -> str:
    """The intake record's key, ``source:external_id`` (the ticket's event id when it names no external id)."""
    return f"{ticket.source}:{ticket.external_id or ticket.event_id}"


class IntakePublisher:
    """confluent-kafka producer with acks=all and idempotence, Avro-encoding IntakeTickets."""

    def __init__(self, prefix: str | None = None, *, connect_timeout: float | None = None):
        """``connect_timeout``: wait (up to that long) until the producer is connected, knows the intake topic
        and holds its producer id, so the first tickets' timestamps do not carry the client's own start-up
        (a benchmark's load starts at its first ticket; ~0.6 s on the 2-core machine, session 10)."""
        config = settings()
        self._codec = AvroCodec(config.schema_registry_url, config.registry_config())
        self._topic = resolved_name(INTAKE, prefix)
        self._idempotence_state = ""  # librdkafka's, from its statistics (only with connect_timeout)
        watch = {"statistics.interval.ms": 50, "stats_cb": self._statistics} if connect_timeout else {}
        self._producer = Producer({
            **kafka_settings().producer_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            # librdkafka's own default (1,000,000) is below what the intake topic and ingest accept
            "message.max.bytes": INTAKE.max_message_bytes,
            **watch,
        })
        if connect_timeout:
            self._connect(connect_timeout)

    def _statistics(self, report: str) -> None:
        self._idempotence_state = json.loads(report).get("eos", {}).get("idemp_state", "")

    def _connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._producer.list_topics(self._topic, timeout=timeout)  # connection and the topic's metadata
        while self._idempotence_state != "Assigned":  # the producer id, asked for once connected
            if time.monotonic() > deadline:
                raise TimeoutError(f"intake producer not ready within {timeout:.0f}s "
                                   f"(idempotence state {self._idempotence_state or 'unknown'})")
            self._producer.poll(0.05)

    def publish(self, ticket: IntakeTicket, headers: dict[str, bytes] | None = None,
                on_delivery: Callable | None = None) -> None:
        """Queue ``ticket``; ``on_delivery(err, msg)`` (librdkafka's delivery report) runs in a later
        ``publish``/``flush`` once the broker acknowledged it or gave up."""
        key = intake_key(ticket).encode()
        extra = {"on_delivery": on_delivery} if on_delivery is not None else {}
        self._producer.produce(
            self._topic, self._codec.encode(ticket, topic=self._topic), key=key,
            headers=list((headers or {}).items()), **extra,
        )
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for acknowledgements; returns how many records are still undelivered."""
        return self._producer.flush(timeout)


def publish_jsonl(
    path: Path, default_tenant: str, progress: Callable[[str], None] = print
) -> tuple[int, list[tuple[int, str]]]:
    publisher = IntakePublisher()
    sent, rejected = 0, []
    for line_no, line in _lines(path):
        try:
            publisher.publish(ticket_from_line(json.loads(line), default_tenant))
            sent += 1
        except (ValueError, json.JSONDecodeError) as exc:
            rejected.append((line_no, str(exc)))
    undelivered = publisher.flush()
    if undelivered:
        raise RuntimeError(f"{undelivered} tickets were not acknowledged by the broker")
    return sent, rejected


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line
