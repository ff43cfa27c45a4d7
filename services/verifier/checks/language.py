"""Reply language: the reply is written in the conversation's locale.

The whole reply (citation markers and placeholders removed) must be identified
as the locale, and no sentence long enough to judge may be confidently in
another language (a German reply with an English paragraph fails). On a KB
fallback the tenant allows, the fallback locale is accepted as well.

A sentence quoted from a cited clause of the knowledge base in an accepted locale
is in that locale by construction and is not identified again: a short address
sentence ("… Logistikos g. 5, 02121 Vilnius, Lithuania.") reads as Lithuanian to
the identifier whatever language surrounds it."""

from __future__ import annotations

import re
from typing import Callable, Optional

from services.verifier.checks import FAILED, Outcome
from services.verifier.review import DraftUnderReview
from casetrail.grounding.sentences import PLACEHOLDER, normalise

MIN_LETTERS_FOR_SENTENCE = 40


class ReplyLanguage:
    name = "reply_language"
    severity = FAILED

    def __init__(self, policy, language_identifier: Optional[Callable[[str], list[tuple[str, float]]]] = None, **_):
        if language_identifier is None:
            from services.verifier.language_identification import identify as language_identifier
        self.identify = language_identifier
        self.policy = policy
        self.sentence_confidence = policy.verifier.language_sentence_confidence

    def _identify_sentence(self, text: str) -> list[tuple[str, float]]:
        try:
            return self.identify(text, fast=True)
        except TypeError:  # an injected identifier without a fast mode
            return self.identify(text)

    def run(self, review: DraftUnderReview) -> Outcome:
        accepted = {review.locale}
        draft = review.draft
        if draft.locale_fallback and draft.kb_locale in self.policy.kb_locale_fallback:
            accepted.add(draft.kb_locale)
        text = PLACEHOLDER.sub(" ", review.reply_without_markers)
        ranked = self.identify(text)
        if not ranked:
            return Outcome(False, "the reply has no text to identify")
        language, confidence = ranked[0]
        if language not in accepted:
            return Outcome(False, f"reply is in {language!r} ({confidence:.2f}), conversation is {review.locale!r}")
        quoted = {normalise(c.sentence) for c in draft.citations if c.sentence} if draft.kb_locale in accepted else set()
        for sentence in review.sentences:
            if sentence.key in quoted:
                continue
            plain = PLACEHOLDER.sub(" ", sentence.plain)
            if len(re.findall(r"[^\W\d_]", plain)) < MIN_LETTERS_FOR_SENTENCE:
                continue
            top = self._identify_sentence(plain)
            if top and top[0][0] not in accepted and top[0][1] >= self.sentence_confidence:
                return Outcome(False, f"a sentence is in {top[0][0]!r} ({top[0][1]:.2f}), conversation is {review.locale!r}")
        return Outcome(True, f"reply is in {language!r} ({confidence:.2f})")
