"""A case awaiting a human, folded from the conversation's events (pure; no Kafka, no store).

A conversation becomes a *case* when the router hands it to people (``review``
or ``escalate``, also when deferred behind an out-of-hours acknowledgement).
Its state then follows one typed state machine, driven by the events the
console reads from the log:

    awaiting_agent ─approve─► approving ─reply─► sent
          │  ▲  └──edit──► verifying_edit ─passed─► approving
          │  │                    └──failed─► edit_refused (back in the queue)
          │  └─reassign (same state, new queue)
          ├──escalate / SLA escalation─► escalated
          └──reject─► rejected

``sent`` and ``rejected`` (and ``resolved``: the agent closed it elsewhere) are
closed. Events that would make a transition the table does not allow are kept
in the case's history as ``ignored`` (e.g. a late duplicate approve on a sent
case) instead of bending the state.

``fold_case`` is order-insensitive: events are sorted by time (then event id)
before folding, so the projection is the same whatever order the topics
delivered them in, and a rebuild from the log gives the same case.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Iterable, Optional

from casetrail.events import (
    AgentFeedback,
    DeliveryEffect,
    DeliveryOutcome,
    DeliveryReceipt,
    DraftVerified,
    FeedbackAction,
    ReplyOutbound,
    RoutedDecision,
    SlaEvent,
)
from casetrail.events.decision import Action, ReplyKind, SlaEventKind

AGENT_COMPOSER_PREFIX = "agent:"  # the verifier's DraftVerified of an agent's edit


class CaseState(str, enum.Enum):
    awaiting_agent = "awaiting_agent"
    escalated = "escalated"
    approving = "approving"  # approved; the router sends (or refuses a draft with failed checks)
    verifying_edit = "verifying_edit"  # the edited text is with the verifier
    edit_refused = "edit_refused"  # the edit failed a check: shown to the agent, not sent
    sent = "sent"
    rejected = "rejected"
    resolved = "resolved"


OPEN_STATES = frozenset({CaseState.awaiting_agent, CaseState.escalated, CaseState.edit_refused})
CLOSED_STATES = frozenset({CaseState.sent, CaseState.rejected, CaseState.resolved})

_ACTIONABLE = OPEN_STATES
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.awaiting_agent: frozenset({CaseState.escalated, CaseState.approving, CaseState.verifying_edit,
                                         CaseState.rejected, CaseState.awaiting_agent, CaseState.sent,
                                         CaseState.resolved}),
    CaseState.escalated: frozenset({CaseState.escalated, CaseState.approving, CaseState.verifying_edit,
                                    CaseState.rejected, CaseState.awaiting_agent, CaseState.sent,
                                    CaseState.resolved}),
    CaseState.edit_refused: frozenset({CaseState.escalated, CaseState.approving, CaseState.verifying_edit,
                                       CaseState.rejected, CaseState.edit_refused, CaseState.sent,
                                       CaseState.resolved}),
    CaseState.approving: frozenset({CaseState.sent, CaseState.awaiting_agent, CaseState.resolved}),
    CaseState.verifying_edit: frozenset({CaseState.approving, CaseState.edit_refused, CaseState.sent,
                                         CaseState.resolved}),
    CaseState.sent: frozenset({CaseState.resolved}),
    CaseState.rejected: frozenset({CaseState.resolved}),
    CaseState.resolved: frozenset(),
}


def can_move(current: Optional[CaseState], target: CaseState) -> bool:
    return current is None or target in TRANSITIONS[current]


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    kind: str  # routed | feedback:<action> | edit_verified | edit_refused | reply | sla:<kind> | delivered | ignored
    actor: str = ""
    detail: str = ""


@dataclass
class Case:
    """Everything the queue row and the case page show (redacted text only)."""

    conversation_id: str
    tenant: str
    locale: str
    state: CaseState
    queue: str
    priority: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    decision_action: str
    draft_id: Optional[str]
    reply_text: str
    citations: list[str]
    verdict: Optional[str]
    reason: str
    rule: Optional[str]
    category: str
    intent: str
    intent_confidence: float
    sentiment: float
    frustration: float
    vip: bool
    urgency: str
    churn_risk: float
    sla_due_at: Optional[dt.datetime]
    brief: Optional[dict]
    versions: dict
    sla_state: str = "running"  # running | at_risk | breached | stopped
    failed_checks: list[dict] = field(default_factory=list)  # {name, detail, severity} of the reviewed draft
    draft: Optional[dict] = None  # the draft (reply, citations with sentences, retrieved clauses + text)
    conversation: Optional[dict] = None  # subject, messages (redacted), customer tier, sealed original's key id
    edit: Optional[dict] = None  # the latest edit: text, agent, and its re-verification
    history: list[HistoryEntry] = field(default_factory=list)
    delivered: bool = False
    first_action_at: Optional[dt.datetime] = None
    # The agent's verdict on the draft (approve / edit / reject): the correction the evaluation set keeps.
    correction: Optional[dict] = None

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def actionable(self) -> bool:
        return self.state in _ACTIONABLE

    @property
    def failed_check_names(self) -> list[str]:
        return [c["name"] for c in self.failed_checks if c.get("severity", "failed") == "failed"]

    @property
    def subject(self) -> str:
        conversation = self.conversation or {}
        if conversation.get("subject"):
            return conversation["subject"]
        messages = conversation.get("messages") or []
        return messages[-1]["body_text"][:120] if messages else ""


def sealed_view(sealed) -> dict:
    """An ``EncryptedText`` as JSON-safe data (bytes in base64)."""
    return {"key_id": sealed.key_id, "algorithm": sealed.algorithm,
            "nonce": base64.b64encode(sealed.nonce).decode(), "ciphertext": base64.b64encode(sealed.ciphertext).decode()}


def sealed_from_view(view: dict):
    from casetrail.events.conversation import EncryptedText

    return EncryptedText(key_id=view["key_id"], algorithm=view.get("algorithm", "AES-256-GCM"),
                         nonce=base64.b64decode(view["nonce"]), ciphertext=base64.b64decode(view["ciphertext"]))


def _human_action(decision: RoutedDecision) -> Optional[Action]:
    action = decision.deferred_action if decision.action == Action.acknowledge else decision.action
    return action if action in (Action.review, Action.escalate) else None


def _draft_view(event: DraftVerified) -> dict:
    draft = event.draft
    return {
        "draft_id": draft.draft_id,
        "outcome": draft.outcome.value,
        "reply_text": draft.reply_text,
        "composer": draft.composer,
        "confidence": draft.confidence,
        "disclosure": draft.disclosure,
        "citations": [{"ref": c.ref, "sentence": c.sentence, "score": c.score} for c in draft.citations],
        "retrieved": [{"ref": f"{c.clause_id}@{c.kb_version}", "clause_id": c.clause_id, "kb_version": c.kb_version,
                       "locale": c.locale, "title": c.title, "text": c.text, "score": c.score} for c in draft.retrieved],
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail, "severity": c.severity}
                   for c in event.verification.checks],
        "verdict": event.verification.verdict.value,
    }


def _conversation_view(event: DraftVerified) -> dict:
    conversation = event.conversation
    return {
        "subject": conversation.subject,
        "channel": conversation.channel,
        "source": conversation.source,
        "external_id": conversation.external_id,
        "received_at": conversation.received_at.isoformat(),
        "messages": [{"author_role": m.author_role.value, "sent_at": m.sent_at.isoformat(), "body_text": m.body_text}
                     for m in conversation.messages],
        "customer_tier": conversation.customer.tier,
        "customer_id": conversation.customer.customer_id,  # for sealing examples; never rendered
        "redactions": [{"kind": r.kind, "count": r.count} for r in conversation.redactions],
        "sealed": sealed_view(conversation.original) if conversation.original else None,
    }


def _sort_key(event) -> tuple[dt.datetime, int, str]:
    # Ties at the same millisecond: decisions before feedback before outcomes.
    order = {DraftVerified: 0, RoutedDecision: 1, SlaEvent: 2, AgentFeedback: 3, ReplyOutbound: 4, DeliveryReceipt: 5}
    occurred = getattr(event, "occurred_at", None) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return occurred, order.get(type(event), 5), getattr(event, "event_id", "")


class _Folder:
    def __init__(self) -> None:
        self.case: Optional[Case] = None
        self.drafts: dict[str, DraftVerified] = {}  # by draft id (the original and agents' edits)

    def move(self, target: CaseState, entry: HistoryEntry) -> None:
        case = self.case
        if can_move(case.state, target):
            case.state = target
            case.history.append(entry)
        else:
            case.history.append(HistoryEntry(entry.at, "ignored", entry.actor,
                                             f"{entry.kind} in state {case.state.value}"))
        case.updated_at = max(case.updated_at, entry.at)

    def on_verified(self, event: DraftVerified) -> None:
        self.drafts[event.draft.draft_id] = event
        case = self.case
        if case is None:
            return
        if event.draft.composer.startswith(AGENT_COMPOSER_PREFIX):
            self._on_edit_verified(event)
        elif case.draft_id == event.draft.draft_id:
            self._attach_draft(event)

    def _attach_draft(self, event: DraftVerified) -> None:
        case = self.case
        case.draft = _draft_view(event)
        case.conversation = _conversation_view(event)
        case.failed_checks = [c for c in case.draft["checks"] if not c["passed"]]

    def _on_edit_verified(self, event: DraftVerified) -> None:
        case = self.case
        view = _draft_view(event)
        failed = [c for c in view["checks"] if not c["passed"] and c["severity"] == "failed"]
        case.edit = {**(case.edit or {}), "draft_id": event.draft.draft_id, "text": event.draft.reply_text,
                     "verdict": view["verdict"], "failed": failed, "agent": event.draft.composer.split(":", 1)[1]}
        if failed:
            self.move(CaseState.edit_refused, HistoryEntry(event.occurred_at, "edit_refused", "verifier",
                                                           ", ".join(c["name"] for c in failed)))
        else:
            self.move(CaseState.approving, HistoryEntry(event.occurred_at, "edit_verified", "verifier"))

    def on_decision(self, decision: RoutedDecision) -> None:
        human = _human_action(decision)
        case = self.case
        if human is None:
            return
        if case is not None and decision.draft_id and decision.draft_id.startswith(case.draft_id or "\0") \
                and decision.draft_id != case.draft_id:
            return  # the router's verdict on an agent's edit: the edit's own DraftVerified tells the story
        target = CaseState.escalated if human == Action.escalate else CaseState.awaiting_agent
        if case is None or (decision.draft_id and decision.draft_id != case.draft_id and case.state in CLOSED_STATES):
            triage = decision.triage
            self.case = Case(
                conversation_id=decision.conversation_id, tenant=decision.tenant, locale=decision.locale,
                state=target, queue=decision.queue or "unassigned", priority=decision.priority,
                opened_at=decision.occurred_at, updated_at=decision.occurred_at, decision_action=human.value,
                draft_id=decision.draft_id, reply_text=decision.reply_text, citations=list(decision.citations),
                verdict=decision.verdict.value if decision.verdict else None, reason=decision.reason,
                rule=decision.rule, category=triage.category, intent=triage.intent,
                intent_confidence=triage.intent_confidence, sentiment=triage.sentiment,
                frustration=triage.frustration, vip=triage.vip, urgency=triage.urgency, churn_risk=triage.churn_risk,
                sla_due_at=triage.sla_due_at, brief=decision.brief.model_dump(mode="json") if decision.brief else None,
                versions=decision.versions.model_dump(mode="json"),
                history=[HistoryEntry(decision.occurred_at, "routed", "router", f"{human.value} → {decision.queue}")],
            )
            draft = self.drafts.get(decision.draft_id or "")
            if draft is not None:
                self._attach_draft(draft)
            return
        # A later decision on the same case: the router's SLA escalation, or a re-route.
        case.queue = decision.queue or case.queue
        case.priority = decision.priority or case.priority
        if case.state in OPEN_STATES:
            self.move(target, HistoryEntry(decision.occurred_at, "routed", "router",
                                           f"{human.value} → {decision.queue}"))

    def on_feedback(self, feedback: AgentFeedback) -> None:
        case = self.case
        if case is None:
            return
        at, actor = feedback.occurred_at, feedback.agent_id
        if feedback.draft_id != case.draft_id:
            case.history.append(HistoryEntry(at, "ignored", actor, f"{feedback.action.value} on an older draft"))
            return
        if case.first_action_at is None and feedback.action != FeedbackAction.reassign:
            case.first_action_at = at
        action = feedback.action
        kind = f"feedback:{action.value}"
        if action in (FeedbackAction.approve, FeedbackAction.edit, FeedbackAction.reject) and case.actionable:
            case.correction = {"action": action.value, "reason": feedback.reason,
                               "corrected_intent": feedback.corrected_intent, "agent": actor, "at": at.isoformat()}
        if action == FeedbackAction.approve:
            self.move(CaseState.approving, HistoryEntry(at, kind, actor))
        elif action == FeedbackAction.edit:
            case.edit = {"text": feedback.edited_text or "", "agent": actor, "verdict": None, "failed": []}
            self.move(CaseState.verifying_edit, HistoryEntry(at, kind, actor))
        elif action == FeedbackAction.reject:
            self.move(CaseState.rejected, HistoryEntry(at, kind, actor, feedback.reason or "other"))
        elif action == FeedbackAction.reassign:
            if case.state in OPEN_STATES:
                case.queue = feedback.queue or case.queue
            self.move(case.state, HistoryEntry(at, kind, actor, feedback.queue or ""))
        elif action == FeedbackAction.escalate:
            if case.state in OPEN_STATES:
                case.queue = feedback.queue or case.queue
            self.move(CaseState.escalated, HistoryEntry(at, kind, actor, feedback.queue or ""))
        if feedback.resolved:
            self.move(CaseState.resolved, HistoryEntry(at, "resolved", actor))

    def on_reply(self, reply: ReplyOutbound) -> None:
        if self.case is None or reply.kind != ReplyKind.answer:
            return
        self.move(CaseState.sent, HistoryEntry(reply.occurred_at, "reply", reply.sent_by))

    def on_sla(self, event: SlaEvent) -> None:
        case = self.case
        if case is None:
            return
        if event.kind == SlaEventKind.started:
            case.sla_due_at = event.due_at
        elif event.kind in (SlaEventKind.at_risk, SlaEventKind.breached):
            case.sla_state = event.kind.value
            case.history.append(HistoryEntry(event.occurred_at, f"sla:{event.kind.value}", "router"))
        elif event.kind == SlaEventKind.stopped:
            case.sla_state = "stopped"
            if event.reason == "resolved":
                self.move(CaseState.resolved, HistoryEntry(event.occurred_at, "resolved", "router"))

    def on_receipt(self, receipt: DeliveryReceipt) -> None:
        """What the delivery service did with the public reply (notes, updates and acknowledgements aside)."""
        case = self.case
        if (case is None or receipt.effect != DeliveryEffect.public_reply
                or receipt.reply_kind == ReplyKind.acknowledgement):
            return
        if receipt.outcome == DeliveryOutcome.delivered:
            case.delivered = True
        case.history.append(HistoryEntry(receipt.delivered_at or receipt.occurred_at, f"delivery:{receipt.outcome.value}",
                                         "delivery", f"{receipt.platform} {receipt.reason}".strip()))


def fold_case(events: Iterable[object]) -> Optional[Case]:
    """The case of one conversation from its events, or None if the router never handed it to people."""
    folder = _Folder()
    for event in sorted(events, key=_sort_key):
        if isinstance(event, DraftVerified):
            folder.on_verified(event)
        elif isinstance(event, RoutedDecision):
            folder.on_decision(event)
        elif isinstance(event, AgentFeedback):
            folder.on_feedback(event)
        elif isinstance(event, ReplyOutbound):
            folder.on_reply(event)
        elif isinstance(event, SlaEvent):
            folder.on_sla(event)
        elif isinstance(event, DeliveryReceipt):
            folder.on_receipt(event)
    return folder.case
