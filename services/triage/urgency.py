"""Urgency and priority from words in five languages, the category, the source and the customer.

Urgency says how time-critical the customer's problem is; priority is what the
queues use: urgency raised by VIP status (tenant ``vip.priority``), by a very
frustrated customer, by the source's own priority, and by categories that must
reach a human fast (fraud). Every reason is returned so the router's brief and
the auditor can see why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

LEVELS = ("low", "normal", "high", "urgent")

# Lower-cased stems; matched at word starts so inflected forms count (lt "skubiai", "skubus").
URGENT_WORDS = {
    "en": ["urgent", "asap", "as soon as possible", "immediately", "right now", "emergency", "critical", "outage", "down for everyone"],
    "de": ["dringend", "sofort", "umgehend", "notfall", "schnellstmöglich", "so schnell wie möglich", "kritisch", "ausfall"],
    "fr": ["urgent", "immédiatement", "tout de suite", "au plus vite", "dès que possible", "critique", "panne"],
    "es": ["urgente", "inmediatamente", "cuanto antes", "lo antes posible", "ya mismo", "emergencia", "crítico", "caída"],
    "lt": ["skub", "nedelsiant", "kuo greičiau", "tuoj pat", "kritin", "avarin", "neveikia visiems"],
}
HIGH_WORDS = {
    "en": ["today", "deadline", "still waiting", "again", "third time", "cannot work", "can't work", "blocked", "lost money"],
    "de": ["heute", "frist", "warte immer noch", "schon wieder", "zum dritten mal", "blockiert", "kann nicht arbeiten"],
    "fr": ["aujourd'hui", "délai", "toujours pas", "encore", "troisième fois", "bloqué", "impossible de travailler"],
    "es": ["hoy", "plazo", "sigo esperando", "otra vez", "tercera vez", "bloquead", "no puedo trabajar"],
    "lt": ["šiandien", "termin", "vis dar laukiu", "vėl", "trečią kartą", "užblokuot", "negaliu dirbti"],
}
LOW_WORDS = {
    "en": ["no rush", "whenever you can", "not urgent", "just curious", "when you have time"],
    "de": ["keine eile", "nicht dringend", "wenn sie zeit haben", "nur aus neugier"],
    "fr": ["pas urgent", "rien ne presse", "quand vous aurez le temps", "par curiosité"],
    "es": ["sin prisa", "no es urgente", "cuando puedan", "por curiosidad"],
    "lt": ["neskubu", "neskubiai", "ne skubu", "kai turėsite laiko", "tik įdomu"],
}
CATEGORY_URGENCY = {"fraud_report": "urgent", "legal_threat": "high", "transaction_dispute": "high",
                    "account_access": "normal", "payment_issue": "high", "feedback": "low"}
SOURCE_PRIORITY = {"low": "low", "normal": "normal", "medium": "normal", "high": "high", "urgent": "urgent",
                   "critical": "urgent", "p1": "urgent", "p2": "high", "p3": "normal", "p4": "low"}


@dataclass(frozen=True)
class UrgencyResult:
    urgency: str
    priority: str
    reasons: list[str] = field(default_factory=list)


def _compile(table: dict[str, list[str]]) -> re.Pattern:
    stems = sorted({w for words in table.values() for w in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in stems) + ")", re.IGNORECASE)


_URGENT, _HIGH, _LOW = _compile(URGENT_WORDS), _compile(HIGH_WORDS), _compile(LOW_WORDS)


def _max(a: str, b: str) -> str:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def assess_urgency(
    text: str,
    category: str,
    *,
    source_priority: Optional[str] = None,
    vip: bool = False,
    vip_priority: str = "high",
    frustration: float = 0.0,
) -> UrgencyResult:
    reasons: list[str] = []
    urgency = "normal"
    if _URGENT.search(text):
        urgency, _ = "urgent", reasons.append("urgent_words")
    elif _HIGH.search(text):
        urgency, _ = "high", reasons.append("time_pressure_words")
    elif _LOW.search(text):
        urgency, _ = "low", reasons.append("no_rush_words")
    by_category = CATEGORY_URGENCY.get(category)
    if by_category and LEVELS.index(by_category) > LEVELS.index(urgency) or (by_category == "low" and urgency == "normal"):
        urgency = by_category
        reasons.append(f"category:{category}")
    priority = urgency
    if source_priority and source_priority.strip().lower() in SOURCE_PRIORITY:
        mapped = SOURCE_PRIORITY[source_priority.strip().lower()]
        if LEVELS.index(mapped) > LEVELS.index(priority):
            priority, _ = mapped, reasons.append("source_priority")
    if vip and LEVELS.index(vip_priority) > LEVELS.index(priority):
        priority, _ = vip_priority, reasons.append("vip")
    if frustration >= 0.7 and LEVELS.index(priority) < LEVELS.index("high"):
        priority, _ = "high", reasons.append("frustrated")
    return UrgencyResult(urgency, priority, reasons)
