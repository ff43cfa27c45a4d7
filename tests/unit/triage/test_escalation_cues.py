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
