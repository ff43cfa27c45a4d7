"""Webhook bridge: ``POST /webhooks/{source}`` -> the intake topic, for systems that cannot write to Kafka.

Per request: the source must have a connector (404); the body is read to its
end, and one byte over ``max_payload_bytes`` - declared or chunked - is 413;
the signature must verify with one of the source's per-tenant secrets, which
decides the tenant, and must be fresh and not seen before (401, see
``signatures``); the payload must parse with the source's connector within the
per-record budget (400 with the precise reason). The payload is then sealed with
the customer's key (the key store every pod shares; ``503`` while it is away) and
only then is an Avro ``IntakeTicket`` produced (confluent-kafka, ``acks=all``, idempotent), and the
answer is ``202`` only after the broker's delivery report - ``503`` if the
broker refused, so the platform retries. ``?tenant=`` / ``X-Casetrail-Tenant``
only narrow which secrets are tried. ``/metrics`` (Prometheus) and ``/readyz``
(the intake topic answers) for the platform team.
"""

from __future__ import annotations

import asyncio
import logging
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
import threading
from typing import TYPE_CHECKING, Mapping, Optional

from aiohttp import web

from casetrail.codec import AvroCodec
from casetrail.events import IntakeTicket
from casetrail.topics import INTAKE
from services.ingest import metrics
from services.ingest.connectors import registry
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.rejections import Rejected
from services.ingest.budget import DEFAULT_BUDGET_SECONDS, Budget, active
from services.ingest.signatures import SignatureError, Verifier

if TYPE_CHECKING:
    from casetrail.privacy.keystore import KeyStore

log = logging.getLogger("casetrail.ingest.webhooks")


class IntakeProducer:
    """confluent-kafka producer whose delivery reports resolve asyncio futures."""

    def __init__(self, config: Mapping[str, str], topic: str, codec: AvroCodec):
        from confluent_kafka import Producer

        from casetrail.partitioning import PRODUCER_PARTITIONER

        self.topic = topic
        self.codec = codec
        self._producer = Producer({**config, "enable.idempotence": True, "acks": "all", "linger.ms": 2,
                                   "partitioner": PRODUCER_PARTITIONER,  # keys land where the Java client puts them
                                   # librdkafka's default (1,000,000) is below the payloads the bridge accepts
                                   "message.max.bytes": INTAKE.max_message_bytes})
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

    def ready(self, timeout: float = 2.0) -> bool:
        """The broker answers and knows the intake topic (blocking: run it in an executor)."""
        try:
            metadata = self._producer.list_topics(self.topic, timeout=timeout)
        except Exception:  # KafkaException, timeouts: not ready
            return False
        topic = metadata.topics.get(self.topic)
        return topic is not None and topic.error is None

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._stop.set()
        self._poller.join(timeout=2)


