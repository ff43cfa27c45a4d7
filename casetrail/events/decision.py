"""The router's decision, outbound replies, agent feedback and SLA events."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from pydantic import Field

from casetrail.events.envelope import AvroRecord, DecisionEnvelope, EventEnvelope
from casetrail.events.triage import TriageResult
from casetrail.events.verification import Verdict


class Mode(str, enum.Enum):
    shadow = "shadow"  # draft, never send
    assist = "assist"  # an agent approves, edits or rejects
    autonomous = "autonomous"  # send when the verifier passed and the threshold holds


class Action(str, enum.Enum):
    send = "send"
    review = "review"
    escalate = "escalate"
    shadow = "shadow"
    acknowledge = "acknowledge"  # outside hours: tell the customer when a human answers
    drop = "drop"  # spam / abuse


class HandoffBrief(AvroRecord):
    """What a human taking over needs so the customer never repeats themselves."""

    summary: str
    signals: dict[str, str] = Field(default_factory=dict)
    draft_text: str = ""
    not_sent_because: list[str] = Field(default_factory=list)
    cited_clauses: list[str] = Field(default_factory=list)
    suggested_actions: list[str] = Field(default_factory=list)
    history_ref: str = ""


class RoutedDecision(DecisionEnvelope):
    mode: Mode
    action: Action
    rule: Optional[str] = None
    queue: Optional[str] = None
    priority: str = "normal"
    reason: str = ""
    inputs: dict[str, str] = Field(default_factory=dict)
    triage: TriageResult
    draft_id: Optional[str] = None
    reply_text: str = ""
    citations: list[str] = Field(default_factory=list)
    verdict: Optional[Verdict] = None
    brief: Optional[HandoffBrief] = None
    intake_at: Optional[dt.datetime] = None
    # Outside the queue's hours (action acknowledge): what a human will do, and from when.
    deferred_action: Optional[Action] = None
    human_from: Optional[dt.datetime] = None

    class Meta:
        namespace = "io.casetrail.events"


class ReplyKind(str, enum.Enum):
    answer = "answer"  # answers the customer: stops the SLA clock
    acknowledgement = "acknowledgement"  # out-of-hours notice: the SLA keeps running


class ReplyOutbound(EventEnvelope):
    """A reply to deliver; ``idempotency_key`` (conversation + draft) makes resends harmless."""

    idempotency_key: str
    channel: str
    source: str
    external_id: str
    body: str
    draft_id: str
    sent_by: str  # "bot" or "agent:<id>"
    citations: list[str] = Field(default_factory=list)
    kind: ReplyKind = ReplyKind.answer

    class Meta:
        namespace = "io.casetrail.events"


class FeedbackAction(str, enum.Enum):
    approve = "approve"
    edit = "edit"
    reject = "reject"
    reassign = "reassign"  # to another queue (``queue``); nothing is sent
    escalate = "escalate"  # to a senior queue (``queue``); nothing is sent


class RejectionReason(str, enum.Enum):
    """Why an agent rejected a draft: the label a correction carries into the evaluation set."""

    wrong_intent = "wrong_intent"
    wrong_clause = "wrong_clause"
    tone = "tone"
    policy = "policy"
    other = "other"


class AgentFeedback(EventEnvelope):
    draft_id: str
    agent_id: str
    action: FeedbackAction
    edited_text: Optional[str] = None
    reason: Optional[str] = None  # a RejectionReason value for reject; free of personal data
    corrected_intent: Optional[str] = None
    resolved: bool = False  # the agent answered or closed the case outside casetrail: stop its SLA
    queue: Optional[str] = None  # the target queue of reassign / escalate

    class Meta:
        namespace = "io.casetrail.events"


class SlaEventKind(str, enum.Enum):
    started = "started"
    at_risk = "at_risk"
    breached = "breached"
    stopped = "stopped"


class SlaEvent(EventEnvelope):
    kind: SlaEventKind
    due_at: dt.datetime
    fraction: float = 0.0
    queue: Optional[str] = None
    at_risk_at: Optional[dt.datetime] = None  # when the SLA counts as at risk (set on ``started``)
    priority: Optional[str] = None
    draft_id: Optional[str] = None
    reason: str = ""  # why a timer stopped (answered / resolved)

    class Meta:
        namespace = "io.casetrail.events"
