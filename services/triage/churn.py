"""Churn risk in [0, 1] from signals, as a transparent weighted sum (reasons returned).

No labelled churn data exists here, so this is a documented heuristic, not a
trained model: cancellation/complaint intent, negative sentiment, a worsening
sentiment trend, repeated contacts within the window and frustration add risk;
a high account value raises the stake (the score is scaled up, since losing
that customer costs more and the router should act earlier).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

CANCELLATION_INTENTS = {"complaint", "account_delete"}  # leaving the shop, not one order
IRRITANT_INTENTS = {"transaction_dispute", "payment_issue", "refund_status", "delivery_problem", "bug_report",
                    "legal_threat"}


@dataclass(frozen=True)
class ChurnRisk:
    score: float
    reasons: list[str] = field(default_factory=list)


def churn_risk(
    *, intent: str, sentiment: float, frustration: float, sentiment_trend: float, contacts_in_window: int,
    lifetime_value: Optional[float], high_value: float = 10000.0,
) -> ChurnRisk:
    score, reasons = 0.05, []
    if intent in CANCELLATION_INTENTS:
        score += 0.4
        reasons.append("cancellation_or_complaint_intent")
    elif intent in IRRITANT_INTENTS:
        score += 0.05
    if sentiment < -0.3:
        score += 0.2 * min(1.0, (-sentiment - 0.3) / 0.7) + 0.05
        reasons.append("negative_sentiment")
    if sentiment_trend <= -0.3:
        score += 0.1
        reasons.append("worsening_sentiment")
    if contacts_in_window >= 3:
        score += min(0.05 * (contacts_in_window - 2), 0.2)
        reasons.append("repeated_contacts")
    if frustration >= 0.5:
        score += 0.1 * frustration
        reasons.append("frustration")
    if lifetime_value and lifetime_value >= high_value:
        score *= 1.2
        reasons.append("high_account_value")
    return ChurnRisk(round(min(max(score, 0.0), 1.0), 4), reasons)
