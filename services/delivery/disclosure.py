"""The AI disclosure (EU AI Act Art. 50) and the reference line on every customer-visible message.

Citation markers are removed first (the customer has no source list to read them
against; the decision and the audit trail keep them). Drafted answers already end with the drafter's disclosure and acknowledgements
say they are automated; an agent's edited text may not. A message that does
not already say, in its language, that AI or automation wrote it gets the
disclosure appended (for an agent-sent message: drafted with AI, reviewed by a
person). Every message then ends with casetrail's reference line, which is
how ingest recognises it when a platform reports it back and how delivery
finds it after a crash.
"""

from __future__ import annotations

import re
from typing import Optional

from casetrail.grounding.sentences import without_markers
from casetrail.own_messages import reference_line

# What counts as saying so already, per language (AI named, or automated writing).
_SAYS_SO = {
    "en": r"\bAI\b|artificial intelligence|\bautomated\b|automatically (?:generated|drafted|written)",
    "de": r"\bKI\b|künstliche\w* Intelligenz|\bautomatisch\w*",
    "fr": r"\bIA\b|intelligence artificielle|\bautomatique\w*",
    "es": r"\bIA\b|inteligencia artificial|\bautomátic\w*",
    "lt": r"\bDI\b|dirbtin\w* intelekt\w*|\bautomati\w*",
}
_PATTERNS = {locale: re.compile(pattern, re.IGNORECASE) for locale, pattern in _SAYS_SO.items()}

BOT_DISCLOSURE = {
    "en": "This message was written by an AI assistant for our support team.",
    "de": "Diese Nachricht wurde von einem KI-Assistenten für unser Support-Team verfasst.",
    "fr": "Ce message a été rédigé par un assistant d'IA pour notre équipe d'assistance.",
    "es": "Este mensaje lo ha redactado un asistente de IA para nuestro equipo de soporte.",
    "lt": "Šią žinutę mūsų pagalbos komandai parašė dirbtinio intelekto (DI) asistentas.",
}
AGENT_DISCLOSURE = {
    "en": "This reply was drafted with AI assistance and reviewed by our support team.",
    "de": "Diese Antwort wurde mit KI-Unterstützung entworfen und von unserem Support-Team geprüft.",
    "fr": "Cette réponse a été préparée avec l'aide de l'IA et relue par notre équipe d'assistance.",
    "es": "Esta respuesta se redactó con ayuda de IA y la revisó nuestro equipo de soporte.",
    "lt": "Šis atsakymas parengtas padedant dirbtiniam intelektui (DI) ir peržiūrėtas mūsų pagalbos komandos.",
}
FALLBACK = "en"


def says_it_is_ai(text: str, locale: str) -> bool:
    pattern = _PATTERNS.get(locale) or _PATTERNS[FALLBACK]
    return bool(pattern.search(text)) or (locale != FALLBACK and bool(_PATTERNS[FALLBACK].search(text)))


def disclosure_text(locale: str, sent_by: Optional[str]) -> str:
    table = AGENT_DISCLOSURE if sent_by and sent_by.startswith("agent") else BOT_DISCLOSURE
    return table.get(locale, table[FALLBACK])


def with_disclosure_and_reference(body: str, locale: str, marker: str, *, sent_by: Optional[str] = "bot") -> str:
    text = without_markers(body).rstrip()
    if not says_it_is_ai(text, locale):
        text = f"{text}\n\n-- {disclosure_text(locale, sent_by)}"
    return f"{text}\n\n{reference_line(marker)}"
