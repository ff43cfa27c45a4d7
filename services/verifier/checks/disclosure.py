"""AI disclosure (EU AI Act Art. 50): the reply tells the customer, in the
conversation's language, that it was produced with AI. The draft's
``disclosure`` must be set, appear in the reply text, and name AI (or
automated drafting) in the conversation's locale."""

from __future__ import annotations

import re

from services.verifier.checks import FAILED, Outcome
from services.verifier.review import DraftUnderReview
from casetrail.grounding.sentences import normalise

AI_TERMS: dict[str, re.Pattern] = {
    locale: re.compile(pattern, re.IGNORECASE | re.UNICODE)
    for locale, pattern in {
        "en": r"\bAI\b|\bA\.I\.|artificial\s+intelligence|automated|automatically\s+(?:generated|drafted|written)",
        "de": r"\bKI\b|künstliche\w*\s+intelligenz|automatisch\w*\s+(?:erstellt|verfasst|generiert)|KI-gestützt",
        "fr": r"\bIA\b|intelligence\s+artificielle|automatiquement|générée?\s+automatiquement",
        "es": r"\bIA\b|inteligencia\s+artificial|automáticamente|generad[oa]\s+automáticamente",
        "lt": r"\bDI\b|dirbtin\w*\s+intelekt\w*|automatiškai|automatizuot\w*",
    }.items()
}


class AiDisclosure:
    name = "ai_disclosure"
    severity = FAILED

    def __init__(self, policy, **_):
        self.policy = policy

    def run(self, review: DraftUnderReview) -> Outcome:
        disclosure = review.draft.disclosure.strip()
        if not disclosure:
            return Outcome(False, "the draft carries no AI disclosure")
        if normalise(disclosure) not in normalise(review.draft.reply_text):
            return Outcome(False, "the AI disclosure is not part of the reply text")
        terms = AI_TERMS.get(review.locale)
        if terms is not None and not terms.search(disclosure):
            return Outcome(False, f"the AI disclosure does not say so in {review.locale!r}")
        return Outcome(True, f"AI disclosure present ({review.locale})")
