"""One intake record in, the events to emit out - every step of ingest in one process.

``IngestProcessor`` runs the three steps of ``stages`` back to back over state passed in as
mappings (plain dicts in tests, dry runs, the evaluation and benchmarks), so the whole decision
path is testable without a broker. The service (``app.py``) runs the same steps on three
partitions instead, linked by its repartition topics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, MutableMapping, Optional

from casetrail.events import ConversationReceived, CustomerActivity, RecontactDetected, ReplyOutbound
from services.ingest import metrics
from services.ingest.idempotency import DeliveryDeduplicator
from services.ingest.normalise import IntakeRecord, Normalised, Normaliser
from services.ingest.recontact import RecontactTracker
from services.ingest.stages import ConversationStage, CustomerStage, observed


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
        conversation_deliveries: MutableMapping[str, Any],
        conversation_answers: MutableMapping[str, Any],
        customer_answers: Optional[MutableMapping[str, Any]] = None,
        *,
        deduplicator: Optional[DeliveryDeduplicator] = None,
        tracker: Optional[RecontactTracker] = None,
    ):
        self.normaliser = normaliser
        tracker = tracker or RecontactTracker()
        self.conversations = ConversationStage(conversation_deliveries, conversation_answers,
                                               deduplicator=deduplicator, tracker=tracker)
        self.customers = CustomerStage({} if customer_answers is None else customer_answers, tracker=tracker)

    def normalise(self, record: IntakeRecord) -> Normalised:
        """Raises ``Rejected`` for bad input (the caller dead-letters it)."""
        started = time.perf_counter()
        result = self.normaliser.normalise(record)
        metrics.NORMALISE_SECONDS.labels(result.event.conversation.source).observe(time.perf_counter() - started)
        return result

    def process(self, record: IntakeRecord, *, position: str = "", now: Optional[float] = None) -> Outcome:
        """Raises ``Rejected`` for bad input (the caller dead-letters it)."""
        now = time.time() if now is None else now
        result = self.normalise(record)
        decided = self.conversations.observe(observed(result, position, now))
        returned = self._to_customer(decided.customer_activity)
        return Outcome(conversation=decided.conversation, recontact=decided.recontact or returned,
                       duplicate=decided.duplicate, own_message=decided.own_message,
                       answer_recorded=decided.answer_recorded, normalised=result)

    def record_reply(self, reply: ReplyOutbound) -> Optional[str]:
        """An outbound reply (bot or agent) answered a conversation; returns who, or None if unknown."""
        who, activity = self.conversations.reply(reply)
        self._to_customer(activity)
        return who

    def _to_customer(self, activity: Optional[CustomerActivity]) -> Optional[RecontactDetected]:
        return None if activity is None else self.customers.apply(activity)
