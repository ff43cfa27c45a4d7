"""The router's case lifecycle (services.router.case): every legal transition, the refusals, and the
stored JSON (including a record written before the lifecycle was typed)."""

from __future__ import annotations

import json

import pytest

from casetrail.events import AgentFeedback, FeedbackAction, ProducerInfo, Verdict
from casetrail.events.decision import Action, SlaEventKind
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.agent_edits import apply_verified_edit
from services.router.case import (
    STATUS_AFTER_ACTION,
    TRANSITIONS,
    Case,
    CaseEvent,
    CaseStatus,
    FeedbackEntry,
    redrafted,
    transition,
    with_sla_closed,
)
from services.router.decide import route
from services.router.feedback import SUPERSEDED_DRAFT, apply_feedback
from services.router.sla import SlaState
from services.router.sla_escalation import sla_escalation

S, E = CaseStatus, CaseEvent
OPEN = [S.awaiting_agent, S.verifying_edit, S.escalated, S.with_humans, S.acknowledged, S.rejected]
# The lifecycle written out by hand (the oracle): (event, status) → status after it.
EXPECTED: dict[tuple[CaseEvent, CaseStatus], CaseStatus] = {
    **{(E.approved, s): S.answered for s in OPEN},
    **{(E.edited, s): S.verifying_edit for s in OPEN},
    **{(E.rejected, s): S.rejected for s in OPEN},
    **{(E.reassigned, s): s for s in OPEN},
    **{(E.agent_escalated, s): S.escalated for s in OPEN},
    **{(E.resolved, s): S.resolved for s in OPEN},
    **{(E.edit_passed, s): S.answered for s in OPEN},
    **{(E.edit_failed, s): S.awaiting_agent for s in OPEN},
    **{(E.reply_sent, s): S.answered for s in OPEN},
    **{(E.sla_escalated, s): S.escalated for s in OPEN},
    (E.resolved, S.answered): S.resolved,
    (E.resolved, S.dropped): S.resolved,
    (E.reply_sent, S.dropped): S.answered,
}
REFUSED = [(e, s) for e in CaseEvent for s in CaseStatus if (e, s) not in EXPECTED]
REFUSAL_CODE = {S.answered: "already_answered", S.dropped: "case_dropped", S.resolved: "case_resolved"}


def review_case(**changes) -> Case:
    case = route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER).case
    return case.model_copy(update=changes)


def feedback(action: FeedbackAction, **kw) -> AgentFeedback:
    base = dict(conversation_id="conv-1", tenant="acme-shop", locale="en", draft_id="draft-1", agent_id="agent-7",
                producer=ProducerInfo(service="agent-ui", version="1"), action=action)
    return AgentFeedback(**{**base, **kw})


def test_the_transition_table_is_the_written_lifecycle():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize("event, status", sorted(EXPECTED, key=str))
def test_every_legal_transition_moves_the_case(event, status):
    step = transition(review_case(status=status), event)
    assert step.moved and step.refusal is None
    assert step.case.status == EXPECTED[(event, status)]


@pytest.mark.parametrize("event, status", sorted(REFUSED, key=str))
def test_every_other_transition_is_refused_and_changes_nothing(event, status):
    case = review_case(status=status)
    step = transition(case, event, queue="somewhere-else")
    assert not step.moved and step.case == case
    assert step.refusal.code == REFUSAL_CODE[status]
    assert event.value in step.refusal.why and status.value in step.refusal.why


def test_only_closed_statuses_refuse_anything():
    assert {s for _, s in REFUSED} == {S.answered, S.dropped, S.resolved}


@pytest.mark.parametrize("action, status", [
    (Action.send, S.answered), (Action.drop, S.dropped), (Action.review, S.awaiting_agent),
    (Action.escalate, S.escalated), (Action.shadow, S.with_humans), (Action.acknowledge, S.acknowledged),
])
def test_a_decision_opens_the_case_in_the_status_of_its_action(action, status):
    assert STATUS_AFTER_ACTION[action] == status


