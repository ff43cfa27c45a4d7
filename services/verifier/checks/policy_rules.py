"""Policy rules from the tenant's configuration, not from code.

* always-human categories (fraud, disputes, legal, account takeover: ``always_human``),
* customers excluded from autonomy (``autonomy_excluded_customers``),
* refund eligibility: a promised refund inside the return window (counted from
  the customer's delivery/order date attribute) and not above the
  auto-approval limit, in the tenant's currency,
* the tenant's own CEL rules (``verifier.rules``).

A policy failure means ``needs_human`` (a person decides), except a reply
that promises a longer return window than the policy grants, and any tenant
rule declared ``verdict: failed``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from services.verifier.checks import FAILED, NEEDS_HUMAN, Outcome
from services.verifier.checks.confidence import effective_confidence
from casetrail.grounding.quantities import Quantity, extract_quantities
from services.verifier.review import DraftUnderReview

REFUND_TERMS = re.compile(
    r"\b(?:refund\w*|reimburs\w*|money\s+back|return\w*|\w*erstatt\w*|rückgabe\w*|zurückgeben|zurückzahl\w*|"
    r"rembours\w*|retour\w*|retourner|reembols\w*|devol\w*|devuelv\w*|grąžin\w*|pinigų\s+grąžinim\w*)",
    re.IGNORECASE | re.UNICODE,
)


class AlwaysHumanCategory:
    name = "always_human_category"
    severity = NEEDS_HUMAN

    def __init__(self, policy, **_):
        self.policy = policy

    def run(self, review: DraftUnderReview) -> Outcome:
        category = review.event.triage.category
        if category not in self.policy.categories:
            return Outcome(False, f"category {category!r} is not configured: a human decides")
        if self.policy.category(category).always_human:
            return Outcome(False, f"category {category!r} always needs a human")
        return Outcome(True, f"category {category!r} may be automated")


class AutonomyExcludedCustomer:
    name = "autonomy_excluded_customer"
    severity = NEEDS_HUMAN

    def __init__(self, policy, **_):
        self.excluded = set(policy.autonomy_excluded_customers)

    def run(self, review: DraftUnderReview) -> Outcome:
        # The detail never repeats the customer id: it is an identifier of a person.
        if review.event.conversation.customer.customer_id in self.excluded:
            return Outcome(False, "customer is excluded from autonomous replies by policy")
        return Outcome(True, "customer is not excluded from autonomy")


def promised_refunds(review: DraftUnderReview) -> list[Quantity]:
    """Amounts the reply promises to refund: money in refund sentences, limits ("up to") excluded."""
    amounts: list[Quantity] = []
    for sentence in review.sentences:
        if review.is_disclosure(sentence) or not REFUND_TERMS.search(sentence.plain):
            continue
        for quantity in review.quantities(sentence.plain):
            if quantity.kind == "money" and not quantity.upper_bound:
                amounts.append(quantity)
    return amounts


def _parse_date(value: str) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


class RefundEligibility:
    name = "refund_eligibility"
    severity = NEEDS_HUMAN

    def __init__(self, policy, **_):
        self.refunds = policy.refunds
        self.date_attributes = policy.verifier.refund_date_attributes

    def run(self, review: DraftUnderReview) -> Outcome:
        refund_sentences = [s for s in review.sentences if not review.is_disclosure(s) and REFUND_TERMS.search(s.plain)]
        if not refund_sentences:
            return Outcome(True, "the reply promises no refund or return")
        problems: list[str] = []
        severity = NEEDS_HUMAN
        limit, currency = self.refunds.auto_approval_limit, self.refunds.currency
        for amount in promised_refunds(review):
            if amount.unit != currency:
                problems.append(f"refund in {amount.unit}, policy currency is {currency}")
            elif amount.value > limit:
                problems.append(f"refund {amount.describe()!r} is above the auto-approval limit {limit:g} {currency}")
        for sentence in refund_sentences:
            for quantity in review.quantities(sentence.plain):
                if quantity.kind == "duration" and quantity.unit == "day" and quantity.value > self.refunds.window_days:
                    problems.append(f"reply promises {quantity.describe()!r}, the return window is "
                                    f"{self.refunds.window_days} days")
                    severity = FAILED
        problems += _requested_refund_problems(review, self.refunds)
        attributes = review.event.conversation.customer.attributes
        for key in self.date_attributes:
            since = _parse_date(attributes.get(key, ""))
            if since is None:
                continue
            days = (review.event.conversation.received_at.date() - since).days
            if days > self.refunds.window_days:
                problems.append(f"{key} was {days} days before the request, outside the "
                                f"{self.refunds.window_days}-day window")
            break
        if problems:
            return Outcome(False, "; ".join(dict.fromkeys(problems)), severity)
        return Outcome(True, f"refund/return within policy (window {self.refunds.window_days} days, "
                             f"auto-approval up to {limit:g} {currency})")


_DAYS_PER = {"day": 1, "week": 7, "month": 30, "year": 365}


def _requested_refund_problems(review: DraftUnderReview, refunds) -> list[str]:
    """What the customer's own words put beyond autonomy when a reply answers a refund or return:
    an amount above the auto-approval limit, or a time span longer than the return window
    ("bought three months ago"). The reply may only quote the policy, yet sending it answers a
    request the policy says a person decides (the sample's out-of-window request for 120 EUR
    was sent with the return clause)."""
    problems: list[str] = []
    asked = review.event.conversation.ticket_text()
    if not REFUND_TERMS.search(asked):
        return problems
    for quantity in extract_quantities(asked, review.locale):
        if quantity.kind == "money" and quantity.unit == refunds.currency and quantity.value > refunds.auto_approval_limit:
            problems.append(f"the customer asks about {quantity.describe()!r}, above the auto-approval limit "
                            f"{refunds.auto_approval_limit:g} {refunds.currency}")
        elif quantity.kind == "duration" and quantity.unit in _DAYS_PER \
                and quantity.value * _DAYS_PER[quantity.unit] > refunds.window_days:
            problems.append(f"the customer mentions {quantity.describe()!r}, longer than the "
                            f"{refunds.window_days}-day return window")
    return problems


def rule_variables(review: DraftUnderReview) -> dict:
    event = review.event
    customer = event.conversation.customer
    refunds = [q.value for q in promised_refunds(review)]
    return {
        "category": event.triage.category,
        "intent": event.triage.intent,
        "intent_confidence": float(event.triage.intent_confidence),
        "draft_confidence": float(event.draft.confidence),
        "confidence": float(effective_confidence(review)),
        "locale": event.locale,
        "channel": event.conversation.channel,
        "composer": event.draft.composer,
        "citations": len(event.draft.citations),
        "refund_amount": float(max(refunds, default=0.0)),
        "vip": bool(event.triage.vip),
        "sentiment": float(event.triage.sentiment),
        "frustration": float(event.triage.frustration),
        "out_of_scope": bool(event.triage.out_of_scope),
        "locale_fallback": bool(event.draft.locale_fallback),
        "customer": {
            **{k: str(v) for k, v in customer.attributes.items()},
            "tier": customer.tier or "",
            "lifetime_value": float(customer.lifetime_value or 0.0),
            "region": customer.region or "",
        },
    }


class TenantRules:
    name = "tenant_rules"
    severity = NEEDS_HUMAN

    def __init__(self, policy, **_):
        self.conditions = policy.verifier_conditions  # compiled at policy load: a bad rule stops start-up

    def run(self, review: DraftUnderReview) -> Outcome:
        if not self.conditions:
            return Outcome(True, "no tenant rules configured")
        variables = rule_variables(review)
        fired = [(rule, condition) for rule, condition in self.conditions if condition.evaluate(variables)]
        if not fired:
            return Outcome(True, f"{len(self.conditions)} tenant rule(s), none applies")
        severity = FAILED if any(rule.verdict == FAILED for rule, _ in fired) else NEEDS_HUMAN
        detail = "; ".join(f"rule {rule.name}: {rule.description or rule.condition}" for rule, _ in fired)
        return Outcome(False, detail, severity)
