"""Real payload shapes (issue 17): each fixture is written from the vendor's documentation or a
mail-parser corpus (fixtures/vendor/README.md names the source of each)."""

from pathlib import Path

import pytest

from casetrail.events import AuthorRole, AutomatedKind
from services.ingest.connectors import connector_for
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.rejections import Rejected

VENDOR = Path(__file__).parent / "fixtures" / "vendor"


def parse(source: str, name: str):
    return connector_for(source).parse((VENDOR / name).read_bytes(), {})


def test_bare_zendesk_ticket_object_is_accepted():
    ticket = parse("zendesk", "zendesk_ticket_object_bare.json")
    assert (ticket.external_id, ticket.customer.customer_id, ticket.status) == ("35436", "20978392", "open")
    assert "printer is on fire" in ticket.subject and "arrived damaged" in ticket.messages[0].body_text
    assert ticket.automated is None


def test_zendesk_ticket_made_by_an_automation_is_flagged():
    ticket = parse("zendesk", "zendesk_ticket_created_by_trigger.json")
    assert ticket.automated.kind == AutomatedKind.auto_generated
    assert ticket.automated.signal == "via.source.rel: automation"


def test_freshdesk_fdk_product_event_reads_data_ticket():
    ticket = parse("freshdesk", "freshdesk_fdk_onTicketCreate.json")
    assert (ticket.external_id, ticket.customer.customer_id) == ("4711", "48000123456")
    assert ticket.customer.names == ("Jürgen Weiß",) and ticket.customer.tier == "gold"
    assert "Rückerstattung" in ticket.messages[0].body_text and ticket.declared_locale == "de"


def test_freshdesk_product_event_without_ticket_names_the_missing_field():
    with pytest.raises(Rejected) as err:
        connector_for("freshdesk").parse(b'{"event": "onTicketCreate", "data": {"requester": {"id": 1}}}', {})
    assert err.value.reason_code == "missing_field" and "data.ticket" in err.value.reason
    with pytest.raises(Rejected) as err:
        connector_for("freshdesk").parse(b'{"event": "onContactCreate", "data": {"contact": {"id": 1}}}', {})
    assert err.value.reason_code == "unsupported_event"


def test_intercom_ticket_object_keeps_comments_and_drops_notes():
    ticket = parse("intercom", "intercom_ticket_object.json")
    assert (ticket.external_id, ticket.customer.customer_id, ticket.subject) == ("51", "cus_8812", "Refund not received")
    texts = [m.body_text for m in ticket.messages]
    assert texts == ["I returned my order three weeks ago and still have no refund.", "My order number is 100234."]
    assert all(m.author_role == AuthorRole.customer for m in ticket.messages)


def test_intercom_legacy_notification_event_with_user_and_conversation_message():
    ticket = parse("intercom", "intercom_legacy_notification_event.json")
    assert (ticket.external_id, ticket.customer.customer_id) == ("1234567890", "cus_4411")
    assert ticket.customer.names == ("Élodie Lefèvre",)
    assert "pas reçu ma commande" in ticket.messages[0].body_text
    assert ticket.update_stamp == "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3"


def test_servicenow_record_with_empty_caller_uses_opened_by():
    ticket = parse("servicenow", "servicenow_incident_opened_by.json")
    assert ticket.customer.customer_id == "681ccaf9c0a8016400b98a06818d57c7"
    assert ticket.customer.names == ("Beth Anglin",) and ticket.external_id == "INC0010021"


def test_email_with_8bit_filename_and_iso_8859_8_i_charset():
    ticket = parse("email", "email_iso-8859-8-i_8bit_filename.eml")
    assert ticket.subject == "הזמנה שלא הגיעה"
    assert ticket.messages[0].body_text.startswith("שלום, ההזמנה שלי לא הגיעה עדיין")
    assert [a.filename for a in ticket.messages[0].attachments] == ["חשבונית.pdf"]
    assert ticket.automated is None


@pytest.mark.parametrize("name, kind, signal", [
    ("email_bounce_delivery_status.eml", AutomatedKind.bounce, "Content-Type: multipart/report; report-type=delivery-status"),
    ("email_out_of_office_exchange.eml", AutomatedKind.auto_reply, "Auto-Submitted: auto-replied"),
    ("email_list_digest.eml", AutomatedKind.mailing_list, "List-Id"),
])
def test_bounces_auto_replies_and_digests_are_flagged(name, kind, signal):
    ticket = parse("email", name)
    assert (ticket.automated.kind, ticket.automated.signal) == (kind, signal)


def test_the_flag_reaches_the_conversation_event():
    normaliser = Normaliser(detect_locale=False)
    record = IntakeRecord(tenant="acme-shop", source="email", content_type="message/rfc822",
                          payload=(VENDOR / "email_out_of_office_exchange.eml").read_bytes())
    conversation = normaliser.normalise(record).event.conversation
    assert conversation.automated == AutomatedKind.auto_reply
    assert conversation.automated_signal == "Auto-Submitted: auto-replied"
    assert "automated:auto_reply" in conversation.tags


@pytest.mark.parametrize("headers, kind", [
    ({"X-Autoreply": "yes"}, AutomatedKind.auto_reply),
    ({"Precedence": "bulk"}, AutomatedKind.mailing_list),
    ({"Auto-Submitted": "auto-generated"}, AutomatedKind.auto_generated),
    ({"Subject": "Réponse automatique : absent jusqu'au 12"}, AutomatedKind.auto_reply),
    ({"Subject": "Automatinis atsakymas: atostogos"}, AutomatedKind.auto_reply),
    ({"Auto-Submitted": "no"}, None),
])
def test_header_markers(headers, kind):
    lines = "".join(f"{k}: {v}\r\n" for k, v in {"Subject": "Hello", **headers}.items())
    raw = f"From: A <a@example.com>\r\nMessage-ID: <h@x>\r\n{lines}\r\nMy parcel is late.\r\n".encode()
    ticket = connector_for("email").parse(raw, {})
    assert (ticket.automated.kind if ticket.automated else None) == kind
