"""Delivery service: Kafka wiring around ``engine.DeliveryEngine`` (all logic lives there and below).

Processors (every source keyed by conversation id, same partition count, so the
tables are co-partitioned with each stream):

- ``conversations.received`` -> the ``threads`` table (where a conversation
  lives on its platform; its e-mail thread; the sealed original);
- ``replies.outbound``      -> a public reply;
- ``decisions.routed``      -> an internal note and a ticket update;
- ``deliveries.retry.v1``   -> parked deliveries, when their time has come.

Each writes ``DeliveryReceipt`` events; a delivery that can never succeed (or
ran out of retries) dead-letters its record with the platform's status and
redacted body. Tables: ``threads``, ``effects`` (the final outcome per effect
key: what makes a redelivered or replayed record do nothing).

On the transactional runtime (docs/reliability.md, "Delivery"): a record's
receipts, parked copy, dead letters, ``effects`` entries and offset commit in
one Kafka transaction, but the platform call itself happens before that commit
and cannot be rolled back. A crash, an aborted batch or a rebalance between the
call and the commit therefore hands the record to a worker whose ``effects``
table does not know the write; the attempt mark on ``deliveries.attempts.v1``
(acknowledged before the call, outside the transaction) tells that worker the
record may have been written, so it searches the platform for the effect's
marker before posting (check before post), and the receipt's id (a function of
the effect key and outcome) is the same as the one the aborted transaction
would have carried.

A parked record that is not due yet holds its retry partition until it is
(``NotYetDue``), at most ``MAX_PARKED_HOLD`` seconds at a time; when it is
still not due after such a hold it goes to the back of the retry topic (in the
transaction), so a long back-off never stalls the records parked behind it.

Tenant delivery configuration and credentials are loaded and validated in the
warm-up (before ``/readyz``): a bad entry refuses start-up with its name.
"""

from __future__ import annotations

import logging
import time

from casetrail import topics
from casetrail.events import ConversationReceived, ReplyOutbound, RoutedDecision
from casetrail.runtime import NotYetDue, Output, RecordContext, Service
from casetrail.topic_admin import resolved_name

from services.delivery.attempt_journal import AttemptJournal
from services.delivery.config import load_all
from services.delivery.engine import DeliveryEngine, RetryState, Work, not_before
from services.delivery.privacy import clause_text, open_sealed, redact
from services.delivery.settings import DeliverySettings
from services.delivery.thread import thread_customer

log = logging.getLogger("casetrail.delivery")

svc = Service("delivery", config=DeliverySettings())
threads = svc.table("threads", erasable_by=thread_customer)
# effects: an effect key's final outcome (state, platform id, attempts, time): nothing of the customer's
effects = svc.table("effects")
MAX_PARKED_HOLD = 5.0  # seconds a retry partition waits for its head record before moving it to the back

_engine: DeliveryEngine | None = None
_held_at: dict[tuple[str, int], int] = {}  # retry partition -> offset of the record it was last held for


def build_engine(settings: DeliverySettings) -> DeliveryEngine:
    """Everything delivery needs, from its settings (tenant configuration, credentials, the attempt journal)."""
    tenants = load_all(settings.delivery_config_dir, secrets=settings.delivery_secrets_dir)
    journal = AttemptJournal(svc.kafka, resolved_name(topics.DELIVERY_ATTEMPTS, settings.topic_prefix))
    return DeliveryEngine(tenants, threads, effects, journal, svc.producer_info,
                          clause_text=clause_text, open_sealed=open_sealed, redact=redact)


@svc.warm_up
def build() -> None:
    engine()


def engine() -> DeliveryEngine:
    global _engine
    if _engine is None:
        _engine = build_engine(svc.config)
    return _engine


def _outputs(work: Work, ctx: RecordContext) -> list[Output]:
    outputs = [Output(topics.DELIVERY_RECEIPTS, receipt) for receipt in work.receipts]
    if work.park is not None:
        event, headers = work.park
        outputs.append(Output(topics.DELIVERY_RETRIES, event, headers=headers))
    for reason_code, reason in work.dead_letters:
        ctx.dead_letter(reason_code, reason)
    return outputs


async def _deliver(event, ctx: RecordContext, retry: RetryState = RetryState()) -> list[Output]:
    work = await engine().on_event(event, partition_key=f"{ctx.topic}:{ctx.partition}", offset=ctx.offset, retry=retry)
    return _outputs(work, ctx)


@svc.processor(source=topics.CONVERSATIONS_RECEIVED, input_type=ConversationReceived)
async def remember_thread(event: ConversationReceived, ctx: RecordContext) -> list[Output]:
    engine().remember(event)
    return []


@svc.processor(source=topics.REPLIES_OUTBOUND, input_type=ReplyOutbound)
async def deliver_reply(event: ReplyOutbound, ctx: RecordContext) -> list[Output]:
    return await _deliver(event, ctx)


@svc.processor(source=topics.DECISIONS_ROUTED, input_type=RoutedDecision)
async def deliver_decision(event: RoutedDecision, ctx: RecordContext) -> list[Output]:
    return await _deliver(event, ctx)


@svc.processor(source=topics.DELIVERY_RETRIES, input_type=None)
async def deliver_parked(value: bytes, ctx: RecordContext) -> list[Output]:
    where = (ctx.topic, ctx.partition)
    due = not_before(ctx.headers)
    now = time.time()
    if due > now:
        if _held_at.get(where) != ctx.offset:
            _held_at[where] = ctx.offset
            raise NotYetDue(min(due, now + MAX_PARKED_HOLD))
        # held once already and still not due: to the back of the retry topic
        headers = {k: v for k, v in ctx.headers.items() if k.startswith("casetrail-delivery")}
        return [Output(topics.DELIVERY_RETRIES, svc.codec.decode(value), headers=headers)]
    _held_at.pop(where, None)
    return await _deliver(svc.codec.decode(value), ctx, RetryState.from_headers(ctx.headers))
