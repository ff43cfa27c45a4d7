"""An agent's click becomes an ``AgentFeedback`` event (pure), and the publisher puts it on the log.

What each action means is the router's business (it sends, or not) and the
verifier's (it re-checks an edit); the console only says what the agent did,
with their id, on which draft. Refused here, before anything is published:
an action the role may not take, a case that is no longer open, an edit
without text, a reject without a known reason, a reassign to an unknown team.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Optional, Protocol

from casetrail.events import AgentFeedback, FeedbackAction, ProducerInfo, RejectionReason

from services.review.auth import Principal
from services.review.cases import Case

MAX_EDIT_CHARS = 20_000


class Refusal(str, enum.Enum):
    not_allowed = "not_allowed"
    case_closed = "case_closed"
    edit_without_text = "edit_without_text"
    edit_too_long = "edit_too_long"
    unknown_reason = "unknown_reason"
    unknown_queue = "unknown_queue"
    unknown_action = "unknown_action"
    approve_failed_draft = "approve_failed_draft"


@dataclass(frozen=True)
class ActionRequest:
    action: str
    edited_text: Optional[str] = None
    reason: Optional[str] = None
    corrected_intent: Optional[str] = None
    queue: Optional[str] = None


def feedback_for(case: Case, request: ActionRequest, who: Principal, producer: ProducerInfo,
                 queues: frozenset[str]) -> AgentFeedback | Refusal:
    """The event for an agent's action on ``case``, or why it is refused."""
    if not who.may("act"):
        return Refusal.not_allowed
    try:
        action = FeedbackAction(request.action)
    except ValueError:
        return Refusal.unknown_action
    if not case.actionable:
        return Refusal.case_closed
    fields: dict = {}
    if action == FeedbackAction.approve:
        if case.failed_check_names:
            return Refusal.approve_failed_draft  # the router would refuse to send it too
    elif action == FeedbackAction.edit:
        text = (request.edited_text or "").strip()
        if not text:
            return Refusal.edit_without_text
        if len(text) > MAX_EDIT_CHARS:
            return Refusal.edit_too_long
        fields["edited_text"] = text
    elif action == FeedbackAction.reject:
        try:
            fields["reason"] = RejectionReason(request.reason or "").value
        except ValueError:
            return Refusal.unknown_reason
        if request.corrected_intent:
            fields["corrected_intent"] = request.corrected_intent.strip()[:80]
    else:  # reassign, escalate
        if request.queue not in queues:
            return Refusal.unknown_queue
        fields["queue"] = request.queue
    return AgentFeedback(conversation_id=case.conversation_id, causation_id=None, tenant=case.tenant,
                         locale=case.locale, producer=producer, draft_id=case.draft_id or "", agent_id=who.username,
                         action=action, **fields)


class FeedbackPublisher(Protocol):
    def publish(self, event: AgentFeedback) -> bytes:
        """Put ``event`` on ``feedback.agent.v1`` and wait for the broker; the encoded value."""


class KafkaFeedbackPublisher:
    """Produces to ``feedback.agent.v1`` (idempotent producer, acks=all) and waits for the ack."""

    def __init__(self, codec, topic: str, kafka=None):
        from confluent_kafka import Producer

        from casetrail.settings import kafka_settings

        self.codec = codec
        self.topic = topic
        self._producer = Producer((kafka or kafka_settings()).producer_config(**{"linger.ms": 0}))
        self._lock = threading.Lock()

    def publish(self, event: AgentFeedback) -> bytes:
        from confluent_kafka import KafkaException

        value = self.codec.encode(event, topic=self.topic)
        errors: list = []
        with self._lock:
            self._producer.produce(self.topic, key=event.conversation_id.encode(), value=value,
                                   on_delivery=lambda err, _msg: errors.append(err) if err else None)
            remaining = self._producer.flush(15)
        if remaining or errors:
            raise KafkaException(errors[0] if errors else "feedback not acknowledged within 15 s")
        return value
