"""Grants supported: a sentence that promises money back, credit or an exception cites a clause
that states the same kind of grant (``casetrail.grounding.grants``), not merely any clause.

A person decides when it does not (``needs_human``), rather than the draft being refused outright:
an agent's edit is verified with these same checks, and an agent may grant a goodwill credit the
knowledge base does not state — that is the agent's call, not an autonomous reply's.
"""

from __future__ import annotations

from casetrail.grounding.grants import grant_kinds
from services.verifier.checks import NEEDS_HUMAN, Outcome
from services.verifier.review import DraftUnderReview


class GrantsSupported:
    name = "grants_supported"
    severity = NEEDS_HUMAN

    def __init__(self, policy, **_):
        self.policy = policy

    def run(self, review: DraftUnderReview) -> Outcome:
        problems: list[str] = []
        granting = 0
        for sentence in review.sentences:
            if review.is_disclosure(sentence):
                continue
            promised = grant_kinds(sentence.plain)
            refs = [ref for ref in review.refs_for(sentence) if ref in review.retrieved]
            if not promised or not refs:  # an uncited grant is an uncited claim: statements_supported fails it
                continue
            granting += 1
            stated = frozenset().union(*(grant_kinds(f"{review.retrieved[ref].title}. {review.retrieved[ref].text}")
                                         for ref in refs))
            for kind in sorted(promised - stated):
                problems.append(f"{kind!r} promised in {sentence.plain[:80]!r} is not stated by {', '.join(refs)}")
        if problems:
            return Outcome(False, "; ".join(problems) + ": a person decides")
        return Outcome(True, f"{granting} sentence(s) granting a refund, credit or exception, each stated by its clause"
                       if granting else "no refund, credit or exception granted")
