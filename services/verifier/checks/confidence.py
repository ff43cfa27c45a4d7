"""Confidence threshold per category, from the tenant policy.

The effective confidence is the lower of triage's calibrated intent confidence
and the drafter's own confidence: autonomy needs both to clear the line."""

from __future__ import annotations

from services.verifier.checks import NEEDS_HUMAN, Outcome
from services.verifier.review import DraftUnderReview


def effective_confidence(review: DraftUnderReview) -> float:
    return min(review.event.triage.intent_confidence, review.draft.confidence)


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