def test_the_routed_case_follows_the_decision():
    sent = route(verified(), acme(), OPEN_NOW, PRODUCER)
    review = route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER)
    spam = route(verified(spam=True), acme(), OPEN_NOW, PRODUCER)
    assert (sent.decision.action, sent.case.status) == (Action.send, S.answered)
    assert (review.decision.action, review.case.status) == (Action.review, S.awaiting_agent)
    assert (spam.decision.action, spam.case.status) == (Action.drop, S.dropped)
    assert review.case.decision == review.decision and review.case.draft_id == "draft-1"


def test_a_redelivered_decision_keeps_what_happened_to_the_case_since():
    fresh = review_case()
    entry = FeedbackEntry(event_id="fb-1", agent_id="agent-7", action=FeedbackAction.reassign, draft_id="draft-1")
    moved = with_sla_closed(review_case(status=S.rejected, queue="payments-team", priority="high",
                                        rejection_reason="tone", feedback=(entry,)), SlaState.breached)
    kept = redrafted(moved, fresh)
    assert (kept.status, kept.queue, kept.priority, kept.rejection_reason, kept.sla) == (
        S.rejected, "payments-team", "high", "tone", SlaState.breached)
    assert kept.feedback == (entry,) and kept.decision == fresh.decision
    assert not kept.timer_may_start


def test_a_new_draft_opens_the_case_again():
    closed = review_case(status=S.resolved, draft_id="draft-0", sla=SlaState.stopped)
    fresh = review_case()
    assert redrafted(closed, fresh) == fresh and fresh.timer_may_start
    assert redrafted(None, fresh) == fresh


@pytest.mark.parametrize("status, code", [(S.resolved, "case_resolved"), (S.answered, "already_answered"),
                                          (S.dropped, "case_dropped")])
def test_approve_on_a_closed_case_sends_nothing_and_records_why(status, code):
    outcome = apply_feedback(review_case(status=status), feedback(FeedbackAction.approve), PRODUCER, OPEN_NOW)
    assert outcome.reply is None and outcome.problem is None and not outcome.stop_sla
    assert outcome.note == code and outcome.case.status == status
    assert outcome.case.feedback[-1].note == code and outcome.case.feedback[-1].action == FeedbackAction.approve


def test_an_edit_or_reject_on_an_answered_case_is_refused():
    for item in (feedback(FeedbackAction.edit, edited_text="Better."), feedback(FeedbackAction.reject, reason="x")):
        outcome = apply_feedback(review_case(status=S.answered), item, PRODUCER, OPEN_NOW)
        assert (outcome.note, outcome.case.status, outcome.case.rejection_reason) == (
            "already_answered", S.answered, None)


def test_resolving_an_answered_case_closes_it_even_when_the_action_is_refused():
    outcome = apply_feedback(review_case(status=S.answered), feedback(FeedbackAction.approve, resolved=True),
                             PRODUCER, OPEN_NOW)
    assert outcome.reply is None and outcome.note == "already_answered"
    assert outcome.case.status == S.resolved and outcome.stop_sla


def test_approve_and_resolve_together_send_and_close():
    outcome = apply_feedback(review_case(), feedback(FeedbackAction.approve, resolved=True), PRODUCER, OPEN_NOW)
    assert outcome.reply is not None and outcome.case.status == S.resolved and outcome.stop_sla


def test_feedback_on_an_older_draft_still_resolves_the_case():
    outcome = apply_feedback(review_case(), feedback(FeedbackAction.approve, draft_id="draft-0", resolved=True),
                             PRODUCER, OPEN_NOW)
    assert outcome.reply is None and outcome.note == SUPERSEDED_DRAFT and outcome.case.status == S.resolved


def test_a_passed_edit_reaching_a_resolved_case_is_never_sent():
    event = verified(draft_id="draft-1+edit-1")
    event = event.model_copy(update={"draft": event.draft.model_copy(update={"composer": "agent:ana"})})
    outcome = apply_verified_edit(review_case(status=S.resolved), event, PRODUCER, OPEN_NOW)
    assert outcome.reply is None and outcome.decision is None and outcome.note == "case_resolved"
    assert apply_verified_edit(review_case(status=S.verifying_edit), event, PRODUCER, OPEN_NOW).case.status == S.answered


