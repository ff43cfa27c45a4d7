"""The warm-handoff brief carries everything an agent needs."""

from __future__ import annotations

import datetime as dt

from casetrail.events import Action, Verdict
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.decide import route


def test_brief_on_escalation_names_every_failed_check_and_clause():
    event = verified(
        category="payment_issue", sentiment=-0.3, verdict=Verdict.failed, tier="enterprise",
        failed_checks=(("amounts_match", "draft says 14 days, clause says 30 days"), ("language", "reply is en, ticket is de")),
        sla_due_at=OPEN_NOW + dt.timedelta(hours=2),
    )
    decision = route(event, acme(), OPEN_NOW, PRODUCER).decision
    brief = decision.brief
    assert decision.action == Action.escalate
    assert "payment issue" in brief.summary and "tier enterprise" in brief.summary
    assert "Latest message: “Hello, my parcel [ORDER_1] has not arrived yet" in brief.summary
    assert brief.signals["intent"] == "payment_issue" and brief.signals["sentiment"] == "-0.30"
    assert brief.signals["vip"] == "false" and brief.signals["customer.tier"] == "enterprise"
    assert brief.signals["sla_due_at"] == "2026-11-25T10:00:00+00:00"
    assert brief.draft_text == event.draft.reply_text
    assert brief.not_sent_because == [
        "category payment_issue is in assist mode",
        "verifier verdict is failed",
        "rule payment-issues escalates to payments-team",
        "check amounts_match failed: draft says 14 days, clause says 30 days",
        "check language failed: reply is en, ticket is de",
    ]
    assert brief.cited_clauses == ["shipping-1@kb-7"]
    assert any("amounts_match, language" in a for a in brief.suggested_actions)
    assert any("payment system" in a for a in brief.suggested_actions)
    assert brief.history_ref.startswith("audit:/v1/conversations/conv-1/lineage")
    assert "zendesk:T-100" in brief.history_ref


def test_brief_on_review_and_rule_next_actions():
    from casetrail.policy.tenant import TenantPolicy

    raw = acme().model_dump()
    raw["routing"][0]["next_actions"] = ["Call the customer back within 15 minutes."]
    decision = route(verified(category="fraud_report"), TenantPolicy.model_validate(raw), OPEN_NOW, PRODUCER).decision
    assert decision.brief.suggested_actions[0] == "Call the customer back within 15 minutes."
    assert "rule fraud-immediately forbids autonomous replies" in decision.brief.not_sent_because

    review = route(verified(confidence=0.6, vip=False, sentiment=-0.65), acme(), OPEN_NOW, PRODUCER).decision
    assert "Open by acknowledging the customer's frustration." in review.brief.suggested_actions


def test_decision_records_inputs_without_personal_attributes():
    event = verified(tier="enterprise", lifetime_value=500.0)
    event = event.model_copy(update={"conversation": event.conversation.model_copy(update={
        "customer": event.conversation.customer.model_copy(update={"attributes": {"email_hint": "[EMAIL_1]"}})})})
    decision = route(event, acme(), OPEN_NOW, PRODUCER).decision
    inputs = decision.inputs
    for key in ("category", "intent_confidence", "sentiment", "vip", "customer.tier", "waiting_minutes", "sla_state",
                "verdict", "threshold", "mode", "severity", "attempts"):
        assert key in inputs, key
    assert inputs["customer.tier"] == "enterprise" and inputs["customer.lifetime_value"] == "500"
    assert not any("email" in k for k in inputs)
    assert decision.triage.embedding == []  # vectors are not copied into decisions
    assert decision.versions.policy == acme().fingerprint


def test_redelivered_verified_event_makes_the_same_decision_id():
    event = verified(event_id="11111111-1111-1111-1111-111111111111")
    first = route(event, acme(), OPEN_NOW, PRODUCER)
    again = route(event, acme(), OPEN_NOW + dt.timedelta(seconds=5), PRODUCER)
    assert first.decision.event_id == again.decision.event_id
    assert first.replies[0].idempotency_key == again.replies[0].idempotency_key == "conv-1:draft-1"
    assert first.replies[0].event_id == again.replies[0].event_id
