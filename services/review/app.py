"""Kafka wiring of the review console: the projection consumer and the web application.

Why a dedicated confluent-kafka consumer instead of runtime processors (as
audit does): the console reads several topics into one store in batches and
produces only when an agent clicks, from a web request. The contract is the
runtime's: store first, commit after (redelivery is harmless, events are
deduplicated by id).

``svc`` is what ``casetrail run review`` starts: the consumer in a background
thread and the console (uvicorn) in the foreground; SIGTERM stops both.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Optional

import uvicorn

from casetrail.http_server import GracefulServer, serve_beside_consumer

from casetrail import topics
from casetrail.settings import KafkaSettings, kafka_settings, settings
from casetrail.topic_admin import prefixed, resolved_name

from services.review import metrics
from services.review.projection import Projector
from services.review.store import ReviewStore

if TYPE_CHECKING:
    from services.review.settings import ReviewSettings

log = logging.getLogger("casetrail.review")

GROUP = "casetrail-review"  # without the topic prefix; the chart's ACLs add it (casetrail_tools/kafka_access.py)
_CASE_TOPICS = (topics.DRAFTS_VERIFIED, topics.DECISIONS_ROUTED, topics.FEEDBACK_AGENT, topics.REPLIES_OUTBOUND,
                topics.SLA_EVENTS, topics.DELIVERY_RECEIPTS, topics.ERASURES)


def topic_names(prefix: Optional[str] = None) -> list[str]:
    """The topics the projection folds."""
    return [resolved_name(spec, prefix) for spec in _CASE_TOPICS]


def consumer_group(prefix: Optional[str] = None) -> str:
    """The projection consumer's group on the cluster: the topic prefix + ``casetrail-review``."""
    return prefixed(GROUP, prefix)


class ProjectionConsumer:
    """Consume the case topics, apply each batch to the store, then commit it."""

    def __init__(self, projector: Projector, *, group_id: Optional[str] = None, kafka: Optional[KafkaSettings] = None,
                 batch_size: int = 500):
        self.projector = projector
        self.group_id = group_id or consumer_group()
        self.kafka = kafka or kafka_settings()
        self.batch_size = batch_size
        self._stop = threading.Event()
        self.assigned = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        from confluent_kafka import Consumer, KafkaException

        from casetrail.runtime.consumer_errors import usable

        consumer = Consumer({**self.kafka.librdkafka_config(), "group.id": self.group_id,
                             "client.id": f"{self.kafka.client_id_prefix}-review", "enable.auto.commit": False,
                             "auto.offset.reset": "earliest",
                             # the services write in Kafka transactions: an aborted one never reaches the console
                             "isolation.level": "read_committed"})
        consumer.subscribe(topic_names(settings().topic_prefix),
                           on_assign=lambda _consumer, _partitions: self.assigned.set())
        try:
            while not self._stop.is_set():
                messages = consumer.consume(num_messages=self.batch_size, timeout=0.5)
                values = []
                for message in messages:
                    if not usable(message, "review consumer"):  # a fatal error stops the service (exit 1: restarted)
                        continue
                    if message.value() is not None:
                        values.append(message.value())
                if not values:
                    continue
                result = self.projector.apply(values)
                metrics.RECORDS.labels("stored").inc(len(values) - sum(result.skipped.values()))
                for reason, n in result.skipped.items():
                    metrics.RECORDS.labels("skipped").inc(n)
                try:
                    consumer.commit(asynchronous=False)
                except KafkaException as exc:  # stored already; a redelivery is deduplicated
                    log.warning("offset commit failed; the next batch's commit covers it",
                                extra={"error": exc.args[0].name()})
        finally:
            consumer.close()


