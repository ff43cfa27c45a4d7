"""Statements supported: each cited sentence says only what its clause says.

Numbers, amounts, percentages, durations, dates and times in a cited sentence
must appear in, or follow from, the cited clause (``€40`` follows from ``up to
50 EUR``; ``60 days`` does not follow from ``30 days``). A sentence that makes
a factual claim (a quantity, or a policy term such as refund/Erstattung/
remboursement/reembolso/grąžinimas outside courtesy phrases) and cites nothing
fails: the drafter's rule is "no grounding, no statement". An uncited sentence whose
only quantities are ones the customer wrote, with no policy term ("your order
48213"), is a customer-provided fact: supported by the ticket
(``casetrail.grounding.claims`` holds the shared definition).
"""

from __future__ import annotations

import re

from casetrail.grounding.claims import customer_fact, is_factual
from casetrail.grounding.quantities import supported_by
from casetrail.grounding.sentences import normalise
from services.verifier.checks import FAILED, Outcome
from services.verifier.review import DraftUnderReview

def _excerpt(text: str, limit: int = 80) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StatementsSupported:
    name = "statements_supported"
    severity = FAILED

    def __init__(self, policy, **_):
        self.policy = policy

    def run(self, review: DraftUnderReview) -> Outcome:
        problems: list[str] = []
        checked = facts = 0
        reply_key = normalise(review.draft.reply_text)
        for citation in review.draft.citations:
            cited = normalise(citation.sentence)
            if cited and cited not in reply_key:
                problems.append(f"{citation.ref}: its sentence is not in the reply: {_excerpt(citation.sentence)!r}")

        for sentence in review.sentences:
            if review.is_disclosure(sentence):
                continue
            refs = review.refs_for(sentence)
            if not refs:
                if customer_fact(sentence, review.locale, review.customer_text, review.quantities):
                    facts += 1  # a quantity the customer wrote, repeated back without a claim
                elif is_factual(sentence, review.locale, review.quantities):
                    problems.append(f"uncited claim: {_excerpt(sentence.plain)!r}")
                continue
            evidence = [q for ref in refs for q in review.clause_quantities(ref)]
            known = [ref for ref in refs if ref in review.retrieved]
            if not known:
                problems.append(f"no retrieved clause behind {_excerpt(sentence.plain)!r}")
                continue
            checked += 1
            for claim in review.quantities(sentence.plain):
                if not supported_by(claim, evidence):
                    problems.append(f"{claim.describe()!r} is not in {', '.join(known)}")
        if problems:
            return Outcome(False, "; ".join(dict.fromkeys(problems)))
        told = f", {facts} customer-provided fact(s) from the ticket" if facts else ""
        return Outcome(True, f"{checked} cited sentence(s) supported{told}; no uncited claims")
