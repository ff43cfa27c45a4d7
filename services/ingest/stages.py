"""Ingest's decisions where its state lives: per conversation, then per customer.

Ingest's inputs are keyed differently (intake by ticket, replies by conversation), and its state
has two keys (a conversation, a customer). So that each key is only ever updated by the worker
that owns its partition, however many workers run, ingest decides in three steps, each reading
only state keyed like its input:

1. ``observed`` (intake partition, no state): the normalised intake record, re-keyed by
   conversation as a ``ConversationObserved``.
2. ``ConversationStage`` (conversation partition; ``replies.outbound.v1`` is keyed the same):
   redeliveries (``deliveries``), casetrail's own posts, answers the source reports or casetrail
   sent, and reopens of an answered conversation (``answers``). What the customer's state must
   learn (an answer; a conversation not seen before) goes out as a ``CustomerActivity``, keyed
   by customer.
3. ``CustomerStage`` (customer partition): remembers answered conversations (``answers``) and
   tells whether a new conversation returns to one of them on the same topic.

Pure: the state is passed in as mappings (the service's tables, or dicts in tests, dry runs and
the evaluation, where ``processing.IngestProcessor`` runs the three steps back to back), and nothing
is counted here: the service counts what a step decided once the record's transaction committed
(``metrics.count_observed`` and the others, through ``ctx.after_commit``), so a batch aborted and
decided again counts once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, MutableMapping, Optional

from casetrail.events import (
    AnsweredConversation,
    ArrivedConversation,
    AuthorRole,
    ConversationObserved,
    ConversationReceived,
    CustomerActivity,
    ProducerInfo,
    RecontactDetected,
    ReplyOutbound,
)
from casetrail.events.decision import ReplyKind
from casetrail.events.identity import derived_event_id
from services.ingest.idempotency import DeliveryDeduplicator
from services.ingest.normalise import Normalised
from services.ingest.recontact import Inbound, Recontact, RecontactTracker, answered_entry, answerer

State = MutableMapping[str, Any]


def answers_customer(conversation_id: str, state: dict) -> Optional[str]:
    """The customer key of a ``conversation_answers`` entry (erasure): its ``customer`` field."""
    return state.get("customer")


def customer_answers_customer(customer_key: str, state: dict) -> str:
    """The customer key of a ``customer_answers`` entry (erasure): the table key itself."""
    return customer_key


def observed(result: Normalised, position: str, now: float) -> ConversationObserved:
    """Step 1: the intake record, normalised, as the conversation's partition will decide on it."""
    return ConversationObserved(
        received=result.event, delivery_key=result.delivery_key, delivery_stamp=result.delivery_stamp,
        intake_position=position, observed_at=now, customer_key=result.customer_key,
        subject_key=result.subject_key, topic_terms=list(result.topic_terms), latest_role=result.latest_role,
        latest_at=result.latest_at.timestamp(), latest_own=result.latest_own,
    )


@dataclass(frozen=True)
class ConversationOutcome:
    conversation: Optional[ConversationReceived] = None  # for triage (None: nothing to answer)
    recontact: Optional[RecontactDetected] = None  # a reopen of an answered conversation
    customer_activity: Optional[CustomerActivity] = None  # for the customer's partition
    duplicate: bool = False
    own_message: bool = False  # the newest message is casetrail's own: nothing to answer
    answer_recorded: Optional[str] = None  # "bot" | "agent" when the newest message was an answer


def _millis(epoch: float) -> dt.datetime:
    moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def recontact_event(*, received_event_id: str, conversation_id: str, tenant: str, locale: str,
                    producer: ProducerInfo, found: Recontact, window_days: int) -> RecontactDetected:
    """The re-contact event, derived from the ConversationReceived of the returning conversation
    (the same envelope ``EventEnvelope.derive("recontact", ...)`` gives, on whichever partition it is decided)."""
    return RecontactDetected(
        event_id=derived_event_id(received_event_id, "recontact"), conversation_id=conversation_id,
        causation_id=received_event_id, tenant=tenant, locale=locale, producer=producer,
        original_conversation_id=found.original_conversation_id, answered_by=found.answered_by,
        answered_at=_millis(found.answered_at), window_days=window_days,
    )


