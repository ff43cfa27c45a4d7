"""``casetrail_events_out_total`` counts the records of transactions that committed (casetrail/runtime/
transactions.py): an aborted batch counts nothing, a committed one counts each record once, and a batch
handled again after an abort counts once in all (before, each record was counted when the broker
acknowledged it, so an aborted batch that was redelivered counted its events twice).

The worker and the ``TransactionalProducer`` are the real ones; librdkafka's ``Producer`` underneath is a
scripted client whose ``commit_transaction`` fails as told. That an aborted transaction is invisible on
the real broker is tests/integration/foundation/test_runtime_faults.py.
"""

from __future__ import annotations

import asyncio

import pytest
from confluent_kafka import KafkaError

from casetrail.runtime import Output, metrics, transactions
from casetrail.runtime.service import Service
from casetrail.runtime.transactions import TransactionalProducer
from casetrail.runtime.worker import Worker
from casetrail.topics import TopicSpec
from casetrail_tools.benchmarks.sample_events import sample_envelope_event
from tests.support.consumed_message import ConsumedMessage
from tests.support.transaction_fakes import PositionedConsumer, ScriptedClient

SOURCE = TopicSpec("events-out.in", "k", None, "events-out test input", partitions=1)
SINK = TopicSpec("events-out.out", "conversation_id", "SlaEvent", "events-out test output", partitions=1)

# How a commit fails: the broker answers with an error that needs an abort, or does not answer at all
# (the producer is replaced and the transaction fenced).
ABORTABLE = KafkaError(KafkaError.INVALID_TXN_STATE, txn_requires_abort=True)
UNANSWERED = KafkaError(KafkaError._TIMED_OUT, retriable=True)


@pytest.fixture
def client(monkeypatch):
    ScriptedClient.reset()
    monkeypatch.setattr(transactions, "Producer", ScriptedClient)
    yield ScriptedClient
    ScriptedClient.reset()


def _relay(name: str) -> tuple[Service, Worker]:
    """A service that emits one event per record, on a worker over the scripted client."""
    service = Service(name)

    @service.processor(SOURCE, input_type=None)
    def relay(value, ctx):
        return [Output(SINK, sample_envelope_event(ctx.offset))]

    worker = Worker(service)
    worker.producer = TransactionalProducer({}, worker._committed, operation_timeout=1.0)
    worker.consumer = PositionedConsumer()
    service._worker = worker
    return service, worker


def _batch(service: Service) -> list[ConsumedMessage]:
    return [ConsumedMessage(service.topic_name(SOURCE), offset) for offset in (3, 4)]


def _events_out(service: Service) -> float:
    return metrics.EVENTS_OUT.labels(service.name, service.topic_name(SINK))._value.get()


@pytest.mark.parametrize("failure", [ABORTABLE, UNANSWERED], ids=["abortable", "unanswered"])
def test_an_aborted_batch_counts_nothing_and_handled_again_counts_once(client, failure):
    service, worker = _relay(f"events-out-redelivered-{failure.name()}")
    client.commit_error = failure
    outcome = asyncio.run(worker._transaction(_batch(service)))
    assert not outcome.committed
    assert client.instances[0].produced == [service.topic_name(SINK)] * 2  # the events were produced...
    assert _events_out(service) == 0  # ...into a transaction that never became visible
    client.commit_error = None
    assert asyncio.run(worker._transaction(_batch(service))).committed  # the batch handled again
    assert _events_out(service) == 2


def test_a_committed_batch_counts_each_event_once(client):
    service, worker = _relay("events-out-committed")
    assert asyncio.run(worker._transaction(_batch(service))).committed
    assert _events_out(service) == 2
    assert asyncio.run(worker._transaction([])).committed  # a later transaction does not count them again
    assert _events_out(service) == 2


def test_a_task_that_produces_in_its_own_transaction_counts_once_it_committed(client):
    service, worker = _relay("events-out-task")
    client.commit_error = UNANSWERED
    with pytest.raises(RuntimeError, match="produce aborted"):
        asyncio.run(service.produce(Output(SINK, sample_envelope_event(1))))
    assert _events_out(service) == 0
    client.commit_error = None
    asyncio.run(service.produce(Output(SINK, sample_envelope_event(1))))
    assert _events_out(service) == 1
