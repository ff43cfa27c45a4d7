"""The router's case lifecycle: a typed, pure state machine (no Kafka, no clock, no tables).

A ``Case`` is what the router remembers about one conversation (the ``conversations`` table holds
``Case.to_json()`` under the conversation id). Its status changes only through ``transition``;
an event the status does not allow is a ``Refusal`` that names why, and the case stays as it was.

::

    drafted(action): send → answered · drop → dropped · review → awaiting_agent
                     escalate → escalated · shadow → with_humans · acknowledge → acknowledged
                     (a new draft always opens the case again; the same draft redelivered keeps
                     what happened since)

    open = awaiting_agent | verifying_edit | escalated | with_humans | acknowledged | rejected

    open ── approved ───────► answered          open ── edit_passed ──► answered
    open ── edited ─────────► verifying_edit    open ── edit_failed ──► awaiting_agent
    open ── rejected ───────► rejected          open ── reply_sent ───► answered
    open ── reassigned ─────► (same status)     open ── sla_escalated ► escalated
    open ── agent_escalated ► escalated         open ── resolved ─────► resolved
    answered ── resolved ──► resolved           dropped ── reply_sent ► answered
                                                dropped ── resolved ──► resolved
    resolved: refuses every event (closed; only a new draft opens it again)

Every other (event, status) pair is refused: ``already_answered``, ``case_dropped`` or
``case_resolved``. The string values of ``CaseStatus`` are the ones the changelog table has
always held, so records written before this module load unchanged.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict

from casetrail.events.decision import Action, FeedbackAction, Mode, RoutedDecision
from casetrail.events.verification import DraftVerified
from casetrail.privacy.customer_key import customer_key as customer_key_of

from services.router.sla import SlaState


class CaseStatus(str, enum.Enum):
    awaiting_agent = "awaiting_agent"  # a draft an agent can approve, edit or reject
    verifying_edit = "verifying_edit"  # an agent's edit is with the verifier
    escalated = "escalated"  # a person handles it; nothing to approve (or moved up by an agent / the SLA)
    with_humans = "with_humans"  # shadow mode: the draft is only recorded
    acknowledged = "acknowledged"  # out of hours: the customer was told when a person answers
    answered = "answered"
    rejected = "rejected"  # an agent rejected the draft; the case stays with people
    resolved = "resolved"
    dropped = "dropped"  # spam or an automated message: never answered


class CaseEvent(str, enum.Enum):
    approved = "approved"  # an agent approved the draft and it goes out
    edited = "edited"  # an agent's edit went to the verifier
    rejected = "rejected"
    reassigned = "reassigned"
    agent_escalated = "agent_escalated"
    resolved = "resolved"  # feedback with ``resolved: true``
    edit_passed = "edit_passed"  # the verifier passed the agent's edit: it goes out
    edit_failed = "edit_failed"  # the verifier failed it: back to the agent
    reply_sent = "reply_sent"  # an answer on replies.outbound, from anyone
    sla_escalated = "sla_escalated"


STATUS_AFTER_ACTION: dict[Action, CaseStatus] = {
    Action.send: CaseStatus.answered,
    Action.drop: CaseStatus.dropped,
    Action.review: CaseStatus.awaiting_agent,
    Action.escalate: CaseStatus.escalated,
    Action.shadow: CaseStatus.with_humans,
    Action.acknowledge: CaseStatus.acknowledged,
}
OPEN_STATUSES = frozenset({CaseStatus.awaiting_agent, CaseStatus.verifying_edit, CaseStatus.escalated,
                           CaseStatus.with_humans, CaseStatus.acknowledged, CaseStatus.rejected})
CLOSED_STATUSES = frozenset(CaseStatus) - OPEN_STATUSES
ANSWERED_STATUSES = frozenset({CaseStatus.answered, CaseStatus.resolved})  # the customer's SLA clock is done

_FROM_OPEN: dict[CaseEvent, Optional[CaseStatus]] = {  # None: the status stays (only the queue moves)
    CaseEvent.approved: CaseStatus.answered,
    CaseEvent.edited: CaseStatus.verifying_edit,
    CaseEvent.rejected: CaseStatus.rejected,
    CaseEvent.reassigned: None,
    CaseEvent.agent_escalated: CaseStatus.escalated,
    CaseEvent.resolved: CaseStatus.resolved,
    CaseEvent.edit_passed: CaseStatus.answered,
    CaseEvent.edit_failed: CaseStatus.awaiting_agent,
    CaseEvent.reply_sent: CaseStatus.answered,
    CaseEvent.sla_escalated: CaseStatus.escalated,
}
_FROM_CLOSED: dict[CaseStatus, dict[CaseEvent, CaseStatus]] = {
    CaseStatus.answered: {CaseEvent.resolved: CaseStatus.resolved},
    CaseStatus.dropped: {CaseEvent.resolved: CaseStatus.resolved, CaseEvent.reply_sent: CaseStatus.answered},
    CaseStatus.resolved: {},
}
# The whole machine: (event, status) → the status after it. A pair not in here is refused.
TRANSITIONS: dict[tuple[CaseEvent, CaseStatus], CaseStatus] = {
    **{(event, status): target or status for event, target in _FROM_OPEN.items() for status in OPEN_STATUSES},
    **{(event, status): target for status, moves in _FROM_CLOSED.items() for event, target in moves.items()},
}
REFUSAL_CODES: dict[CaseStatus, str] = {
    CaseStatus.answered: "already_answered",
    CaseStatus.dropped: "case_dropped",
    CaseStatus.resolved: "case_resolved",
}


@dataclass(frozen=True)
class Refusal:
    code: str  # recorded on the feedback entry and in the feedback metric's outcome label
    why: str


class FeedbackEntry(BaseModel):
    """One agent feedback as the case records it (every feedback, applied or refused)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = ""
    at: Optional[dt.datetime] = None
    agent_id: str = ""
    action: Optional[FeedbackAction] = None
    draft_id: str = ""
    reason: Optional[str] = None
    resolved: bool = False
    note: Optional[str] = None  # why it sent nothing, when it did not (superseded draft, refusal, ...)


