"""Webhook bridge: ``POST /webhooks/{source}`` -> the intake topic, for systems that cannot write to Kafka.

Per request: the source must have a connector (404), the body must fit
``max_payload_bytes`` (413), the platform's signature or shared token must
verify (401), and the payload must parse with the source's connector (400
with the precise reason). Only then is an Avro ``IntakeTicket`` produced
(confluent-kafka, ``acks=all``, idempotent), and the answer is ``202`` only
after the broker's delivery report - ``503`` if the broker refused, so the
platform retries. Tenant: ``?tenant=`` or ``X-Casetrail-Tenant``, else the
default tenant.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Mapping, Optional

from aiohttp import web

from casetrail.codec import AvroCodec
from casetrail.events import IntakeTicket
from services.ingest import metrics
from services.ingest.connectors import registry
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.rejections import Rejected
from services.ingest.signatures import SignatureError, verify

log = logging.getLogger("casetrail.ingest.webhooks")


class IntakeProducer:
    """confluent-kafka producer whose delivery reports resolve asyncio futures."""

    def __init__(self, config: Mapping[str, str], topic: str, codec: AvroCodec):
        from confluent_kafka import Producer

        from casetrail.partitioning import PRODUCER_PARTITIONER

        self.topic = topic
        self.codec = codec
        self._producer = Producer({**config, "enable.idempotence": True, "acks": "all", "linger.ms": 2,
                                   "partitioner": PRODUCER_PARTITIONER})  # keys land where the Java client puts them
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="intake-delivery-reports", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    async def publish(self, ticket: IntakeTicket) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def delivered(error, message) -> None:
            def settle() -> None:
                if future.done():
                    return
                if error is not None:
                    future.set_exception(RuntimeError(str(error)))
                else:
                    future.set_result(None)

            loop.call_soon_threadsafe(settle)

        key = f"{ticket.source}:{ticket.external_id or ticket.event_id}".encode()
        self._producer.produce(self.topic, self.codec.encode(ticket, topic=self.topic), key=key, on_delivery=delivered)
        await future

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._stop.set()
        self._poller.join(timeout=2)


def create_app(
    producer: IntakeProducer,
    secrets: Mapping[str, str],
    *,
    default_tenant: str = "default",
    max_payload_bytes: int = 1024 * 1024,
) -> web.Application:
    validator = Normaliser(max_payload_bytes=max_payload_bytes, detect_locale=False)

    async def receive(request: web.Request) -> web.Response:
        source = request.match_info["source"].lower()
        label = metrics.source_label(source)

        def answer(status: int, message: str, **extra) -> web.Response:
            metrics.WEBHOOK_REQUESTS.labels(label, str(status)).inc()
            return web.json_response({"status": status, "message": message, **extra}, status=status)

        if source not in registry():
            return answer(404, f"unknown source {source[:64]!r}; known sources: {', '.join(sorted(registry()))}")
        if request.content_length is not None and request.content_length > max_payload_bytes:
            return answer(413, f"body is {request.content_length} bytes; the limit is {max_payload_bytes}")
        body = await request.content.read(max_payload_bytes + 1)
        if len(body) > max_payload_bytes:
            return answer(413, f"body exceeds the limit of {max_payload_bytes} bytes")
        try:
            verify(source, request.headers, body, secrets.get(source))
        except SignatureError as exc:
            return answer(401, str(exc))
        tenant = request.query.get("tenant") or request.headers.get("X-Casetrail-Tenant") or default_tenant
        content_type = "message/rfc822" if source == "email" else "application/json"
        try:
            ticket = validator.parse(IntakeRecord(tenant=tenant, source=source, payload=body, content_type=content_type))
        except Rejected as exc:
            return answer(400, exc.reason, reason_code=exc.reason_code)
        intake = IntakeTicket(tenant=tenant, source=source, content_type=content_type, payload=body,
                              external_id=ticket.external_id)
        try:
            await producer.publish(intake)
        except Exception as exc:  # broker refused or timed out: let the platform retry
            log.warning("intake publish failed", extra={"source": source, "error": type(exc).__name__})
            return answer(503, "the intake topic did not acknowledge the ticket; retry later")
        return answer(202, "accepted", event_id=intake.event_id, external_id=ticket.external_id)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=max_payload_bytes + 1024)
    app.router.add_post("/webhooks/{source}", receive)
    app.router.add_get("/healthz", health)
    return app


def serve(host: str, port: int, *, default_tenant: str, topic: Optional[str] = None) -> None:
    from casetrail.settings import kafka_settings, settings
    from casetrail.topic_admin import resolved_name
    from casetrail.topics import INTAKE
    from services.ingest.signatures import secrets_from_env

    config = settings()
    codec = AvroCodec(config.schema_registry_url, config.registry_config())
    producer = IntakeProducer(kafka_settings().librdkafka_config(), topic or resolved_name(INTAKE), codec)
    secrets = secrets_from_env()
    if not secrets:
        log.warning("no CASETRAIL_WEBHOOK_SECRET_<SOURCE> configured: every request will be refused with 401")
    app = create_app(producer, secrets, default_tenant=default_tenant, max_payload_bytes=config.max_payload_bytes)
    try:
        web.run_app(app, host=host, port=port, print=None)
    finally:
        producer.close()
