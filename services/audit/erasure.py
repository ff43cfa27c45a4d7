"""Erasure (crypto-shredding) of one customer: destroy the key, publish the audited event, apply it.

What ``casetrail audit erase`` runs. The event goes to ``audit.erasures.v1``
(acks=all), so a rebuild of the store from the log erases again.
"""

from __future__ import annotations

from typing import Optional

from casetrail.settings import KafkaSettings, kafka_settings, settings
from casetrail.topic_admin import resolved_name
from casetrail.topics import ERASURES
from services.audit import metrics
from services.audit.store import AuditStore


def publish(topic: str, key: Optional[str], value: bytes, kafka: Optional[KafkaSettings] = None) -> None:
    """Produce one record and wait for the broker's acknowledgement (acks=all)."""
    from confluent_kafka import KafkaException, Producer

    producer = Producer((kafka or kafka_settings()).producer_config())
    errors: list = []
    producer.produce(topic, key=key.encode() if key else None, value=value,
                     on_delivery=lambda err, _msg: errors.append(err) if err else None)
    remaining = producer.flush(30)
    if remaining or errors:
        raise KafkaException(errors[0] if errors else "erasure event not acknowledged within 30 s")


def erase_customer(tenant: str, customer_id: str, requested_by: str, reason: str = "", *,
                   store: Optional[AuditStore] = None, keystore=None, prefix: Optional[str] = None):
    """Crypto-shred one customer: destroy the key, publish the audited event, apply it to the store.

    The key goes first: if publishing then fails, the data is already
    unreadable and the command can simply be repeated (the key store's erase
    is idempotent and returns a tombstone id).
    """
    from casetrail import __version__
    from casetrail.codec import AvroCodec
    from casetrail.events import PersonalDataErased, ProducerInfo
    from casetrail.privacy.keystore import default_keystore

    keystore = keystore or default_keystore()
    key_id = keystore.erase(tenant, customer_id)
    event = PersonalDataErased(producer=ProducerInfo(service="audit", version=__version__), tenant=tenant,
                               customer_id=customer_id, key_id=key_id, requested_by=requested_by, reason=reason)
    config = settings()
    codec = AvroCodec(config.schema_registry_url, config.registry_config())
    topic = resolved_name(ERASURES, prefix)
    publish(topic, customer_id, codec.encode(event, topic=topic))
    metrics.ERASURES.inc()
    if store is not None:
        store.ingest([("PersonalDataErased", event.model_dump())])
    return event
