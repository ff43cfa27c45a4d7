import pytest
import yaml

from casetrail.policy.tenant import PolicyError, load_policy

from services.verifier.checks import FAILED, NEEDS_HUMAN
from services.verifier.checks.confidence import ConfidenceThreshold
from services.verifier.checks.policy_rules import (
    AlwaysHumanCategory, AutonomyExcludedCustomer, RefundEligibility, TenantRules,
)

from verifier_fixtures import REPO, make_event, review_of, with_policy


def test_confidence_below_the_category_threshold_needs_a_human(policy):
    check = ConfidenceThreshold(policy)
    threshold = policy.category("refund_policy").threshold
    assert check.run(review_of(make_event(intent_confidence=0.99, draft_confidence=0.95), policy)).passed
    low = check.run(review_of(make_event(intent_confidence=0.70, draft_confidence=0.99), policy))
    assert not low.passed and f"0.69 < threshold {threshold:.2f} for refund_policy" in low.detail
    assert check.severity == NEEDS_HUMAN


def test_a_send_needs_the_category_and_the_answer_to_be_right_together(policy):
    # each alone clears the bar; the chance both hold (their product) does not
    threshold = policy.category("refund_policy").threshold
    both = ConfidenceThreshold(policy).run(review_of(make_event(intent_confidence=0.85, draft_confidence=0.85), policy))
    assert 0.85 >= threshold > 0.7225
    assert not both.passed and f"0.72 < threshold {threshold:.2f}" in both.detail


def test_always_human_categories_and_unknown_categories(policy):
    check = AlwaysHumanCategory(policy)
    assert check.run(review_of(make_event(category="refund_policy"), policy)).passed
    assert not check.run(review_of(make_event(category="fraud_report"), policy)).passed
    assert not check.run(review_of(make_event(category="transaction_dispute"), policy)).passed
    no_invoice = with_policy(policy, categories={k: v for k, v in policy.model_dump()["categories"].items() if k != "invoice"})
    assert not AlwaysHumanCategory(no_invoice).run(review_of(make_event(category="invoice"), no_invoice)).passed


def test_excluded_customer_needs_a_human_and_detail_hides_the_id(policy):
    strict = with_policy(policy, autonomy_excluded_customers=["cust-9"])
    outcome = AutonomyExcludedCustomer(strict).run(review_of(make_event(customer_id="cust-9"), strict))
    assert not outcome.passed and "cust-9" not in outcome.detail
    assert AutonomyExcludedCustomer(strict).run(review_of(make_event(customer_id="cust-1"), strict)).passed


def test_refund_above_the_auto_approval_limit_needs_a_human(policy):
    check = RefundEligibility(policy)
    under = make_event(extra="We will refund €35.")
    over = make_event(extra="We will refund €80 to your card.")
    assert check.run(review_of(under, policy)).passed
    outcome = check.run(review_of(over, policy))
    assert not outcome.passed and "above the auto-approval limit 50 EUR" in outcome.detail
    assert (outcome.severity or check.severity) == NEEDS_HUMAN


def test_limit_quoted_from_the_clause_is_not_a_promise(policy):
    event = make_event("Refunds up to 50 EUR are approved automatically.", clause_id="refunds.approval")
    assert RefundEligibility(policy).run(review_of(event, policy)).passed


def test_refund_outside_the_return_window_needs_a_human(policy):
    check = RefundEligibility(policy)
    recent = make_event(attributes={"delivered_at": "2026-11-10"})
    old = make_event(attributes={"delivered_at": "2026-09-01"})
    assert check.run(review_of(recent, policy)).passed
    outcome = check.run(review_of(old, policy))
    assert not outcome.passed and "80 days before the request" in outcome.detail


@pytest.mark.parametrize("ticket, problem", [
    ("Hola, compré unas zapatillas hace tres meses y quiero devolverlas y que me reembolsen 30 euros.",
     "longer than the 30-day return window"),
    ("I want a refund of 120 EUR for the jacket, it arrived last week.", "above the auto-approval limit 50 EUR"),
])
def test_a_refund_the_customer_asks_beyond_policy_needs_a_human(policy, ticket, problem):
    locale = "es" if ticket.startswith("Hola") else "en"
    outcome = RefundEligibility(policy).run(review_of(make_event(ticket=ticket, locale=locale), policy))
    assert not outcome.passed and problem in outcome.detail and outcome.severity == NEEDS_HUMAN


def test_a_refund_request_inside_policy_passes(policy):
    ticket = "Bonjour, j'ai reçu ma commande il y a 10 jours, je voudrais un remboursement de 35 euros."
    assert RefundEligibility(policy).run(review_of(make_event(ticket=ticket, locale="fr"), policy)).passed


def test_promising_a_longer_window_than_policy_fails_outright(policy):
    event = make_event("You can return any item within 60 days.")
    outcome = RefundEligibility(policy).run(review_of(event, policy))
    assert not outcome.passed and outcome.severity == FAILED


def test_tenant_rules_fire_with_their_verdict(policy):
    ruled = with_policy(policy, verifier={"rules": [
        {"name": "big-refunds", "condition": "refund_amount > 20.0", "verdict": "failed", "description": "too big"},
        {"name": "vip-human", "condition": "customer.tier == 'platinum'"},
    ]})
    check = TenantRules(ruled)
    outcome = check.run(review_of(make_event(extra="We will refund €35."), ruled))
    assert not outcome.passed and outcome.severity == FAILED and "big-refunds" in outcome.detail
    assert check.run(review_of(make_event(), ruled)).passed


def test_tenant_rule_that_does_not_parse_is_refused_at_load(tmp_path, policy):
    raw = yaml.safe_load((REPO / "config" / "tenants" / "acme-shop.yaml").read_text(encoding="utf-8"))
    raw["verifier"] = {"rules": [{"name": "broken", "condition": "refund_amount >>> 3"}]}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PolicyError, match=r"verifier.rules\[broken\]"):
        load_policy(path)
    raw["verifier"] = {"rules": [{"name": "unknown-field", "condition": "reply_text == 'x'"}]}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PolicyError, match=r"verifier.rules\[unknown-field\]: unknown field 'reply_text'"):
        load_policy(path)
