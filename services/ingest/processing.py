"""One intake record in, the events to emit out - state passed in and out explicitly.

``IngestProcessor`` combines the normaliser with the redelivery and re-contact
decisions. It reads and writes state through a ``StateStore`` (a plain dict in
tests and benchmarks, the service tables in ``app.py``), so the whole decision
path is testable without a broker.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, MutableMapping, Optional

from casetrail.events import AuthorRole, ConversationReceived, RecontactDetected, ReplyOutbound
from casetrail.events.decision import ReplyKind
from services.ingest import metrics
from services.ingest.idempotency import DeliveryDeduplicator
from services.ingest.normalise import IntakeRecord, Normalised, Normaliser
from services.ingest.recontact import Inbound, RecontactTracker, answerer


def _millis(epoch: float) -> dt.datetime:
    moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


@dataclass
class Outcome:
    conversation: Optional[ConversationReceived] = None
    recontact: Optional[RecontactDetected] = None
    duplicate: bool = False
    own_message: bool = False  # the newest message is casetrail's own: nothing to answer
    answer_recorded: Optional[str] = None  # "bot" | "agent" when the newest message was an answer
    normalised: Optional[Normalised] = None
    notes: list[str] = field(default_factory=list)


class IngestProcessor:
    def __init__(
        self,
        normaliser: Normaliser,
        seen_deliveries: MutableMapping[str, Any],
        answered_conversations: MutableMapping[str, Any],
        *,
        deduplicator: Optional[DeliveryDeduplicator] = None,
        tracker: Optional[RecontactTracker] = None,
    ):
        self.normaliser = normaliser
        self.seen = seen_deliveries
        self.answered = answered_conversations
        self.deduplicator = deduplicator or DeliveryDeduplicator()
        self.tracker = tracker or RecontactTracker()

    def process(self, record: IntakeRecord, *, position: str = "", now: Optional[float] = None) -> Outcome:
        """Raises ``Rejected`` for bad input (the caller dead-letters it)."""
        now = time.time() if now is None else now
        started = time.perf_counter()
        result = self.normaliser.normalise(record)
        metrics.NORMALISE_SECONDS.labels(result.event.conversation.source).observe(time.perf_counter() - started)
        decision = self.deduplicator.observe(self.seen.get(result.delivery_key), result.delivery_stamp, now, position)
        self.seen[result.delivery_key] = decision.state
        if decision.duplicate:
            metrics.REDELIVERIES_DROPPED.labels(result.event.conversation.source).inc()
            return Outcome(duplicate=True, normalised=result)
        event = result.event
        if result.latest_own:
            # casetrail's own post, reported back by the platform: delivery already counted it as an
            # answer; handing it on would make casetrail answer itself.
            metrics.OWN_MESSAGES.labels(event.conversation.source).inc()
            return Outcome(own_message=True, normalised=result)
        conv_key = f"conv:{event.conversation_id}"
        cust_key = f"cust:{result.customer_key}"
        if result.latest_role in (AuthorRole.agent, AuthorRole.bot):
            # The source itself reports an answer (an agent replied in Zendesk):
            # record it for re-contact attribution; nothing for triage to do.
            who = "bot" if result.latest_role == AuthorRole.bot else "agent"
            conv_state = self.answered.get(conv_key) or self._fresh_conversation_state(result)
            conv_state, cust_state = self.tracker.on_answer(
                conv_state, self.answered.get(cust_key), event.conversation_id, who, result.latest_at.timestamp())
            self.answered[conv_key] = conv_state
            if cust_state is not None:
                self.answered[cust_key] = cust_state
            metrics.ANSWERS.labels(who, "source").inc()
            return Outcome(answer_recorded=who, normalised=result)
        outcome = self.tracker.on_inbound(
            self.answered.get(conv_key),
            self.answered.get(cust_key),
            Inbound(event.conversation_id, result.customer_key, result.subject_key, result.topic_terms,
                    result.latest_at.timestamp()),
        )
        self.answered[conv_key] = outcome.conversation_state
        recontact_event = None
        if outcome.recontact is not None:
            found = outcome.recontact
            recontact_event = RecontactDetected(
                **event.derive("recontact", event.producer),
                original_conversation_id=found.original_conversation_id,
                answered_by=found.answered_by,
                answered_at=_millis(found.answered_at),
                window_days=self.tracker.window_days,
            )
            metrics.RECONTACTS.labels(found.kind, found.answered_by).inc()
        conversation = event.conversation
        metrics.CONVERSATIONS.labels(metrics.source_label(conversation.source), metrics.channel_label(conversation.channel)).inc()
        metrics.LOCALES.labels(event.locale, conversation.locale_status.value).inc()
        for finding in conversation.redactions:
            metrics.REDACTIONS.labels(finding.kind).inc(finding.count)
        if conversation.original is not None:
            metrics.SEALED.inc()
        return Outcome(conversation=event, recontact=recontact_event, normalised=result)

    @staticmethod
    def _fresh_conversation_state(result: Normalised) -> dict:
        return {"customer": result.customer_key, "subject": result.subject_key, "terms": list(result.topic_terms),
                "first_answered_by": None, "first_answered_at": None, "last_answered_at": None, "recontact_for": None}

    def record_reply(self, reply: ReplyOutbound) -> Optional[str]:
        """An outbound reply (bot or agent) answered a conversation; returns who, or None if unknown.

        An acknowledgement answers nothing (it tells the customer when a human will): not recorded.
        """
        if reply.kind != ReplyKind.answer:
            return None
        conv_key = f"conv:{reply.conversation_id}"
        conv_state = self.answered.get(conv_key)
        if conv_state is None:
            return None
        who = answerer(reply.sent_by)
        cust_key = f"cust:{conv_state['customer']}"
        new_conv, new_cust = self.tracker.on_answer(
            conv_state, self.answered.get(cust_key), reply.conversation_id, who, reply.occurred_at.timestamp())
        self.answered[conv_key] = new_conv
        if new_cust is not None:
            self.answered[cust_key] = new_cust
        metrics.ANSWERS.labels(who, "replies_topic").inc()
        return who
