"""Every routing example of the design's sources, table-driven against the sample tenant."""

from __future__ import annotations

import datetime as dt

import pytest

from casetrail.events import Action, Verdict
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.decide import route

EXAMPLES = [
    # (case, overrides, action, rule, queue, priority)
    ("payment issue -> payments team, high", dict(category="payment_issue"), Action.escalate, "payment-issues", "payments-team", "high"),
    ("VIP flag from triage -> vip support, high", dict(vip=True), Action.escalate, "vip-support", "vip-support", "high"),
    ("VIP by lifetime value (tenant criteria)", dict(lifetime_value=25_000.0), Action.escalate, "vip-support", "vip-support", "high"),
    ("VIP by platinum tier (tenant criteria)", dict(tier="platinum"), Action.escalate, "vip-support", "vip-support", "high"),
    ("sentiment below -0.6 -> senior support, urgent", dict(sentiment=-0.75), Action.escalate, "very-negative-sentiment", "senior-support", "urgent"),
    ("fraud -> fraud team, urgent", dict(category="fraud_report"), Action.escalate, "fraud-immediately", "fraud-team", "urgent"),
    ("fraud with perfect confidence and a passed draft is still never sent",
     dict(category="fraud_report", confidence=1.0), Action.escalate, "fraud-immediately", "fraud-team", "urgent"),
    ("critical bug (urgent) -> engineering on-call", dict(category="bug_report", urgency="urgent"), Action.escalate,
     "critical-bug-on-call", "engineering-oncall", "urgent"),
    ("critical bug (explicit severity flag) -> engineering on-call",
     dict(category="bug_report", flags=("severity:critical",)), Action.escalate, "critical-bug-on-call", "engineering-oncall", "urgent"),
    ("enterprise customer waiting 3 h -> customer success",
     dict(tier="enterprise", received_at=OPEN_NOW - dt.timedelta(hours=3)), Action.escalate, "enterprise-waiting", "customer-success", "high"),
    ("spam -> drop", dict(spam=True), Action.drop, "spam", None, "low"),
    ("asks for a person (triage cue) while read as order status -> a person answers",
     dict(flags=("asks_for_human",)), Action.escalate, "asks-for-a-person", "general-support", "high"),
    ("contact_human category -> a person answers", dict(category="contact_human"), Action.escalate,
     "asks-for-a-person", "general-support", "high"),
    ("legal threat cue -> senior support", dict(flags=("legal_threat",)), Action.escalate, "legal-to-senior",
     "senior-support", "urgent"),
    ("chargeback cue -> payments team", dict(flags=("chargeback",)), Action.escalate, "chargeback-to-payments",
     "payments-team", "high"),
]

NON_EXAMPLES = [
    ("sentiment exactly -0.6 is not below -0.6", dict(sentiment=-0.6)),
    ("enterprise customer waiting 90 min", dict(tier="enterprise", received_at=OPEN_NOW - dt.timedelta(minutes=90))),
    ("non-enterprise customer waiting 3 h", dict(tier="standard", received_at=OPEN_NOW - dt.timedelta(hours=3))),
    ("lifetime value just at the VIP bound", dict(lifetime_value=10_000.0)),
    ("plain order-status question", dict()),
]


@pytest.mark.parametrize("case, overrides, action, rule, queue, priority", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_rules(case, overrides, action, rule, queue, priority):
    decision = route(verified(**overrides), acme(), OPEN_NOW, PRODUCER).decision
    assert (decision.action, decision.rule, decision.queue, decision.priority) == (action, rule, queue, priority)
    assert decision.inputs["category"] == verified(**overrides).triage.category


@pytest.mark.parametrize("case, overrides", NON_EXAMPLES, ids=[e[0] for e in NON_EXAMPLES])
def test_rules_do_not_fire_outside_their_condition(case, overrides):
    outcome = route(verified(**overrides), acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.rule is None
    assert outcome.decision.action == Action.send  # a confident, verified order-status answer


def test_rules_are_evaluated_in_configured_order():
    # Fraud from a VIP with very negative sentiment: the first rule (fraud) wins.
    decision = route(verified(category="fraud_report", vip=True, sentiment=-0.9), acme(), OPEN_NOW, PRODUCER).decision
    assert decision.rule == "fraud-immediately"
    # VIP paying customer with a payment issue: sentiment rule is not matched, VIP comes before payments.
    decision = route(verified(category="payment_issue", vip=True), acme(), OPEN_NOW, PRODUCER).decision
    assert decision.rule == "vip-support"


def test_escalation_never_sends_even_when_everything_else_allows_it():
    outcome = route(verified(vip=True, confidence=0.99, verdict=Verdict.passed), acme(), OPEN_NOW, PRODUCER)
    assert outcome.replies == []
    assert any("rule vip-support escalates" in r for r in outcome.decision.brief.not_sent_because)


def test_rule_that_cannot_evaluate_blocks_autonomy_and_is_recorded():
    policy = acme()
    raw = policy.model_dump()
    raw["routing"] = [{"name": "plan-gold", "condition": "customer.plan == 'gold'", "queue": "vip-support"}]
    from casetrail.policy.tenant import TenantPolicy

    custom = TenantPolicy.model_validate(raw)
    decision = route(verified(), custom, OPEN_NOW, PRODUCER).decision  # customer has no 'plan' attribute
    assert decision.rule is None
    assert decision.inputs["rule_errors"] == "plan-gold"
    assert decision.action == Action.review
    assert "rule plan-gold could not be evaluated" in decision.brief.not_sent_because


def test_routing_only_rule_picks_queue_but_keeps_autonomy():
    from casetrail.policy.tenant import TenantPolicy

    raw = acme().model_dump()
    raw["routing"] = [{"name": "lithuanian", "condition": "locale == 'lt'", "queue": "lt-support", "escalate": False}]
    custom = TenantPolicy.model_validate(raw)
    decision = route(verified(locale="lt"), custom, OPEN_NOW, PRODUCER).decision
    assert (decision.action, decision.rule, decision.queue) == (Action.send, "lithuanian", "lt-support")
    raw["routing"][0]["never_autonomous"] = True
    decision = route(verified(locale="lt"), TenantPolicy.model_validate(raw), OPEN_NOW, PRODUCER).decision
    assert (decision.action, decision.queue) == (Action.review, "lt-support")
