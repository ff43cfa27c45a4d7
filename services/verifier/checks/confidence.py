"""Confidence threshold per category, from the tenant policy.

The effective confidence is the chance the send is right: triage's calibrated
probability that the category is right times the drafter's calibrated probability
that the cited clause answers the question (services/drafter/answer_confidence.py).
Both must hold for the reply to be right, so the product, not the lower of the two:
on the dev set's tune half, the lower of the two let through confident category
mix-ups whose answer was only fairly likely (docs/benchmarks.md, decision quality)."""

from __future__ import annotations

from services.verifier.checks import NEEDS_HUMAN, Outcome
from services.verifier.review import DraftUnderReview


def gated_confidence(intent_confidence: float, draft_confidence: float) -> float:
    """The one definition of the confidence a category threshold is compared with."""
    return round(intent_confidence * draft_confidence, 4)


def effective_confidence(review: DraftUnderReview) -> float:
    return gated_confidence(review.event.triage.intent_confidence, review.draft.confidence)


class ConfidenceThreshold:
    name = "confidence_threshold"
    severity = NEEDS_HUMAN

    def __init__(self, policy, **_):
        self.policy = policy

    def run(self, review: DraftUnderReview) -> Outcome:
        category = review.event.triage.category
        threshold = self.policy.category(category).threshold
        confidence = effective_confidence(review)
        relation = ">=" if confidence >= threshold else "<"
        return Outcome(confidence >= threshold,
                       f"confidence {confidence:.2f} {relation} threshold {threshold:.2f} for {category}")
