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
key: what makes a redelivered or replayed record do nothing). Tenant delivery
configuration and credentials are loaded and validated at import: a bad entry
refuses start-up with its name.
"""

from __future__ import annotations

import asyncio
import logging
import time

from casetrail import topics
from casetrail.events import ConversationReceived, ReplyOutbound, RoutedDecision
from casetrail.runtime import Output, RecordContext, Service
from casetrail.topic_admin import resolved_name

from services.delivery.attempt_journal import AttemptJournal
from services.delivery.config import load_all
from services.delivery.engine import DeliveryEngine, RetryState, Work, not_before
from services.delivery.privacy import clause_text, open_sealed, redact

log = logging.getLogger("casetrail.delivery")

svc = Service("delivery")
TENANTS = load_all()
threads = svc.table("threads")
effects = svc.table("effects")
MAX_PARKED_SLEEP = 5.0  # a parked record not yet due goes round again: no long stall of the retry topic

_engine: DeliveryEngine | None = None


def engine() -> DeliveryEngine:
    global _engine
    if _engine is None:
        journal = AttemptJournal(svc.kafka, resolved_name(topics.DELIVERY_ATTEMPTS, svc.config.topic_prefix))
        _engine = DeliveryEngine(TENANTS, threads, effects, journal, svc.producer_info,
                                 clause_text=clause_text, open_sealed=open_sealed, redact=redact)
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
    event = svc.codec.decode(value)
    due = not_before(ctx.headers)
    wait = due - time.time()
    if wait > MAX_PARKED_SLEEP:
        await asyncio.sleep(MAX_PARKED_SLEEP)
        return [Output(topics.DELIVERY_RETRIES, event, headers={k: v for k, v in ctx.headers.items()
                                                                 if k.startswith("casetrail-delivery")})]
    if wait > 0:
        await asyncio.sleep(wait)
    return await _deliver(event, ctx, RetryState.from_headers(ctx.headers))