def test_a_failed_edit_reaching_an_answered_case_does_not_reopen_it():
    event = verified(draft_id="draft-1+edit-1", verdict=Verdict.failed, failed_checks=(("statements_supported", "x"),))
    event = event.model_copy(update={"draft": event.draft.model_copy(update={"composer": "agent:ana"})})
    outcome = apply_verified_edit(review_case(status=S.answered), event, PRODUCER, OPEN_NOW)
    assert outcome.decision is None and outcome.note == "already_answered"


def test_an_open_rejected_case_is_still_escalated_by_its_sla():
    escalation = sla_escalation(review_case(status=S.rejected), acme(), SlaEventKind.breached, OPEN_NOW, OPEN_NOW,
                                PRODUCER, "x")
    assert escalation is not None and escalation.action == Action.escalate


def test_the_stored_json_round_trips():
    case = apply_feedback(review_case(), feedback(FeedbackAction.reject, reason="tone"), PRODUCER, OPEN_NOW).case
    stored = json.loads(json.dumps(case.to_json()))
    assert stored["status"] == "rejected" and stored["mode"] == "autonomous" and stored["action"] == "review"
    assert Case.from_json(stored) == case


def old_format_record() -> dict:
    """A conversations-table value as the router wrote it before the lifecycle was typed (a plain
    dict: isoformat strings, a feedback entry without ``note``/``resolved``, no ``sla``), plus a
    field this router does not know."""
    decision = route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER).decision
    return {
        "tenant": "acme-shop", "locale": "en", "status": "escalated", "decision_id": decision.event_id,
        "mode": "assist", "action": "review", "rule": None, "queue": "senior-support", "priority": "normal",
        "draft_id": "draft-1", "reply_text": decision.reply_text, "citations": ["shipping-1@kb-7"],
        "channel": "email", "source": "zendesk", "external_id": "T-100",
        "waiting_since": "2026-11-25T08:00:00+00:00", "variables": {"category": "order_status", "vip": False},
        "decision": decision.model_dump(mode="json"),
        "feedback": [{"event_id": "fb-0", "at": "2026-11-25T08:05:00+00:00", "agent_id": "agent-7",
                      "action": "escalate", "draft_id": "draft-1", "reason": None}],
        "written_by_a_newer_router": {"anything": 1},
    }


def test_an_old_format_record_loads_and_keeps_its_meaning():
    case = Case.from_json(old_format_record())
    assert case.status == S.escalated and case.queue == "senior-support" and case.sla is None
    assert case.waiting_since == OPEN_NOW and case.feedback[0].action == FeedbackAction.escalate
    assert case.feedback[0].note is None and case.feedback[0].resolved is False
    assert case.decision.action == Action.review
    again = case.to_json()
    assert "written_by_a_newer_router" not in again
    assert {k: again[k] for k in ("status", "mode", "action", "draft_id", "queue")} == {
        "status": "escalated", "mode": "assist", "action": "review", "draft_id": "draft-1", "queue": "senior-support"}
    # It still works as a case: an approve sends the stored draft.
    outcome = apply_feedback(case, feedback(FeedbackAction.approve), PRODUCER, OPEN_NOW)
    assert outcome.reply is not None and outcome.reply.body == case.reply_text
    assert outcome.case.status == S.answered


def test_the_sla_end_is_stored_as_its_state_name():
    stored = with_sla_closed(review_case(), SlaState.breached).to_json()
    assert stored["sla"] == "breached" and Case.from_json(stored).sla == SlaState.breached


def test_a_minimal_old_record_loads_with_defaults():
    case = Case.from_json({"tenant": "acme-shop", "locale": "en", "status": "answered"})
    assert (case.status, case.priority, case.feedback, case.decision, case.sla) == (S.answered, "normal", (), None, None)
    assert sla_escalation(case, acme(), SlaEventKind.at_risk, OPEN_NOW, OPEN_NOW, PRODUCER, "x") is None


def test_a_case_names_its_customer_for_erasure_and_an_older_stored_case_names_none():
    from casetrail.privacy.customer_key import customer_key
    from services.router.case import case_customer

    event = verified()
    case = route(event, acme(), OPEN_NOW, PRODUCER).case
    stored = json.loads(json.dumps(case.to_json()))
    assert case_customer(event.conversation_id, stored) == customer_key(
        event.tenant, event.conversation.customer.customer_id)
    assert case_customer(event.conversation_id, old_format_record()) is None
