"""The fault run's refused-output ticket (casetrail_tools.chaos.oversized_ticket) rests on sizes:
ingest must accept the payload (under its 1 MiB limit), while the conversation it makes — the
redacted text plus the original sealed under the customer's key, as the service runs by default —
must be larger than the broker accepts on ``conversations.received.v1``. If a limit or the event
changes, this says so before the fault run quietly stops testing a refused output."""

from __future__ import annotations

import json

from casetrail.codec import AvroCodec
from casetrail.privacy.keystore import KeyStore
from casetrail.topics import CONVERSATIONS_RECEIVED
from casetrail_tools.chaos import TENANT, oversized_ticket
from casetrail_tools.intake_publisher import ticket_from_line
from services.ingest.locale_detection import LocaleDetector
from services.ingest.normalise import DEFAULT_MAX_PAYLOAD_BYTES, IntakeRecord, Normaliser
from services.ingest.processing import IngestProcessor
from services.ingest.settings import IngestSettings


def test_ingest_accepts_the_oversized_ticket_and_its_conversation_exceeds_the_topic_limit(tmp_path):
    assert IngestSettings().ingest_seal_originals  # the default this premise relies on
    ticket = ticket_from_line(oversized_ticket("t1"), TENANT)
    assert len(ticket.payload) <= DEFAULT_MAX_PAYLOAD_BYTES

    normaliser = Normaliser(locale_detector=LocaleDetector(), sealer=KeyStore(tmp_path / "keys.sqlite3"))
    record = IntakeRecord(tenant=TENANT, source=ticket.source, payload=ticket.payload)
    received = IngestProcessor(normaliser, {}, {}).process(record).conversation
    assert received is not None and received.conversation.original is not None
    size = len(AvroCodec().encode(received, topic=CONVERSATIONS_RECEIVED.name))
    assert size > CONVERSATIONS_RECEIVED.max_message_bytes


def test_the_oversized_ticket_is_valid_json_a_customer_could_send():
    payload = oversized_ticket("t2")["payload"]
    assert json.loads(json.dumps(payload))["messages"][0]["text"].startswith("where is my order")