def rebuild_from_topics(projector: Projector, *, kafka: Optional[KafkaSettings] = None, prefix: Optional[str] = None,
                        batch_size: int = 500) -> int:
    """Fold every record the case topics hold now into ``projector``'s store; returns how many were read.

    The topics are read whole from their beginning up to each partition's end as it was when the
    rebuild started (``casetrail.runtime.topic_reader``): it ends when everything is read, not after an
    idle pause, and it joins no group and commits nothing. confluent-kafka's Consumer still wants a group
    id, and the console's own is the one its KafkaUser may use; assigning partitions under it disturbs no
    member."""
    from casetrail.runtime.topic_reader import StartAt, WholeTopicReader

    kafka = kafka or kafka_settings()
    reader = WholeTopicReader({**kafka.librdkafka_config(), "group.id": consumer_group(prefix),
                               "client.id": f"{kafka.client_id_prefix}-review-rebuild"},
                              topic_names(prefix), StartAt.beginning)
    try:
        unreadable = reader.assign()
        if unreadable:
            raise RuntimeError("cannot read " + "; ".join(f"{topic} ({why})" for topic, why in sorted(unreadable.items())))
        read, values = 0, []
        for message in reader.to_end():
            if message.value():
                values.append(message.value())
            if len(values) >= batch_size:
                projector.apply(values)
                read, values = read + len(values), []
        if values:
            projector.apply(values)
            read += len(values)
        return read
    finally:
        reader.close()


def build_console(store: ReviewStore, *, publisher=None, keystore=None, config=None,
                  settings: Optional["ReviewSettings"] = None):
    """The web application over ``store`` with the real collaborators (codec, producer, policies, KB),
    from ``settings`` (default: read now) and the console configuration ``config`` (default: loaded from them)."""
    from casetrail import __version__
    from casetrail.codec import AvroCodec
    from casetrail.events import ProducerInfo
    from casetrail.policy.tenant import load_policies

    from services.review.actions import KafkaFeedbackPublisher
    from services.review.config import load_config
    from services.review.settings import ReviewSettings
    from services.review.web import create_app

    casetrail_settings = settings or ReviewSettings()
    config = config or load_config(settings=casetrail_settings)
    codec = AvroCodec(casetrail_settings.schema_registry_url, casetrail_settings.registry_config())
    projector = Projector(store, codec, keystore)
    publisher = publisher or KafkaFeedbackPublisher(
        codec, resolved_name(topics.FEEDBACK_AGENT, casetrail_settings.topic_prefix))
    app = create_app(store, config, publisher=publisher, projector=projector,
                     policies=load_policies(casetrail_settings.tenants_dir), keystore=keystore,
                     producer=ProducerInfo(service="review", version=__version__), clause_lookup=published_clause)
    return app, projector


def published_clause(tenant: str, locale: str, clause_id: str, kb_version: str) -> Optional[tuple[str, str]]:
    """A cited clause the draft event does not carry, exactly as published at ``kb_version``."""
    from casetrail.knowledge import resolve

    try:
        clause = resolve(tenant, locale, clause_id, kb_version)
    except Exception:  # noqa: BLE001 - the page says the clause could not be found
        return None
    return (clause.title, clause.text) if clause is not None else None


class ReviewService:
    """``casetrail run review``: the projection consumer plus the console in one process."""

    name = "review"

    def run(self, loglevel: Optional[str] = None) -> None:
        from casetrail.runtime.service import DEFAULT_PORTS
        from casetrail.runtime.structured_logging import configure_logging
        from services.review.settings import ReviewSettings

        config = ReviewSettings()
        configure_logging("review", (loglevel or config.log_level).upper())
        if config.create_topics:
            from casetrail.topic_admin import apply_topics

            for line in apply_topics(topics.ALL_TOPICS).drift:
                log.warning("topic drift", extra={"drift": line})
        try:
            from casetrail.privacy.keystore import default_keystore

            keystore = default_keystore(config)
            keystore.check()
        except Exception as exc:  # noqa: BLE001 - the console still works; originals and examples' text are unavailable
            log.warning("no key store available: originals cannot be revealed, examples keep no text",
                        extra={"error": str(exc)})
            keystore = None
        store = ReviewStore()
        app, projector = build_console(store, keystore=keystore, settings=config)
        started = time.monotonic()
        try:
            serve_beside_consumer("review", ProjectionConsumer(projector), app, lambda web_app: GracefulServer(
                uvicorn.Config(web_app, host=config.http_host, port=config.http_port or DEFAULT_PORTS["review"],
                               log_level="warning", proxy_headers=True)), log)
        finally:
            store.close()
            log.info("review stopped", extra={"seconds": round(time.monotonic() - started, 1)})


svc = ReviewService()
