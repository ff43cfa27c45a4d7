"""From intake record to redacted ConversationReceived, plus redeliveries and bad input."""

import json
from pathlib import Path

import pytest

from casetrail.codec import AvroCodec
from casetrail.events import ConversationReceived, IntakeTicket, LocaleStatus, ReplyOutbound, ProducerInfo
from casetrail.privacy.keystore import KeyErased, KeyStore
from services.ingest.intake_decoding import intake_record
from services.ingest.locale_detection import LocaleDetector
from services.ingest.normalise import IntakeRecord, Normaliser, conversation_id
from services.ingest.processing import IngestProcessor
from services.ingest.redaction import Redactor
from services.ingest.rejections import Rejected

FIXTURES = Path(__file__).parent / "fixtures"
DETECTOR = LocaleDetector()


@pytest.fixture(scope="module", autouse=True)
def warm_detector():
    # as the service does at start-up: loading the language models is not a ticket's CPU budget
    # (run alone, the first test paid ~3 s of model loading and was refused as too_expensive)
    DETECTOR.warm_up()


def record(source, name, tenant="acme"):
    return IntakeRecord(tenant=tenant, source=source, payload=(FIXTURES / name).read_bytes())


def test_redactor_numbers_repeated_values_consistently():
    r = Redactor("en", ("Teresa Smith",))
    a = r.redact("Teresa Smith, write to t.smith@example.com")
    b = r.redact("again: t.smith@example.com or tsmith@example.org")
    assert a == "[NAME_1], write to [EMAIL_1]"
    assert b == "again: [EMAIL_1] or [EMAIL_2]"
    assert r.findings == {"NAME": 1, "EMAIL": 3}


def test_normalised_event_is_redacted_sealed_and_avro_encodable(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    n = Normaliser(locale_detector=DETECTOR, sealer=store)
    result = n.normalise(record("freshdesk", "freshdesk_ticket.json"))
    event = result.event
    conv = event.conversation
    text = " ".join(m.body_text for m in conv.messages)
    assert "38703181745" not in text and "612 34567" not in text and "Šimkūnienė" not in text
    assert "[NATIONAL_ID_1]" in text and "[PHONE_1]" in text
    assert {f.kind: f.count for f in conv.redactions} == {"NAME": 1, "NATIONAL_ID": 1, "PHONE": 1}
    assert event.locale == "lt" and conv.locale_status == LocaleStatus.detected
    assert event.conversation_id == conversation_id("acme", "freshdesk", "20")
    original = json.loads(store.open(conv.original))
    assert "38703181745" in original["messages"][0]["text"]
    store.erase("acme", conv.customer.customer_id)
    with pytest.raises(KeyErased):
        store.open(conv.original)
    codec = AvroCodec()
    assert codec.decode(codec.encode(event), expected=ConversationReceived) == event


def test_conversation_ids_are_stable_and_tenant_scoped():
    assert conversation_id("a", "zendesk", "1") == conversation_id("a", "zendesk", "1")
    assert conversation_id("a", "zendesk", "1") != conversation_id("b", "zendesk", "1")


def test_unknown_language_is_marked_not_guessed():
    payload = json.dumps({"external_id": "x", "customer": {"id": "c"}, "messages": [
        {"sent_at": "2025-03-03T10:00:00Z", "text": "Labdien, vēlos atgriezt preci, kas pienāca bojāta."}]}).encode()
    event = Normaliser(locale_detector=DETECTOR).normalise(IntakeRecord("acme", "generic", payload)).event
    assert event.locale == "und" and event.conversation.locale_status == LocaleStatus.unknown


@pytest.mark.parametrize("payload,source,code", [
    (b"\xff\xfe{}", "generic", "invalid_utf8"),
    (b"", "generic", "empty_body"),
    (b"{}", "jira", "unknown_source"),
    (b'{"x": "' + b"a" * 2_000_000 + b'"}', "generic", "payload_too_large"),
])
def test_bad_records(payload, source, code):
    with pytest.raises(Rejected) as err:
        Normaliser(locale_detector=DETECTOR).normalise(IntakeRecord("acme", source, payload))
    assert err.value.reason_code == code


def test_html_bomb_is_refused():
    html = "<div>" * 5000 + "x" + "</div>" * 5000
    payload = json.dumps({"external_id": "x", "customer": {"id": "c"}, "messages": [
        {"sent_at": "2025-03-03T10:00:00Z", "html": html}]}).encode()
    with pytest.raises(Rejected) as err:
        Normaliser(locale_detector=DETECTOR).normalise(IntakeRecord("acme", "generic", payload))
    assert err.value.reason_code == "html_bomb"


def test_processor_drops_redelivery_and_detects_reopen_after_bot_answer():
    seen, answered = {}, {}
    p = IngestProcessor(Normaliser(locale_detector=DETECTOR), seen, answered)
    first = p.process(record("zendesk", "zendesk_event_comment_added.json"), position="t:0:1")
    assert first.conversation is not None and first.recontact is None
    assert p.process(record("zendesk", "zendesk_event_comment_added.json"), position="t:0:2").duplicate
    reply = ReplyOutbound(conversation_id=first.conversation.conversation_id, tenant="acme", locale="fr",
                          producer=ProducerInfo(service="router", version="1"), idempotency_key="k",
                          channel="web", source="zendesk", external_id="35440", body="…", draft_id="d",
                          sent_by="bot", occurred_at=first.conversation.conversation.messages[-1].sent_at.replace(hour=9))
    assert p.record_reply(reply) == "bot"
    again = json.loads((FIXTURES / "zendesk_event_comment_added.json").read_text())
    again["id"] = "01JQNEWEVENT"
    again["time"] = "2025-03-07T10:00:00Z"
    out = p.process(IntakeRecord("acme", "zendesk", json.dumps(again).encode()), position="t:0:3")
    assert out.recontact is not None and out.recontact.answered_by == "bot"
    assert out.recontact.original_conversation_id == first.conversation.conversation_id


def test_intake_record_accepts_avro_and_raw_with_headers():
    codec = AvroCodec()
    ticket = IntakeTicket(tenant="t1", source="generic", payload=b"{}", event_id="e-1")
    decoded = intake_record(codec.encode(ticket), {}, codec, "default")
    assert (decoded.tenant, decoded.source, decoded.intake_event_id) == ("t1", "generic", "e-1")
    raw = intake_record(b"{}", {"casetrail-source": b"Zendesk"}, codec, "default")
    assert (raw.tenant, raw.source) == ("default", "zendesk")
    raw = intake_record(b"{}", {"casetrail-source": b"generic", "casetrail-tenant": b"t2"}, codec, "default")
    assert raw.tenant == "t2"
    with pytest.raises(Rejected) as err:
        intake_record(b"{}", {}, codec, "default")
    assert err.value.reason_code == "unknown_source"