class Case(BaseModel):
    """What the router remembers about a conversation. Stored as JSON; fields written by an older
    router that this one does not know are ignored, and fields it lacks take the defaults."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant: str
    locale: str
    status: CaseStatus
    decision_id: str = ""
    mode: Mode = Mode.assist
    action: Optional[Action] = None
    rule: Optional[str] = None
    queue: Optional[str] = None
    priority: str = "normal"
    draft_id: Optional[str] = None
    reply_text: str = ""
    citations: tuple[str, ...] = ()
    channel: str = ""
    source: str = ""
    external_id: str = ""
    waiting_since: Optional[dt.datetime] = None
    variables: dict[str, Any] = {}  # what the routing rules saw (re-evaluated when the SLA fires)
    decision: Optional[RoutedDecision] = None
    feedback: tuple[FeedbackEntry, ...] = ()
    rejection_reason: Optional[str] = None
    sla: Optional[SlaState] = None  # the state this draft's SLA timer closed in (breached / stopped)
    # The customer's key (casetrail.privacy.customer_key): what erasure finds the case by. Empty in a
    # case stored before it was kept: such a case is not found (it is overwritten by the next draft).
    customer_key: str = ""

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Case":
        return cls.model_validate(data)

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED_STATUSES

    @property
    def timer_may_start(self) -> bool:
        """False once the customer was answered or this draft's timer already ran out."""
        return not self.answered and self.sla is None


@dataclass(frozen=True)
class Step:
    """A transition's result: the case after it, or the unchanged case and why it was refused."""

    case: Case
    refusal: Optional[Refusal] = None

    @property
    def moved(self) -> bool:
        return self.refusal is None


def refusal(case: Case, event: CaseEvent) -> Optional[Refusal]:
    """Why ``event`` cannot happen to ``case`` now, or None when it can."""
    if (event, case.status) in TRANSITIONS:
        return None
    return Refusal(REFUSAL_CODES[case.status],
                   f"{event.value} on a case that is {case.status.value}: nothing changes")


def transition(case: Case, event: CaseEvent, **changes: Any) -> Step:
    """``case`` after ``event`` (with ``changes`` such as the new queue), or a refusal."""
    refused = refusal(case, event)
    if refused is not None:
        return Step(case, refused)
    return Step(case.model_copy(update={**changes, "status": TRANSITIONS[(event, case.status)]}))


def drafted(event: DraftVerified, decision: RoutedDecision, variables: dict[str, Any],
            waiting_from: dt.datetime) -> Case:
    """The case a routing decision opens: its status follows the decision's action."""
    conversation = event.conversation
    return Case(
        tenant=event.tenant, locale=event.locale, status=STATUS_AFTER_ACTION[decision.action],
        decision_id=decision.event_id, mode=decision.mode, action=decision.action, rule=decision.rule,
        queue=decision.queue, priority=decision.priority, draft_id=event.draft.draft_id,
        reply_text=event.draft.reply_text, citations=tuple(decision.citations), channel=conversation.channel,
        source=conversation.source, external_id=conversation.external_id, waiting_since=waiting_from,
        variables=variables, decision=decision,
        customer_key=customer_key_of(event.tenant, conversation.customer.customer_id),
    )


def case_customer(conversation_id: str, stored: dict[str, Any]) -> Optional[str]:
    """The customer key of a stored case (the ``conversations`` table's erasure), None when unknown."""
    return stored.get("customer_key") or None


def redrafted(previous: Optional[Case], fresh: Case) -> Case:
    """The case to store for a routing decision: a redelivered decision (the same draft) keeps what
    happened to the case since (status, queue moves, feedback, the SLA's end); a new draft opens
    the case again."""
    if previous is None or previous.draft_id != fresh.draft_id:
        return fresh
    return fresh.model_copy(update={
        "status": previous.status, "queue": previous.queue, "priority": previous.priority,
        "feedback": previous.feedback, "rejection_reason": previous.rejection_reason, "sla": previous.sla,
    })


def with_feedback(case: Case, entry: FeedbackEntry) -> Case:
    return case.model_copy(update={"feedback": (*case.feedback, entry)})


def with_sla_closed(case: Case, state: SlaState) -> Case:
    return case.model_copy(update={"sla": state})