async def read_body(request: web.Request, limit: int) -> Optional[bytes]:
    """The whole body (however many writes or chunks it came in), or None past ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def create_app(
    producer: IntakeProducer,
    verifier: Verifier,
    *,
    max_payload_bytes: int = 1024 * 1024,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    keystore: Optional["KeyStore"] = None,
) -> web.Application:
    """``keystore``: seals each payload with its customer's key (``serve`` always passes the shared store;
    None publishes the payload raw, as a platform writing to the topic directly would)."""
    validator = Normaliser(max_payload_bytes=max_payload_bytes, detect_locale=False)

    async def receive(request: web.Request) -> web.Response:
        source = request.match_info["source"].lower()
        label = metrics.source_label(source)

        def answer(status: int, message: str, **extra) -> web.Response:
            metrics.WEBHOOK_REQUESTS.labels(label, str(status)).inc()
            return web.json_response({"status": status, "message": message, **extra}, status=status)

        if source not in registry():
            return answer(404, f"unknown source {source[:64]!r}; known sources: {', '.join(sorted(registry()))}")
        body = await read_body(request, max_payload_bytes)
        if body is None:
            return answer(413, f"body exceeds the limit of {max_payload_bytes} bytes")
        hint = request.query.get("tenant") or request.headers.get("X-Casetrail-Tenant")
        try:
            verified = verifier.verify(source, request.headers, body, hint)
        except SignatureError as exc:
            return answer(401, str(exc))
        content_type = "message/rfc822" if source == "email" else "application/json"
        try:
            with active(Budget(budget_seconds)):
                ticket = validator.parse(IntakeRecord(tenant=verified.tenant, source=source, payload=body,
                                                      content_type=content_type))
        except Rejected as exc:
            return answer(400, exc.reason, reason_code=exc.reason_code)
        sealed = None
        if keystore is not None:
            from casetrail.privacy.keystore import KeyStoreBusy

            try:  # a database round trip: off the event loop
                sealed = await asyncio.get_running_loop().run_in_executor(
                    None, keystore.seal_bytes, verified.tenant, ticket.customer.customer_id, body)
            except KeyStoreBusy:
                log.warning("key store unavailable; ticket not accepted", extra={"source": label})
                return answer(503, "the key store is not available; retry later")
        intake = IntakeTicket(tenant=verified.tenant, source=source, content_type=content_type,
                              payload=b"" if sealed is not None else body, sealed_payload=sealed,
                              external_id=ticket.external_id)
        try:
            await producer.publish(intake)
        except Exception as exc:  # broker refused or timed out: let the platform retry
            log.warning("intake publish failed", extra={"source": label, "error": type(exc).__name__})
            return answer(503, "the intake topic did not acknowledge the ticket; retry later")
        verifier.accept(source, verified)
        return answer(202, "accepted", event_id=intake.event_id, external_id=ticket.external_id, tenant=verified.tenant)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(request: web.Request) -> web.Response:
        if not verifier.sources():
            return web.json_response({"status": "not ready", "reason": "no webhook secrets configured"}, status=503)
        broker = await asyncio.get_running_loop().run_in_executor(None, producer.ready)
        if not broker:
            return web.json_response({"status": "not ready", "reason": "the intake topic does not answer"}, status=503)
        return web.json_response({"status": "ready", "sources": sorted(verifier.sources())})

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    # client_max_size is not the limit (read_body is); aiohttp only uses it for request.read()/post().
    app = web.Application(client_max_size=max_payload_bytes + 1024)
    app.router.add_post("/webhooks/{source}", receive)
    app.router.add_get("/healthz", health)
    app.router.add_get("/readyz", ready)
    app.router.add_get("/metrics", prometheus)
    return app


def serve(host: str, port: int, *, default_tenant: Optional[str] = None, topic: Optional[str] = None) -> None:
    """The bridge from ingest's settings; ``default_tenant`` overrides ``CASETRAIL_DEFAULT_TENANT``."""
    from casetrail.privacy.keystore import default_keystore
    from casetrail.settings import kafka_settings
    from casetrail.topic_admin import resolved_name
    from services.ingest.settings import IngestSettings, webhook_secret_variables
    from services.ingest.signatures import load_secrets

    config = IngestSettings()
    codec = AvroCodec(config.schema_registry_url, config.registry_config())
    verifier = Verifier(load_secrets(config.webhook_secrets_file, webhook_secret_variables(),
                                     default_tenant or config.default_tenant))
    if not verifier.sources():
        log.warning("no webhook secrets configured (CASETRAIL_WEBHOOK_SECRETS_FILE): every request will be refused with 401")
    keystore = default_keystore(config)
    # Every payload is sealed before it is written: a store that cannot seal (away, or a master key
    # that does not open its keys) would refuse every webhook with 503, so refuse to start instead.
    log.info("key store checked", extra={"keystore": keystore.check()})
    producer = IntakeProducer(kafka_settings().librdkafka_config(), topic or resolved_name(INTAKE), codec)
    app = create_app(producer, verifier, max_payload_bytes=config.max_payload_bytes,
                     budget_seconds=config.ingest_budget_seconds, keystore=keystore)
    try:
        web.run_app(app, host=host, port=port, print=None)
    finally:
        producer.close()
