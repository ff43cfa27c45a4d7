"""Idempotent sending and agent feedback (approve / edit / reject) as pure state changes."""

from __future__ import annotations


import pytest

from casetrail.events import AgentFeedback, FeedbackAction, ProducerInfo
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.case import CaseStatus
from services.router.decide import route
from casetrail.events import Verdict
from services.router.feedback import (
    AWAITING_VERIFICATION,
    EDIT_WITHOUT_TEXT,
    FAILED_DRAFT,
    NOTHING_TO_APPROVE,
    SUPERSEDED_DRAFT,
    UNKNOWN_CONVERSATION,
    apply_feedback,
    labelled_examples,
)
from services.router.sending import claim_send


def review_record():
    return route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER).case


def feedback(action: FeedbackAction, **kw) -> AgentFeedback:
    base = dict(conversation_id="conv-1", tenant="acme-shop", locale="en", producer=ProducerInfo(service="agent-ui", version="1"),
                draft_id="draft-1", agent_id="agent-7", action=action)
    return AgentFeedback(**{**base, **kw})


def test_claim_send_suppresses_a_second_send_of_the_same_key():
    sent: dict = {}
    reply = route(verified(), acme(), OPEN_NOW, PRODUCER).replies[0]
    assert claim_send(sent, reply, at="t1") is True
    assert claim_send(sent, reply, at="t2") is False
    assert sent["conv-1:draft-1"]["at"] == "t1"


def test_approve_sends_the_draft_as_the_agent():
    outcome = apply_feedback(review_record(), feedback(FeedbackAction.approve), PRODUCER, OPEN_NOW)
    assert outcome.problem is None and outcome.stop_sla
    assert outcome.reply.body == verified().draft.reply_text
    assert outcome.reply.sent_by == "agent:agent-7"
    assert outcome.reply.idempotency_key == "conv-1:draft-1"  # the same key an autonomous send would use
    assert outcome.reply.citations == ["shipping-1@kb-7"]
    assert outcome.case.status == CaseStatus.answered


def test_an_edit_sends_nothing_until_the_verifier_has_passed_it():
    outcome = apply_feedback(review_record(), feedback(FeedbackAction.edit, edited_text="Your parcel arrives tomorrow."), PRODUCER, OPEN_NOW)
    assert outcome.reply is None and not outcome.stop_sla
    assert outcome.note == AWAITING_VERIFICATION
    assert outcome.case.status == CaseStatus.verifying_edit


def test_approve_of_a_draft_that_failed_a_check_sends_nothing():
    record = route(verified(confidence=0.5, verdict=Verdict.failed, failed_checks=(("statements_supported", "x"),)),
                   acme(), OPEN_NOW, PRODUCER).case
    outcome = apply_feedback(record, feedback(FeedbackAction.approve), PRODUCER, OPEN_NOW)
    assert outcome.reply is None and outcome.note == FAILED_DRAFT


def test_reassign_and_escalate_move_the_case():
    moved = apply_feedback(review_record(), feedback(FeedbackAction.reassign, queue="payments-team"), PRODUCER, OPEN_NOW)
    assert moved.reply is None and moved.case.queue == "payments-team"
    escalated = apply_feedback(review_record(), feedback(FeedbackAction.escalate, queue="senior-support"), PRODUCER, OPEN_NOW)
    assert escalated.case.status == CaseStatus.escalated and escalated.case.queue == "senior-support"


def test_reject_records_the_reason_and_sends_nothing():
    outcome = apply_feedback(review_record(), feedback(FeedbackAction.reject, reason="wrong policy cited"), PRODUCER, OPEN_NOW)
    assert outcome.reply is None and not outcome.stop_sla
    assert outcome.case.status == CaseStatus.rejected and outcome.case.rejection_reason == "wrong policy cited"
    assert outcome.case.feedback[-1].action == FeedbackAction.reject


def test_reject_with_resolved_stops_the_sla():
    outcome = apply_feedback(review_record(), feedback(FeedbackAction.reject, reason="answered by phone", resolved=True),
                             PRODUCER, OPEN_NOW)
    assert outcome.stop_sla and outcome.case.status == CaseStatus.resolved


@pytest.mark.parametrize(
    "record, item, problem, note",
    [
        (None, feedback(FeedbackAction.approve), UNKNOWN_CONVERSATION, None),
        ("review", feedback(FeedbackAction.edit, edited_text="  "), EDIT_WITHOUT_TEXT, None),
        ("review", feedback(FeedbackAction.approve, draft_id="draft-0"), None, SUPERSEDED_DRAFT),
        ("escalated-no-draft", feedback(FeedbackAction.approve), None, NOTHING_TO_APPROVE),
    ],
)
def test_feedback_that_cannot_send(record, item, problem, note):
    if record == "review":
        record = review_record()
    elif record == "escalated-no-draft":
        record = review_record().model_copy(update={"reply_text": ""})
    outcome = apply_feedback(record, item, PRODUCER, OPEN_NOW)
    assert outcome.reply is None
    assert (outcome.problem, outcome.note) == (problem, note)


def test_labelled_examples_join_decision_and_feedback():
    decision = route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER).decision
    items = [
        feedback(FeedbackAction.edit, edited_text="Better text.", corrected_intent="refund_status"),
        feedback(FeedbackAction.reject, conversation_id="conv-unknown", reason="spam"),
    ]
    rows = labelled_examples([decision], items)
    assert rows[0]["label"] == "edit" and rows[0]["final_text"] == "Better text."
    assert rows[0]["intent"] == "order_status" and rows[0]["corrected_intent"] == "refund_status"
    assert rows[0]["router_action"] == "review" and rows[0]["draft_text"] == decision.reply_text
    assert rows[0]["citations"] == ["shipping-1@kb-7"] and rows[0]["decision_found"] is True
    assert rows[1]["decision_found"] is False and rows[1]["label"] == "reject"
