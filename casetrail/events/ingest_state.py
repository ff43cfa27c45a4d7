"""Ingest's internal records: its input re-keyed so each table is keyed like the stream that updates it.

Ingest keeps two kinds of state: per conversation (redeliveries seen, answers given) and per
customer (answered conversations a new conversation may return to). Its inputs are keyed by
ticket (``support.intake.v1``) and by conversation (``replies.outbound.v1``), so ingest
re-keys what it learns through two internal topics (``casetrail.topics``):

* ``ConversationObserved``, keyed by conversation: an intake record after normalisation,
  before the redelivery and re-contact decisions (which read the conversation's state);
* ``CustomerActivity``, keyed by customer: a conversation of that customer was answered, or
  arrived unseen (is it a return to an answered topic?).

Neither leaves ingest; their schemas are released like every other so a rolling upgrade
can read what the previous version wrote.
"""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from casetrail.events.conversation import AuthorRole, ConversationReceived
from casetrail.events.envelope import AvroRecord, ProducerInfo


class ConversationObserved(AvroRecord):
    """An intake record, normalised: the conversation ingest will emit unless it is a redelivery,
    casetrail's own post or an answer, with the facts its state needs (hashes, never ids)."""

    received: ConversationReceived
    delivery_key: str  # tenant/source/external id
    delivery_stamp: str  # "u:<source update stamp>" or "h:<payload hash>"
    intake_position: str  # topic:partition:offset of the intake record (a re-processed record is no redelivery)
    observed_at: float  # epoch seconds when ingest read the intake record (the redelivery window's clock)
    customer_key: str
    subject_key: str
    topic_terms: list[int] = Field(default_factory=list)
    latest_role: AuthorRole
    latest_at: float  # epoch seconds of the newest message
    latest_own: bool = False

    class Meta:
        namespace = "io.casetrail.events"


class AnsweredConversation(AvroRecord):
    """A customer's conversation was answered: what a later conversation on the same topic is matched with."""

    conversation_id: str
    answered_by: str  # the first answerer: "bot" or "agent"
    answered_at: float  # epoch seconds of the first answer
    last_at: float  # epoch seconds of the latest answer
    at: float  # epoch seconds of the answer that sent this record (older entries expire against it)
    subject_key: str
    topic_terms: list[int] = Field(default_factory=list)

    class Meta:
        namespace = "io.casetrail.events"


class ArrivedConversation(AvroRecord):
    """A conversation ingest had not seen before; the envelope fields a re-contact event is derived from."""

    conversation_id: str
    received_event_id: str  # the ConversationReceived the re-contact is derived from
    tenant: str
    locale: str
    producer: ProducerInfo
    subject_key: str
    topic_terms: list[int] = Field(default_factory=list)
    at: float  # epoch seconds of the customer's newest message

    class Meta:
        namespace = "io.casetrail.events"


class CustomerActivity(AvroRecord):
    """One change to a customer's answered conversations, or one question to them: exactly one of
    ``answered`` and ``arrived`` is set."""

    customer_key: str
    answered: Optional[AnsweredConversation] = None
    arrived: Optional[ArrivedConversation] = None

    class Meta:
        namespace = "io.casetrail.events"
