"""Agent feedback closes the loop: approve sends the draft (unless a check of severity ``failed``
failed on it), edit waits for the verifier (the edited text is sent only once the verifier has
passed it: ``services.router.agent_edits``), reject records the reason, reassign and escalate
move the case to another queue. Every verdict becomes a labelled example for evaluation.

``apply_feedback`` is pure: it takes the conversation's case and the feedback,
and returns the case after it (``services.router.case`` decides which status
moves are legal: approve on a resolved case sends nothing and records why),
the reply to send (if any) and a problem code for feedback that cannot be
carried out (dead-lettered by the app with that reason). ``labelled_examples`` joins the routed decisions and
the agents' feedback from the log into JSONL rows for the evaluation set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from casetrail.events.decision import AgentFeedback, FeedbackAction, ReplyOutbound, RoutedDecision
from casetrail.events.envelope import ProducerInfo
from casetrail.events.verification import Verdict

from services.router.case import Case, CaseEvent, FeedbackEntry, refusal, transition, with_feedback
from services.router.sending import make_reply

# Problems that make the feedback itself bad input (dead-lettered with this code).
UNKNOWN_CONVERSATION = "unknown_conversation"
EDIT_WITHOUT_TEXT = "edit_without_text"
# Feedback that is valid but does not send (recorded on the conversation).
SUPERSEDED_DRAFT = "superseded_draft"
NOTHING_TO_APPROVE = "nothing_to_approve"
FAILED_DRAFT = "draft_failed_checks"  # approve of a draft the verifier failed: never sent as is
AWAITING_VERIFICATION = "awaiting_verification"  # an edit: the verifier's verdict on it decides


@dataclass
class FeedbackOutcome:
    case: Optional[Case]
    reply: Optional[ReplyOutbound] = None
    problem: Optional[str] = None  # dead-letter reason code
    note: Optional[str] = None  # recorded, not an error
    stop_sla: bool = False


_CASE_EVENT = {
    FeedbackAction.approve: CaseEvent.approved,
    FeedbackAction.edit: CaseEvent.edited,
    FeedbackAction.reject: CaseEvent.rejected,
    FeedbackAction.reassign: CaseEvent.reassigned,
    FeedbackAction.escalate: CaseEvent.agent_escalated,
}


def apply_feedback(
    case: Optional[Case], feedback: AgentFeedback, producer: ProducerInfo, now: dt.datetime
) -> FeedbackOutcome:
    if case is None:
        return FeedbackOutcome(case=None, problem=UNKNOWN_CONVERSATION)
    if feedback.action == FeedbackAction.edit and not (feedback.edited_text or "").strip():
        return FeedbackOutcome(case=case, problem=EDIT_WITHOUT_TEXT)

    reply = None
    note = None
    after = case
    refused = refusal(case, _CASE_EVENT[feedback.action])
    if feedback.draft_id != case.draft_id:
        note = SUPERSEDED_DRAFT  # the agent acted on an older draft: never send stale text
    elif refused is not None:
        note = refused.code  # e.g. approve on a resolved case: nothing is sent, the case stays
    elif feedback.action == FeedbackAction.reject:
        after = transition(case, CaseEvent.rejected, rejection_reason=feedback.reason or "").case
    elif feedback.action == FeedbackAction.reassign:
        after = transition(case, CaseEvent.reassigned, queue=feedback.queue or case.queue).case
    elif feedback.action == FeedbackAction.escalate:
        after = transition(case, CaseEvent.agent_escalated, queue=feedback.queue or case.queue).case
    elif feedback.action == FeedbackAction.edit:
        note = AWAITING_VERIFICATION
        after = transition(case, CaseEvent.edited).case
    elif not (case.reply_text or "").strip():
        note = NOTHING_TO_APPROVE
    elif case.decision is not None and case.decision.verdict == Verdict.failed:
        note = FAILED_DRAFT
    else:
        reply = make_reply(
            conversation_id=feedback.conversation_id,
            causation_id=feedback.event_id,
            tenant=case.tenant,
            locale=case.locale,
            channel=case.channel,
            source=case.source,
            external_id=case.external_id,
            draft_id=feedback.draft_id,
            body=case.reply_text,
            sent_by=f"agent:{feedback.agent_id}",
            producer=producer,
            citations=case.citations,
        )
        after = transition(case, CaseEvent.approved).case
    resolved = feedback.resolved and transition(after, CaseEvent.resolved).moved
    if resolved:
        after = transition(after, CaseEvent.resolved).case
    entry = FeedbackEntry(event_id=feedback.event_id, at=now, agent_id=feedback.agent_id, action=feedback.action,
                          draft_id=feedback.draft_id, reason=feedback.reason, resolved=feedback.resolved, note=note)
    return FeedbackOutcome(
        case=with_feedback(after, entry), reply=reply, note=note, stop_sla=reply is not None or resolved
    )


def labelled_examples(decisions: Iterable[RoutedDecision], feedback: Iterable[AgentFeedback]) -> list[dict[str, Any]]:
    """One row per feedback, joined to the first decision made on the same draft."""
    first: dict[tuple[str, str], RoutedDecision] = {}
    for decision in decisions:
        if decision.draft_id:
            first.setdefault((decision.conversation_id, decision.draft_id), decision)
    rows = []
    for item in feedback:
        decision = first.get((item.conversation_id, item.draft_id))
        row: dict[str, Any] = {
            "conversation_id": item.conversation_id,
            "tenant": item.tenant,
            "locale": item.locale,
            "draft_id": item.draft_id,
            "label": item.action.value,
            "agent_id": item.agent_id,
            "feedback_at": item.occurred_at.isoformat(),
            "final_text": item.edited_text if item.action == FeedbackAction.edit else None,
            "reason": item.reason,
            "corrected_intent": item.corrected_intent,
            "decision_found": decision is not None,
        }
        if decision is not None:
            triage = decision.triage
            row.update(
                intent=triage.intent,
                intent_confidence=triage.intent_confidence,
                category=triage.category,
                mode=decision.mode.value,
                router_action=(decision.deferred_action or decision.action).value,
                rule=decision.rule,
                queue=decision.queue,
                verdict=decision.verdict.value if decision.verdict else None,
                failed_checks=[r for r in (decision.brief.not_sent_because if decision.brief else [])
                               if r.startswith("check ")],
                draft_text=decision.reply_text,
                citations=list(decision.citations),
                versions=decision.versions.model_dump(),
                decided_at=decision.occurred_at.isoformat(),
            )
            if item.action == FeedbackAction.approve:
                row["final_text"] = decision.reply_text
        rows.append(row)
    return rows
