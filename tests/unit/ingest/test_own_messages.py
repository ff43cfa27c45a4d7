"""casetrail never answers itself: its own posts, reported back by a platform, are recognised at
ingest and not handed to triage; acknowledgements are not recorded as answers."""

from __future__ import annotations

import json
from pathlib import Path

from casetrail.events import ProducerInfo, ReplyOutbound
from casetrail.events.decision import ReplyKind
from casetrail.own_messages import marker_for, message_id_for
from services.delivery.disclosure import with_disclosure_and_reference
from services.ingest.locale_detection import LocaleDetector
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.processing import IngestProcessor

FIXTURES = Path(__file__).parent / "fixtures"
DETECTOR = LocaleDetector()


def _zendesk_comment(body: str, *, staff: bool) -> bytes:
    doc = json.loads((FIXTURES / "zendesk_event_comment_added.json").read_text())
    doc["event"]["comment"]["body"] = body
    doc["event"]["comment"]["author"]["is_staff"] = staff
    doc["id"] = f"evt-{abs(hash(body))}"
    return json.dumps(doc).encode()


def test_casetrails_own_zendesk_comment_coming_back_is_not_handed_to_triage():
    posted = with_disclosure_and_reference("Your refund was sent on Monday.", "en", marker_for("c:d"))
    processor = IngestProcessor(Normaliser(locale_detector=DETECTOR), {}, {})
    outcome = processor.process(IntakeRecord("acme", "zendesk", _zendesk_comment(posted, staff=True)))
    assert outcome.own_message
    assert outcome.conversation is None and outcome.answer_recorded is None


def test_a_customer_quoting_our_reply_is_still_the_customers_message():
    quoted = ("Thanks, but it has not arrived.\n\n> Your refund was sent on Monday.\n> ref "
              + marker_for("c:d") + "\n\nCan you check again?")
    processor = IngestProcessor(Normaliser(locale_detector=DETECTOR), {}, {})
    outcome = processor.process(IntakeRecord("acme", "zendesk", _zendesk_comment(quoted, staff=False)))
    assert not outcome.own_message
    assert outcome.conversation is not None


def test_our_reply_email_coming_back_into_the_intake_mailbox_is_recognised():
    marker = marker_for("c:e")
    raw = (f"From: Support <support@acme.example>\r\nTo: ann@example.org\r\nSubject: Re: Order\r\n"
           f"Message-ID: <{message_id_for(marker)}>\r\nIn-Reply-To: <root@mail.example.org>\r\n"
           f"References: <root@mail.example.org>\r\nAuto-Submitted: auto-replied\r\nX-Casetrail-Ref: {marker}\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\nYour order ships today.\r\n\r\n-- \r\nAI\r\n").encode()
    processor = IngestProcessor(Normaliser(locale_detector=DETECTOR), {}, {})
    outcome = processor.process(IntakeRecord("acme", "email", raw))
    assert outcome.own_message and outcome.conversation is None


def test_an_acknowledgement_is_not_recorded_as_an_answer():
    processor = IngestProcessor(Normaliser(locale_detector=DETECTOR), {}, {})
    first = processor.process(IntakeRecord("acme", "zendesk", _zendesk_comment("Where is my parcel?", staff=False)))
    conversation_id = first.conversation.conversation_id
    common = dict(conversation_id=conversation_id, tenant="acme", locale="en",
                  producer=ProducerInfo(service="router", version="t"), channel="web", source="zendesk",
                  external_id="35440", body="...", draft_id="d1", sent_by="bot")
    ack = ReplyOutbound(idempotency_key=f"{conversation_id}:d1:acknowledgement", kind=ReplyKind.acknowledgement, **common)
    answer = ReplyOutbound(idempotency_key=f"{conversation_id}:d1", **common)
    assert processor.record_reply(ack) is None
    assert processor.record_reply(answer) == "bot"
