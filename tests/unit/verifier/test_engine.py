import pytest

from casetrail.events import DraftOutcome, Verdict
from casetrail.policy.tenant import VERIFIER_CHECKS
from services.verifier.checks import CHECK_NAMES, CheckDependencies
from services.verifier.engine import TenantVerifiers, VerifierConfigError, build_verifier, build_verifiers

from verifier_fixtures import fake_pii, make_event, with_policy


def fake_language(text, fast=False):
    return [("en", 1.0)]


@pytest.fixture
def verifier(policy, resolver):
    return build_verifier(policy, CheckDependencies(resolver=resolver, pii_detector=fake_pii,
                                                    language_identifier=fake_language))


def test_policy_vocabulary_and_registry_agree():
    assert CHECK_NAMES == VERIFIER_CHECKS


def test_good_draft_passes_with_every_check_reported(verifier, policy):
    verification = verifier.verify(make_event()).verification
    assert verification.verdict == Verdict.passed, verification.failed_checks
    assert [c.name for c in verification.checks] == list(VERIFIER_CHECKS)
    assert verification.threshold == policy.category("refund_policy").threshold


def test_wrong_draft_fails_and_failed_beats_needs_human(verifier):
    verification = verifier.verify(make_event("You can return any item within 60 days.", intent_confidence=0.5)).verification
    assert verification.verdict == Verdict.failed
    assert {c.name for c in verification.failed_checks} >= {"statements_supported", "confidence_threshold"}


def test_policy_only_failures_need_a_human(verifier):
    verification = verifier.verify(make_event(category="fraud_report")).verification
    assert verification.verdict == Verdict.needs_human
    assert all(c.severity == "needs_human" for c in verification.failed_checks)


def test_undrafted_outcome_passes_through_as_needs_human(verifier):
    verification = verifier.verify(make_event(outcome=DraftOutcome.no_grounding)).verification
    assert verification.verdict == Verdict.needs_human
    assert [c.name for c in verification.checks] == ["draft_outcome"]
    assert "no_grounding" in verification.checks[0].detail


def test_unknown_tenant_needs_a_human(verifier):
    tenants = TenantVerifiers({"other": verifier})
    verification = tenants.verify(make_event()).verification
    assert verification.verdict == Verdict.needs_human and verification.checks[0].name == "tenant_policy"


def test_only_configured_checks_run(policy, resolver):
    subset = with_policy(policy, verifier={"checks": ["citations_resolve", "ai_disclosure"]})
    verifier = build_verifier(subset, CheckDependencies(resolver=resolver, pii_detector=fake_pii,
                                                        language_identifier=fake_language))
    assert [c.name for c in verifier.verify(make_event()).verification.checks] == ["citations_resolve", "ai_disclosure"]


def test_unknown_check_name_is_refused_naming_the_entry(policy):
    with pytest.raises(ValueError, match=r"checks\[1\]: unknown check 'spellcheck'"):
        with_policy(policy, verifier={"checks": ["citations_resolve", "spellcheck"]})


def test_invalid_threshold_is_refused(policy):
    data = policy.model_dump()
    data["categories"]["payment_issue"]["threshold"] = 1.5
    with pytest.raises(ValueError, match=r"categories.payment_issue.threshold"):
        type(policy).model_validate(data)
    with pytest.raises(ValueError, match="language_sentence_confidence"):
        with_policy(policy, verifier={"language_sentence_confidence": -0.1})


def test_bad_injection_pattern_is_refused(policy):
    with pytest.raises(ValueError, match=r"injection_patterns\[0\]: not a regular expression"):
        with_policy(policy, verifier={"injection_patterns": ["(unclosed"]})


def test_rule_that_does_not_parse_stops_the_build(policy, resolver):
    broken = with_policy(policy, verifier={"rules": [{"name": "r1", "condition": "category ==="}]})
    with pytest.raises(VerifierConfigError, match=r"tenant 'acme-shop': verifier.rules\[r1\]: does not parse"):
        build_verifiers({"acme-shop": broken}, CheckDependencies(resolver=resolver, pii_detector=fake_pii,
                                                                 language_identifier=fake_language))
