"""Ingest counts what it decided only once the record's transaction committed (services/ingest/metrics.py,
``ctx.after_commit``): a batch that aborts counts nothing, and handled again (its tables rolled back, so it is
decided the same way) counts once in all: conversations, redactions, locales, redeliveries dropped, answers,
re-contacts of both kinds.

The ingest service's own handlers and tables run on a worker whose producer is a recorder that answers each
commit as scripted (tests/support/transaction_fakes.py); the records are what ingest's repartition topics and
``replies.outbound.v1`` carry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Callable

import pytest

from casetrail import topics
from casetrail.events import AnsweredConversation, ArrivedConversation, CustomerActivity, ProducerInfo
from services.ingest import metrics
from services.ingest.normalise import Normaliser
from services.ingest.processing import IngestProcessor
from services.ingest.stages import observed
from test_copartitioned_stages import DAY0, TENANT, reply_to, ticket
from tests.support.consumed_message import ConsumedMessage
from tests.support.transaction_fakes import COMMITTED, TIMED_OUT, PositionedConsumer, ScriptedProducer

PARCEL = "Where is my parcel"


@pytest.fixture
def ingest(monkeypatch):
    import services.ingest.app as app
    from casetrail.runtime.worker import Worker

    tables = (app.conversation_deliveries, app.conversation_answers, app.customer_answers)
    monkeypatch.setattr(app, "_processor", IngestProcessor(Normaliser(detect_locale=False), *tables))
    worker = Worker(app.svc)
    worker.producer, worker.consumer = ScriptedProducer(COMMITTED), PositionedConsumer()
    monkeypatch.setattr(app.svc, "_worker", worker)
    yield app, worker
    for table in tables:
        table.drop(set(range(table.partitions)))


def _record(app, spec, event, offset: int) -> ConsumedMessage:
    name = app.svc.topic_name(spec)
    return ConsumedMessage(name, offset, app.svc.codec.encode(event, topic=name))


def _abort_then_commit(worker, record, counts: Callable[[], tuple]) -> tuple[tuple, tuple]:
    """The record's batch aborts once, then is handled again and commits: (counted after the abort, in all)."""
    before = counts()
    worker.producer.outcome = TIMED_OUT
    assert not asyncio.run(worker._transaction([record])).committed
    after_abort = counts()
    worker.producer.outcome = COMMITTED
    assert asyncio.run(worker._transaction([record])).committed
    return (tuple(a - b for a, b in zip(after_abort, before)), tuple(a - b for a, b in zip(counts(), before)))


def _observed(item, offset: int):
    return observed(Normaliser(detect_locale=False).normalise(item), f"intake:0:{offset}", DAY0.timestamp() + offset)


def test_a_conversation_its_redelivery_its_answer_and_its_reopen_count_once_each_after_abort(ingest):
    app, worker = ingest
    first = ticket("MET-1", "cust-met", PARCEL, "My parcel has not arrived. Write to jonas@example.lt please.", DAY0)

    def conversation_counts():
        return (metrics.CONVERSATIONS.labels("generic", "web")._value.get(),
                metrics.REDACTIONS.labels("EMAIL")._value.get(),
                metrics.LOCALES.labels("en", "declared")._value.get())

    counted = _abort_then_commit(worker, _record(app, topics.INGEST_BY_CONVERSATION, _observed(first, 1), 1),
                                 conversation_counts)
    assert counted == ((0, 0, 0), (1, 1, 1))
    assert app.svc.topic_name(topics.CONVERSATIONS_RECEIVED) in worker.producer.produced

    def dropped():
        return (metrics.REDELIVERIES_DROPPED.labels("generic")._value.get(),) + conversation_counts()

    counted = _abort_then_commit(worker, _record(app, topics.INGEST_BY_CONVERSATION, _observed(first, 2), 2), dropped)
    assert counted == ((0, 0, 0, 0), (1, 0, 0, 0))  # the same ticket again: dropped, not a second conversation

    conversation_id = _observed(first, 1).received.conversation_id
    answered = metrics.ANSWERS.labels("bot", "replies_topic")
    counted = _abort_then_commit(
        worker, _record(app, topics.REPLIES_OUTBOUND, reply_to(conversation_id, DAY0 + dt.timedelta(hours=1)), 3),
        lambda: (answered._value.get(),))
    assert counted == ((0,), (1,))

    reopened = ticket("MET-1", "cust-met", PARCEL, "It still has not arrived.", DAY0 + dt.timedelta(days=1))
    reopens = metrics.RECONTACTS.labels("reopen", "bot")
    counted = _abort_then_commit(worker, _record(app, topics.INGEST_BY_CONVERSATION, _observed(reopened, 4), 4),
                                 lambda: (reopens._value.get(),))
    assert counted == ((0,), (1,))


def test_a_return_on_the_same_topic_counts_once_after_abort(ingest):
    app, worker = ingest
    at = DAY0.timestamp()
    answer = CustomerActivity(customer_key="cust-key-met", answered=AnsweredConversation(
        conversation_id="conv-met-answered", answered_by="bot", answered_at=at, last_at=at, at=at,
        subject_key="subject-parcel", topic_terms=[1, 2, 3]))
    assert asyncio.run(worker._transaction([_record(app, topics.INGEST_BY_CUSTOMER, answer, 1)])).committed
    arrived = CustomerActivity(customer_key="cust-key-met", arrived=ArrivedConversation(
        conversation_id="conv-met-returned", received_event_id="00000000-0000-4000-8000-00000000abcd", tenant=TENANT,
        locale="en", producer=ProducerInfo(service="ingest", version="1"), subject_key="subject-parcel",
        topic_terms=[1, 2, 3], at=at + 3600))
    returns = metrics.RECONTACTS.labels("same_topic", "bot")
    counted = _abort_then_commit(worker, _record(app, topics.INGEST_BY_CUSTOMER, arrived, 2),
                                 lambda: (returns._value.get(),))
    assert counted == ((0,), (1,))
