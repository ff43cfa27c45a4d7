"""Requests a person must handle are recognised from the words, in five languages, without
taking ordinary mentions of people, courts or banks for them."""

from __future__ import annotations

import pytest

from services.triage.escalation_cues import ASKS_FOR_HUMAN, CHARGEBACK, LEGAL_THREAT, detect_escalation_cues


@pytest.mark.parametrize("text, flag", [
    ("Can I please talk to a real person?", ASKS_FOR_HUMAN),
    ("I don't want a bot, pass my message to a human", ASKS_FOR_HUMAN),
    ("what is your phone number", ASKS_FOR_HUMAN),
    ("Ich möchte bitte mit einem Mitarbeiter sprechen.", ASKS_FOR_HUMAN),
    ("Je veux parler à un conseiller, pas à un robot", ASKS_FOR_HUMAN),
    ("quiero hablar con una persona de verdad", ASKS_FOR_HUMAN),
    ("noriu pasikalbeti su zmogumi", ASKS_FOR_HUMAN),
    ("If this is not solved my lawyer will contact you.", LEGAL_THREAT),
    ("Ich werde rechtliche Schritte einleiten", LEGAL_THREAT),
    ("je vais saisir la DGCCRF", LEGAL_THREAT),
    ("voy a poner una reclamación en consumo y acciones legales", LEGAL_THREAT),
    ("kreipsiuosi į teismą", LEGAL_THREAT),
    ("I have started a chargeback with my card issuer", CHARGEBACK),
    ("Ich habe die Lastschrift zurückbuchen lassen", CHARGEBACK),
    ("j'ai fait opposition auprès de ma banque", CHARGEBACK),
    ("he pedido un contracargo al banco", CHARGEBACK),
])
def test_each_cue_is_recognised(text, flag):
    found = detect_escalation_cues(text)
    assert flag in found.flags
    assert any(reason.startswith(f"{flag}: ") for reason in found.reasons)


@pytest.mark.parametrize("text", [
    "Where is my order? The person who delivered the last one was friendly.",
    "Do you have these court shoes in size 39?",
    "Hi, Sue here - can I change my delivery address?",
    "I paid by bank transfer yesterday, has it arrived?",
    "Ich möchte ein Geschenk für eine Person bestellen.",
    "¿Puedo hablar de un cambio de talla?",
    "el consumo de energía de la lámpara",
    "Please cancel my order, I changed my mind.",
])
def test_ordinary_requests_carry_no_cue(text):
    assert detect_escalation_cues(text).flags == []


def test_triage_carries_the_cue_as_a_flag_with_its_reason():
    import datetime as dt

    from casetrail.events import ConversationReceived, ProducerInfo
    from casetrail.events.conversation import AuthorRole, Conversation, CustomerContext, Message
    from casetrail.policy.tenant import load_policy
    from casetrail.settings import REPO_ROOT
    from services.triage.triager import Triager

    at = dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc)
    conversation = Conversation(
        source="generic", external_id="x1", channel="chat", received_at=at,
        customer=CustomerContext(customer_id="c1"),
        messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=at,
                          body_text="Where is my order? I want to talk to a real person about it.")])
    event = ConversationReceived(conversation_id="x1", tenant="acme-shop", locale="en",
                                 producer=ProducerInfo(service="test", version="0"), conversation=conversation)
    outcome = Triager.default().triage(event, None, load_policy(REPO_ROOT / "config" / "tenants" / "acme-shop.yaml"))
    assert "asks_for_human" in outcome.result.flags
    assert outcome.reasons["escalation"] == ["asks_for_human: talk to a real person"]
