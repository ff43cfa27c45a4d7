"""Every connector on realistic payloads (threads, HTML mail, attachments, en/de/fr/es/lt text)."""

from pathlib import Path

import pytest

from casetrail.events import AuthorRole
from services.ingest.connectors import connector_for, registry
from services.ingest.rejections import Rejected

FIXTURES = Path(__file__).parent / "fixtures"


def parse(source: str, name: str):
    return connector_for(source).parse((FIXTURES / name).read_bytes(), {})


def test_registry_discovers_one_connector_per_module():
    assert set(registry()) == {"zendesk", "intercom", "freshdesk", "servicenow", "email", "generic"}


def test_unknown_source_names_the_known_ones():
    with pytest.raises(Rejected) as err:
        connector_for("jira")
    assert err.value.reason_code == "unknown_source" and "zendesk" in err.value.reason


def test_zendesk_ticket_api_thread_skips_internal_notes():
    t = parse("zendesk", "zendesk_ticket_api.json")
    assert (t.external_id, t.channel, t.source_priority, t.status) == ("35436", "email", "high", "open")
    assert [m.author_role for m in t.messages] == [AuthorRole.customer, AuthorRole.agent, AuthorRole.customer]
    assert all("Interne Notiz" not in m.body_text for m in t.messages)
    assert t.messages[0].attachments[0].filename == "foto_schaden.jpg"
    assert t.messages[0].attachments[0].size_bytes == 284311
    assert "beschädigt" in t.messages[0].body_text
    assert t.customer.names == ("Jürgen Weiß",) and t.customer.tier == "premium"
    assert t.customer.lifetime_value == 1840.5 and t.customer.region == "DE"
    assert t.customer.timezone == "Europe/Berlin" and t.declared_locale == "de"
    assert t.update_stamp == "2025-03-04T07:01:02Z"


def test_zendesk_comment_added_event():
    t = parse("zendesk", "zendesk_event_comment_added.json")
    assert t.external_id == "35440" and t.channel == "web" and t.status == "open"
    assert t.messages[0].author_role == AuthorRole.customer
    assert "remboursement" in t.messages[0].body_text
    assert t.update_stamp == "01JQMQH83YNAKWSWJ8B1QH2NSC"
    assert t.customer.names == ("Élodie Lefèvre",)
    assert t.messages[0].sent_at.microsecond == 123000  # nanosecond stamp truncated to millis


def test_zendesk_unsupported_event_and_internal_note_are_refused():
    with pytest.raises(Rejected) as err:
        connector_for("zendesk").parse(b'{"type": "zen:event-type:ticket.priority_changed", "detail": {}}', {})
    assert err.value.reason_code == "unsupported_event"


def test_intercom_notification_html_parts_and_roles():
    t = parse("intercom", "intercom_conversation_user_replied.json")
    assert t.external_id == "147258369" and t.customer.customer_id == "cus_7781"
    roles = [m.author_role for m in t.messages]
    assert roles == [AuthorRole.customer, AuthorRole.agent, AuthorRole.customer]  # the note is excluded
    assert "<p>" not in t.messages[0].body_text and "ES-88231" in t.messages[0].body_text
    assert t.messages[0].attachments[0].content_type == "application/pdf"
    assert t.customer.tier == "gold" and t.customer.lifetime_value == 2300.0
    assert t.source_priority == "high" and t.tags == ["pago"]


def test_freshdesk_ticket_with_conversations():
    t = parse("freshdesk", "freshdesk_ticket.json")
    assert t.status == "open" and t.source_priority == "high" and t.channel == "web"
    assert len(t.messages) == 3 and t.messages[-1].author_role == AuthorRole.customer
    assert "sugadintą" in t.messages[0].body_text and "<br>" not in t.messages[0].body_text
    assert t.customer.tier == "silver" and t.customer.region == "LT"
    assert t.messages[0].attachments[0].filename == "nuotrauka.png"


def test_freshdesk_automation_webhook():
    t = parse("freshdesk", "freshdesk_webhook.json")
    assert t.external_id == "21" and t.tags == ["login", "account"]
    assert t.customer.customer_id == "43002110000" and t.customer.names == ("Oliver Bennett",)


def test_servicenow_display_value_record_and_journal():
    t = parse("servicenow", "servicenow_incident.json")
    assert t.external_id == "INC0010023" and t.status == "in_progress" and t.source_priority == "2 - High"
    assert [m.author_role for m in t.messages] == [AuthorRole.customer, AuthorRole.agent, AuthorRole.customer]
    assert all("Zertifikat" not in m.body_text for m in t.messages)  # work notes stay internal
    assert t.customer.names == ("Lukas Schäfer",) and t.tags == ["vpn", "remote"]


def test_generic_format():
    t = parse("generic", "generic_chat.json")
    assert t.channel == "chat" and t.declared_locale == "lt"
    assert [m.author_role for m in t.messages] == [AuthorRole.customer, AuthorRole.bot, AuthorRole.customer]
    assert t.messages[2].body_text == "Gal galite patikrinti? Pridedu sąskaitą."
    assert t.customer.lifetime_value == 912.4 and t.customer.attributes == {"segment": "retail"}


def test_email_html_reply_threads_by_references_and_strips_quote_and_signature():
    t = parse("email", "email_html_reply_fr.eml")
    assert t.external_id == "CAF=1st.msg@mail.exemple.fr"  # root of References
    body = t.messages[0].body_text
    assert "abîmé" in body and "Merci pour votre message" not in body and "Cordialement" not in body
    assert t.subject == "Re: Commande FR-7781 – colis abîmé"
    assert t.messages[0].attachments[0].filename == "colis.jpg"
    assert t.customer.customer_id.startswith("email-") and "@" not in t.customer.customer_id
    assert t.customer.names == ("Claire Dubois",) and t.declared_locale == "fr"


def test_email_plain_iso8859_13_lithuanian():
    t = parse("email", "email_plain_lt_iso8859-13.eml")
    assert t.external_id == "lt-001@pastas.lt" and t.subject == "Užsakymas sugadintas"
    body = t.messages[0].body_text
    assert "sugadintas" in body and "rašė" not in body and "Pagarbiai" not in body
    # The fixture's From display name is sent as raw UTF-8 bytes (RFC 6532), not an encoded word.
    assert t.customer.names == ("Žydrūnas Petraitis",)


def test_email_unencoded_latin1_header_falls_back_to_latin1():
    raw = "From: Léa Martin <lea@example.fr>\r\nMessage-ID: <x@y>\r\n\r\nBonjour, ma commande est en retard.".encode("latin-1")
    t = connector_for("email").parse(raw, {})
    assert t.customer.names == ("Léa Martin",)


@pytest.mark.parametrize("source,payload,code", [
    ("generic", b'{"external_id": "1"', "invalid_json"),
    ("generic", b'{"external_id": "1", "customer": {"id": "c"}}', "missing_field"),
    ("generic", b'{"external_id": "1", "customer": {"id": "c"}, "messages": [{"sent_at": "2025-01-01T00:00:00Z", "text": "  "}]}', "empty_body"),
    ("zendesk", b'{"ticket": {"id": 1}}', "missing_field"),
    ("email", b"no headers here", "invalid_email"),
])
def test_bad_payloads_are_rejected_with_reason(source, payload, code):
    with pytest.raises(Rejected) as err:
        connector_for(source).parse(payload, {})
    assert err.value.reason_code == code
