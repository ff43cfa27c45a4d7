"""Spam (unsolicited bulk/promotional text) and abuse (insults, threats) in five languages.

Rule-based on purpose: both are rare in a support inbox, costly to get wrong,
and a tenant must be able to see *why* something was flagged (the reasons are
returned). Spam is scored from independent cues; abuse is a match on insult or
threat stems. A flagged ticket is never auto-answered: the router sends spam
to a spam queue and abuse to a human (tenant rules read ``spam``/``abuse``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_SHORTENER = re.compile(r"\b(bit\.ly|tinyurl\.com|t\.co|goo\.gl|ow\.ly|is\.gd|cutt\.ly|rebrand\.ly)/", re.IGNORECASE)
SPAM_STEMS = [
    # promotions, SEO, crypto, loans, adult, prizes — en/de/fr/es/lt
    "seo services", "backlinks", "guest post", "rank your website", "crypto", "bitcoin", "forex", "investment opportunity",
    "casino", "viagra", "cialis", "free money", "you have won", "you won", "claim your prize", "lottery", "loan offer",
    "work from home", "earn $", "100% free", "click here", "unsubscribe", "limited offer", "act now",
    "gewinnspiel", "sie haben gewonnen", "kostenlos geld", "kredit ohne schufa", "jetzt klicken",
    "vous avez gagné", "gagnez de l'argent", "cliquez ici", "offre limitée", "prêt rapide",
    "ha ganado", "has ganado", "gane dinero", "haga clic aquí", "oferta limitada", "préstamo rápido",
    "laimėjote", "uždirbk", "spauskite čia", "greita paskola", "nemokami pinigai",
]
ABUSE_STEMS = [
    # insults / profanity
    # whole words unless marked with a trailing "*" (a stem: inflected forms count too)
    "idiot", "idiots", "stupid", "moron", "morons", "fuck*", "shit", "shitty", "bullshit", "bitch*", "asshole*",
    "bastard*", "scumbag*", "retard*", "dumbass*",
    "arschloch", "arschlöcher", "idioten", "scheiß*", "scheiss*", "wichser", "hurensohn", "vollidiot*", "dummkopf",
    "connard*", "connasse*", "salaud*", "putain", "merde", "enculé*", "abruti*", "crétin*",
    "idiota*", "imbécil*", "gilipollas", "cabrón*", "cabrones", "mierda", "joder", "puta", "estúpido*", "pendejo*",
    "durni*", "kvail*", "asilas", "šūd*", "šikn*", "kalė", "byb*", "nachui", "debil*",
    # threats of violence
    "i will kill", "kill you", "i'll kill", "burn your", "bomb", "ich bringe euch um", "ich bring dich um",
    "je vais vous tuer", "je vais te tuer", "os voy a matar", "te voy a matar", "nužudysiu", "sudeginsiu",
]


def _compile(words: list[str], whole_words: bool = False) -> re.Pattern:
    """Alternation matched at a word start; with ``whole_words`` also at a word end unless the entry ends in "*"."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        stem = word.endswith("*")
        body = re.escape(word.rstrip("*"))
        parts.append(body if stem or not whole_words else body + r"(?!\w)")
    return re.compile(r"(?<!\w)(" + "|".join(parts) + ")", re.IGNORECASE)


_SPAM, _ABUSE = _compile(SPAM_STEMS), _compile(ABUSE_STEMS, whole_words=True)


@dataclass(frozen=True)
class SpamAbuse:
    spam: bool
    abuse: bool
    spam_score: float
    reasons: list[str] = field(default_factory=list)


def detect_spam_abuse(text: str, *, threshold: float = 0.6) -> SpamAbuse:
    reasons: list[str] = []
    score = 0.0
    urls = len(_URL.findall(text))
    if urls >= 3:
        score += 0.4
        reasons.append("many_links")
    elif urls:
        score += 0.1
    if _SHORTENER.search(text):
        score += 0.3
        reasons.append("link_shortener")
    spam_hits = {m.group(1).lower() for m in _SPAM.finditer(text)}
    if spam_hits:
        score += min(0.3 * len(spam_hits), 0.7)
        reasons.append("promotional_words")
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 40 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        score += 0.2
        reasons.append("shouting")
    if re.search(r"(.)\1{9,}", text):
        score += 0.2
        reasons.append("repeated_characters")
    abuse = bool(_ABUSE.search(text))
    if abuse:
        reasons.append("abusive_language")
    score = min(score, 1.0)
    return SpamAbuse(spam=score >= threshold, abuse=abuse, spam_score=round(score, 3), reasons=reasons)
