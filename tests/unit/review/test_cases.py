"""The case state machine folded from a conversation's events (pure)."""

import itertools

from casetrail.events import FeedbackAction, Verdict
from casetrail.events.decision import Action

from services.review.cases import CaseState, can_move, fold_case
from tests.unit.review.factories import decision, feedback, reply, verified


def test_a_review_decision_opens_a_case_with_its_draft_and_clause_text():
    case = fold_case([verified(), decision()])
    assert case.state == CaseState.awaiting_agent
    assert case.queue == "general-support"
    assert case.draft["retrieved"][0]["text"].startswith("Orders ship within 2 business days")
    assert case.conversation["messages"][0]["body_text"] == "Hello, when will my order [ORDER_1] arrive?"
    assert case.open and case.actionable


def test_an_autonomous_send_is_not_a_case():
    assert fold_case([verified(), decision(action=Action.send)]) is None


def test_approve_then_reply_closes_the_case_as_sent():
    case = fold_case([verified(), decision(), feedback(FeedbackAction.approve), reply()])
    assert case.state == CaseState.sent
    assert not case.open
    assert case.correction["action"] == "approve"


def test_the_fold_does_not_depend_on_delivery_order():
    events = [verified(), decision(), feedback(FeedbackAction.approve), reply()]
    states = {fold_case(list(order)).state for order in itertools.permutations(events)}
    assert states == {CaseState.sent}


def test_a_failing_edit_comes_back_refused_with_the_failed_check():
    edited = verified(draft_id="draft-1+edit-abc", composer="agent:agent-ana", verdict=Verdict.failed,
                      text="Orders ship within 9 business days [shipping-1@kb-7].",
                      failed=(("numbers_match", "9 business days is not in shipping-1@kb-7"),), minutes=7)
    case = fold_case([verified(), decision(), feedback(FeedbackAction.edit, edited_text="... 9 days"), edited])
    assert case.state == CaseState.edit_refused
    assert [c["name"] for c in case.edit["failed"]] == ["numbers_match"]
    assert case.open  # back in the queue for the agent


def test_a_passing_edit_goes_on_to_be_sent():
    edited = verified(draft_id="draft-1+edit-abc", composer="agent:agent-ana", minutes=7)
    case = fold_case([verified(), decision(), feedback(FeedbackAction.edit, edited_text="ok"), edited])
    assert case.state == CaseState.approving


def test_reject_records_the_reason_and_closes():
    case = fold_case([verified(), decision(), feedback(FeedbackAction.reject, reason="wrong_clause")])
    assert case.state == CaseState.rejected
    assert case.correction == {"action": "reject", "reason": "wrong_clause", "corrected_intent": None,
                               "agent": "agent-ana", "at": case.correction["at"]}


def test_reassign_moves_the_queue_and_escalate_changes_the_state():
    case = fold_case([verified(), decision(), feedback(FeedbackAction.reassign, queue="billing", minutes=2)])
    assert (case.state, case.queue) == (CaseState.awaiting_agent, "billing")
    case = fold_case([verified(), decision(), feedback(FeedbackAction.escalate, queue="vip-support", minutes=2)])
    assert (case.state, case.queue) == (CaseState.escalated, "vip-support")


def test_a_second_approve_after_the_reply_is_ignored_not_applied():
    case = fold_case([verified(), decision(), feedback(FeedbackAction.approve), reply(),
                      feedback(FeedbackAction.reject, reason="tone", minutes=9)])
    assert case.state == CaseState.sent
    assert case.history[-1].kind == "ignored"


def test_feedback_on_an_older_draft_changes_nothing():
    case = fold_case([verified(), decision(), feedback(FeedbackAction.approve, draft_id="draft-0")])
    assert case.state == CaseState.awaiting_agent


def test_the_transition_table_refuses_leaving_a_closed_state():
    assert not can_move(CaseState.rejected, CaseState.approving)
    assert can_move(CaseState.awaiting_agent, CaseState.rejected)


def test_a_delivery_receipt_of_the_public_reply_marks_the_case_delivered():
    from casetrail.events import DeliveryEffect, DeliveryOutcome
    from casetrail.events.decision import ReplyKind
    from tests.unit.review.factories import receipt

    note = receipt(effect=DeliveryEffect.internal_note)
    case = fold_case([verified(), decision(), feedback(FeedbackAction.approve), reply(), note, receipt()])
    assert case.delivered and case.history[-1].kind == "delivery:delivered"
    acknowledged = fold_case([verified(), decision(), receipt(kind=ReplyKind.acknowledgement)])
    assert not acknowledged.delivered and not any(h.kind.startswith("delivery:") for h in acknowledged.history)
    failed = fold_case([verified(), decision(), receipt(outcome=DeliveryOutcome.failed, reason="HTTP 422")])
    assert not failed.delivered and failed.history[-1].detail == "zendesk HTTP 422"