class ConversationStage:
    """Step 2: everything decided on the conversation's partition."""

    def __init__(self, deliveries: State, answers: State, *, deduplicator: Optional[DeliveryDeduplicator] = None,
                 tracker: Optional[RecontactTracker] = None):
        self.deliveries = deliveries
        self.answers = answers
        self.deduplicator = deduplicator or DeliveryDeduplicator()
        self.tracker = tracker or RecontactTracker()

    def observe(self, seen: ConversationObserved) -> ConversationOutcome:
        event = seen.received
        decision = self.deduplicator.observe(self.deliveries.get(seen.delivery_key), seen.delivery_stamp,
                                             seen.observed_at, seen.intake_position)
        self.deliveries[seen.delivery_key] = decision.state
        if decision.duplicate:
            return ConversationOutcome(duplicate=True)
        if seen.latest_own:
            # casetrail's own post, reported back by the platform: delivery already counted it as an
            # answer; handing it on would make casetrail answer itself.
            return ConversationOutcome(own_message=True)
        conversation_id = event.conversation_id
        if seen.latest_role in (AuthorRole.agent, AuthorRole.bot):
            # The source itself reports an answer (an agent replied in Zendesk): recorded for
            # re-contact attribution; nothing for triage to do.
            who = "bot" if seen.latest_role == AuthorRole.bot else "agent"
            conv = self.answers.get(conversation_id) or {
                "customer": seen.customer_key, "subject": seen.subject_key, "terms": list(seen.topic_terms),
                "first_answered_by": None, "first_answered_at": None, "last_answered_at": None, "recontact_for": None}
            activity = self._answered(conversation_id, conv, who, seen.latest_at)
            return ConversationOutcome(customer_activity=activity, answer_recorded=who)
        inbound = Inbound(conversation_id, seen.customer_key, seen.subject_key, tuple(seen.topic_terms), seen.latest_at)
        known = self.answers.get(conversation_id)
        outcome = self.tracker.on_inbound_conversation(known, inbound)
        self.answers[conversation_id] = outcome.conversation_state
        reopen = None
        if outcome.recontact is not None:
            reopen = recontact_event(received_event_id=event.event_id, conversation_id=conversation_id,
                                     tenant=event.tenant, locale=event.locale, producer=event.producer,
                                     found=outcome.recontact, window_days=self.tracker.window_days)
        activity = None
        if known is None:  # not seen before: the customer's partition tells whether it returns to an answered topic
            activity = CustomerActivity(customer_key=seen.customer_key, arrived=ArrivedConversation(
                conversation_id=conversation_id, received_event_id=event.event_id, tenant=event.tenant,
                locale=event.locale, producer=event.producer, subject_key=seen.subject_key,
                topic_terms=list(seen.topic_terms), at=seen.latest_at))
        return ConversationOutcome(conversation=event, recontact=reopen, customer_activity=activity)

    def reply(self, reply: ReplyOutbound) -> tuple[Optional[str], Optional[CustomerActivity]]:
        """An outbound reply (bot or agent) answered a conversation: (who, what the customer's partition
        learns), or (None, None) when it answers nothing ingest can attribute.

        An acknowledgement answers nothing (it tells the customer when a human will): not recorded.
        """
        if reply.kind != ReplyKind.answer:
            return None, None
        conv = self.answers.get(reply.conversation_id)
        if conv is None:
            return None, None  # a reply to a conversation ingest never saw: nothing to attribute
        who = answerer(reply.sent_by)
        activity = self._answered(reply.conversation_id, conv, who, reply.occurred_at.timestamp())
        return who, activity

    def _answered(self, conversation_id: str, conv: dict, who: str, at: float) -> CustomerActivity:
        state = self.tracker.answer_conversation(conv, who, at)
        self.answers[conversation_id] = state
        entry = answered_entry(conversation_id, state)
        return CustomerActivity(customer_key=state["customer"], answered=AnsweredConversation(
            conversation_id=conversation_id, answered_by=entry["answered_by"], answered_at=entry["answered_at"],
            last_at=entry["last_at"], at=at, subject_key=entry["subject"], topic_terms=list(entry["terms"])))


class CustomerStage:
    """Step 3: everything decided on the customer's partition."""

    def __init__(self, answers: State, *, tracker: Optional[RecontactTracker] = None):
        self.answers = answers
        self.tracker = tracker or RecontactTracker()

    def apply(self, activity: CustomerActivity) -> Optional[RecontactDetected]:
        """Remember an answer, or tell whether an arrived conversation returns to an answered topic.

        Raises ``ValueError`` for a record that is neither (the worker dead-letters it)."""
        key = activity.customer_key
        if activity.answered is not None:
            answered = activity.answered
            entry = {"conversation_id": answered.conversation_id, "answered_by": answered.answered_by,
                     "answered_at": answered.answered_at, "last_at": answered.last_at,
                     "subject": answered.subject_key, "terms": list(answered.topic_terms)}
            self.answers[key] = self.tracker.remember_answer(self.answers.get(key), entry, answered.at)
            return None
        arrived = activity.arrived
        if arrived is None:
            raise ValueError("a CustomerActivity with neither an answered nor an arrived conversation")
        found = self.tracker.same_topic_return(self.answers.get(key), Inbound(
            arrived.conversation_id, key, arrived.subject_key, tuple(arrived.topic_terms), arrived.at))
        if found is None:
            return None
        return recontact_event(received_event_id=arrived.received_event_id, conversation_id=arrived.conversation_id,
                               tenant=arrived.tenant, locale=arrived.locale, producer=arrived.producer, found=found,
                               window_days=self.tracker.window_days)
