"""Mode x verifier verdict x confidence threshold: send only when all allow it."""

from __future__ import annotations

import itertools

import pytest

from casetrail.events import Action, DraftOutcome, Mode, Verdict
from casetrail.policy.tenant import TenantPolicy
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.decide import route

THRESHOLD = 0.80  # acme-shop's order_status threshold
CONFIDENCES = {"below": 0.79, "at": 0.80, "above": 0.97}


def policy_with(mode: str, always_human: bool = False) -> TenantPolicy:
    raw = acme().model_dump()
    raw["categories"]["order_status"] = {"threshold": THRESHOLD, "mode": mode, "always_human": always_human}
    return TenantPolicy.model_validate(raw)


def expected_action(mode: str, verdict: Verdict, confidence: str) -> Action:
    if mode == "autonomous" and verdict == Verdict.passed and confidence != "below":
        return Action.send
    if mode == "shadow":
        return Action.shadow
    if verdict == Verdict.needs_human:
        return Action.escalate
    return Action.review


COMBINATIONS = list(itertools.product(("shadow", "assist", "autonomous"), list(Verdict), CONFIDENCES))


@pytest.mark.parametrize("mode, verdict, confidence", COMBINATIONS,
                         ids=[f"{m}-{v.value}-{c}" for m, v, c in COMBINATIONS])
def test_mode_verdict_threshold(mode, verdict, confidence):
    failed = () if verdict == Verdict.passed else (("amounts_match", "draft says 14 days, clause says 30 days"),)
    event = verified(confidence=CONFIDENCES[confidence], verdict=verdict, failed_checks=failed)
    outcome = route(event, policy_with(mode), OPEN_NOW, PRODUCER)
    decision = outcome.decision
    assert decision.mode == Mode(mode)
    assert decision.action == expected_action(mode, verdict, confidence)
    sent = [r for r in outcome.replies if r.kind.value == "answer"]
    if decision.action == Action.send:
        assert len(sent) == 1 and sent[0].body == event.draft.reply_text and sent[0].sent_by == "bot"
        assert decision.brief is None
    else:
        assert sent == []
        assert decision.brief is not None and decision.brief.not_sent_because
        if verdict != Verdict.passed:
            assert "check amounts_match failed: draft says 14 days, clause says 30 days" in decision.brief.not_sent_because
        if confidence == "below":
            assert any("below the order_status threshold 0.80" in r for r in decision.brief.not_sent_because)


def test_always_human_category_is_never_autonomous():
    outcome = route(verified(confidence=1.0), policy_with("autonomous", always_human=True), OPEN_NOW, PRODUCER)
    assert outcome.decision.action == Action.review
    assert "category order_status always needs a human" in outcome.decision.brief.not_sent_because


def test_no_grounded_draft_escalates_instead_of_review():
    outcome = route(verified(outcome=DraftOutcome.no_grounding, verdict=Verdict.failed), acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action == Action.escalate
    assert outcome.replies == []
    assert any(a.startswith("Answer personally") for a in outcome.decision.brief.suggested_actions)


def test_customer_excluded_from_autonomy():
    raw = acme().model_dump()
    raw["autonomy_excluded_customers"] = ["cust-9"]
    outcome = route(verified(), TenantPolicy.model_validate(raw), OPEN_NOW, PRODUCER)
    assert outcome.decision.action == Action.review


def test_unknown_category_gets_the_safest_policy():
    # complaint_cancellation was a category of the previous taxonomy: a model trained on it may still say it
    outcome = route(verified(category="complaint_cancellation", confidence=0.99), acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.mode == Mode.assist and outcome.decision.action == Action.review
