"""The fault run's refused-output ticket (casetrail_tools.chaos.oversized_ticket) rests on sizes:
ingest must accept it and its own output must fit, while triage's output (the same conversation plus
the embedding) must not fit the broker's limit. If a limit or an event changes, this says so before the
fault run quietly stops testing a refused output."""

from __future__ import annotations

import json

from casetrail.codec import AvroCodec
from casetrail.events import ConversationTriaged, ProducerInfo, TriageResult
from casetrail.topics import CONVERSATIONS_RECEIVED, CONVERSATIONS_TRIAGED
from casetrail_tools.chaos import TENANT, oversized_ticket
from casetrail_tools.intake_publisher import ticket_from_line
from services.ingest.locale_detection import LocaleDetector
from services.ingest.normalise import DEFAULT_MAX_PAYLOAD_BYTES, IntakeRecord, Normaliser
from services.ingest.processing import IngestProcessor

EMBEDDING_DIMENSIONS = 384  # the default multilingual-e5-small model


def test_ingest_passes_the_oversized_ticket_on_and_triage_output_exceeds_the_topic_limit():
    ticket = ticket_from_line(oversized_ticket("t1"), TENANT)
    assert len(ticket.payload) <= DEFAULT_MAX_PAYLOAD_BYTES

    record = IntakeRecord(tenant=TENANT, source=ticket.source, payload=ticket.payload)
    received = IngestProcessor(Normaliser(locale_detector=LocaleDetector()), {}, {}).process(record).conversation
    codec = AvroCodec()
    received_bytes = len(codec.encode(received, topic=CONVERSATIONS_RECEIVED.name))
    assert received_bytes < CONVERSATIONS_RECEIVED.max_message_bytes - 1024  # room for key, headers, batch

    triaged = ConversationTriaged(
        **received.derive("triage", ProducerInfo(service="triage", version="test")),
        conversation=received.conversation,
        triage=TriageResult(intent="order_status", intent_confidence=0.9, category="order_status",
                            embedding=[0.1] * EMBEDDING_DIMENSIONS),
    )
    assert len(codec.encode(triaged, topic=CONVERSATIONS_TRIAGED.name)) > CONVERSATIONS_TRIAGED.max_message_bytes


def test_the_oversized_ticket_is_valid_json_a_customer_could_send():
    payload = oversized_ticket("t2")["payload"]
    assert json.loads(json.dumps(payload))["messages"][0]["text"].startswith("where is my order")
