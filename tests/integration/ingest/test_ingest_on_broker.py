"""Ingest on the real broker: intake records in, ConversationReceived / dead letters out.

Runs ``casetrail run ingest`` as a process with a unique topic prefix and a
temporary data directory (key store), then checks: an Avro IntakeTicket and a
raw e-mail with a ``casetrail-source`` header become redacted conversations; a
redelivery of the same ticket (as raw bytes this time) is dropped; malformed
JSON, a record naming no source and invalid UTF-8 are dead-lettered with their
reason codes - and the service keeps going.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from casetrail.codec import AvroCodec
from casetrail.events import ConversationReceived, DeadLetter, IntakeTicket
from casetrail.privacy.keystore import KeyStore
from casetrail.topics import CONVERSATIONS_RECEIVED, DEADLETTER, INTAKE, RECONTACTS, REPLIES_OUTBOUND
from tests.support.kafka import consume_until_quiet, create_topics, producer
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[2] / "unit" / "ingest" / "fixtures"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_intake_to_conversation_redelivery_and_dead_letters(kafka_bootstrap, topic_prefix, tmp_path):
    create_topics(topic_prefix, [INTAKE, CONVERSATIONS_RECEIVED, RECONTACTS, REPLIES_OUTBOUND, DEADLETTER])
    port = _free_port()
    service = ServiceProcess([sys.executable, "-m", "casetrail.cli", "run", "ingest"], prefix=topic_prefix, port=port,
                             log_dir=tmp_path, name="ingest",
                             env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CASETRAIL_DATA_DIR": str(tmp_path)}).start()
    try:
        service.wait_ready(timeout=120)
        codec = AvroCodec()
        intake = f"{topic_prefix}{INTAKE.name}"
        zendesk = (FIXTURES / "zendesk_ticket_api.json").read_bytes()
        mail = (FIXTURES / "email_plain_lt_iso8859-13.eml").read_bytes()
        p = producer()
        ticket = IntakeTicket(tenant="acme-shop", source="zendesk", payload=zendesk, external_id="35436")
        p.produce(intake, codec.encode(ticket), key=b"zendesk:35436")
        p.produce(intake, zendesk, key=b"zendesk:35436",
                  headers=[("casetrail-source", b"zendesk"), ("casetrail-tenant", b"acme-shop")])  # redelivery
        p.produce(intake, b'{"external_id": "1",', key=b"generic:1", headers=[("casetrail-source", b"generic")])
        p.produce(intake, b'{"hello": "world"}', key=b"nosource")
        p.produce(intake, b'{"external_id": "\xff"}', key=b"generic:2", headers=[("casetrail-source", b"generic")])
        p.produce(intake, mail, key=b"email:1", headers=[("casetrail-source", b"email"), ("casetrail-tenant", b"acme-shop")])
        assert p.flush(30) == 0
        messages = consume_until_quiet([f"{topic_prefix}{CONVERSATIONS_RECEIVED.name}", f"{topic_prefix}{DEADLETTER.name}"],
                                       quiet=20.0, timeout=180)
    finally:
        service.stop()

    decoded = [codec.decode(m.value()) for m in messages]
    conversations = [e for e in decoded if isinstance(e, ConversationReceived)]
    dead = [e for e in decoded if isinstance(e, DeadLetter)]
    assert sorted(c.conversation.source for c in conversations) == ["email", "zendesk"], service.log_tail()
    zd = next(c for c in conversations if c.conversation.source == "zendesk")
    assert zd.causation_id == ticket.event_id and zd.tenant == "acme-shop" and zd.locale == "de"
    text = " ".join(m.body_text for m in zd.conversation.messages)
    assert "030 1234567" not in text and "j.weiss@beispiel.de" not in text and "[EMAIL_1]" in text
    assert zd.conversation.original is not None  # sealed under the customer's key in tmp_path/keys.sqlite
    mail_event = next(c for c in conversations if c.conversation.source == "email")
    assert mail_event.locale == "lt" and "[IBAN_1]" in mail_event.conversation.messages[0].body_text
    assert sorted(d.reason_code for d in dead) == ["invalid_json", "invalid_utf8", "unknown_source"]
    assert all(d.producer.service == "ingest" for d in dead)
    # dead letters keep no raw bytes: sealed under a key of their own (the customer is not known)
    keystore = KeyStore(tmp_path / "keys.sqlite")
    assert all(d.original_value is None and keystore.open_bytes(d.sealed_original_value) for d in dead)
