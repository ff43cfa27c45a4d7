"""What a batch or a tick counts waits for its transaction (casetrail/runtime/after_commit.py): a committed
transaction runs its after-commit callbacks once; an aborted one, a refused one (a zombie's tick or batch),
a failed timer or a failed handler attempt runs none.

The consumer and producer are recorders whose commit answers as scripted; the broker's own refusal of a
zombie's tick is proven in tests/integration/foundation/test_timer_fencing.py.
"""

from __future__ import annotations

import asyncio

import pytest

from casetrail.runtime import RetryableError, metrics
from casetrail.runtime.after_commit import AfterCommit
from casetrail.runtime.service import Service
from casetrail.runtime.ticks import run_due_timers
from casetrail.runtime.worker import Worker
from casetrail.topics import TopicSpec
from casetrail.runtime.transactions import CommitOutcome
from tests.support.consumed_message import ConsumedMessage as Record
from tests.support.transaction_fakes import COMMITTED, REFUSED, TIMED_OUT, PositionedConsumer, ScriptedProducer

SOURCE = TopicSpec("after-commit.in", "k", "raw", "after-commit test input", partitions=1)


def _worker(service: Service, outcome: CommitOutcome) -> Worker:
    worker = Worker(service)
    worker.producer, worker.consumer = ScriptedProducer(outcome), PositionedConsumer()
    worker.assigned = {(service.topic_name(SOURCE), 0)}
    service._worker = worker
    return worker


def _ticking_service(counted: list[str]) -> Service:
    service = Service("after-commit-tick")
    fired = service.table("fired", partitions=1)

    @service.timer(0.0)
    async def fire() -> None:
        fired["conv-1"] = True
        service.after_commit(lambda: counted.append("fired"))

    return service


def test_a_tick_whose_commit_is_refused_counts_nothing():
    counted: list[str] = []
    worker = _worker(_ticking_service(counted), REFUSED)
    asyncio.run(run_due_timers(worker))
    assert counted == []
    assert len(worker.after_commit) == 0  # dropped, not left for the next transaction to run
    worker.producer.outcome = COMMITTED
    asyncio.run(run_due_timers(worker))
    assert counted == ["fired"]  # the tick that ran again counts once


def test_a_committed_tick_counts_once():
    counted: list[str] = []
    worker = _worker(_ticking_service(counted), COMMITTED)
    asyncio.run(run_due_timers(worker))
    assert counted == ["fired"]


def test_a_failing_timer_counts_nothing():
    counted: list[str] = []
    service = Service("after-commit-failing-tick")

    @service.timer(0.0)
    async def fire() -> None:
        service.after_commit(lambda: counted.append("fired"))
        raise ValueError("broken timer")

    worker = _worker(service, COMMITTED)
    asyncio.run(run_due_timers(worker))
    assert counted == [] and len(worker.after_commit) == 0


def _counting_service(counted: list[str], fail_first: int = 0) -> Service:
    from casetrail.settings import settings

    service = Service("after-commit-batch", config=settings().model_copy(update={"retry_initial_seconds": 0.001}))
    attempts = {"n": 0}

    @service.processor(SOURCE, input_type=None)
    def handle(value, ctx):
        ctx.after_commit(lambda: counted.append(f"record {ctx.offset}"))
        attempts["n"] += 1
        if attempts["n"] <= fail_first:
            raise RetryableError("dependency away")
        return []

    return service


def test_an_aborted_batch_counts_nothing_and_a_committed_one_counts_each_record():
    counted: list[str] = []
    service = _counting_service(counted)
    worker = _worker(service, TIMED_OUT)
    topic = service.topic_name(SOURCE)
    outcome = asyncio.run(worker._transaction([Record(topic, 4), Record(topic, 5)]))
    assert not outcome.committed and counted == []
    worker.producer.outcome = COMMITTED
    outcome = asyncio.run(worker._transaction([Record(topic, 4), Record(topic, 5)]))
    assert outcome.committed and counted == ["record 4", "record 5"]


def test_a_handler_attempt_that_failed_counts_nothing_of_its_own():
    counted: list[str] = []
    service = _counting_service(counted, fail_first=1)
    worker = _worker(service, COMMITTED)
    outcome = asyncio.run(worker._transaction([Record(service.topic_name(SOURCE), 4)]))
    assert outcome.committed and counted == ["record 4"]  # the retried attempt's callback, not both


def _dead_lettered(service: str, reason: str) -> float:
    return metrics.DEAD_LETTERED.labels(service, Service(service).topic_name(SOURCE), reason)._value.get()


@pytest.mark.parametrize("outcome, counted", [(TIMED_OUT, 0), (REFUSED, 0), (COMMITTED, 1)])
def test_a_dead_letter_is_counted_only_once_its_transaction_committed(outcome, counted, tmp_path):
    from casetrail.privacy.keystore import KeyStore

    name = f"after-commit-dead-letter-{outcome.abort_reason or 'committed'}".replace(":", "").replace(" ", "-")
    service = Service(name)
    service.keystore = KeyStore(tmp_path / "keys.sqlite")

    @service.processor(SOURCE, input_type=None)
    def refuse(value, ctx):
        ctx.dead_letter("invalid_json", "not JSON")
        return []

    worker = _worker(service, outcome)
    before = _dead_lettered(name, "invalid_json")
    asyncio.run(worker._transaction([Record(service.topic_name(SOURCE), 9)]))
    assert worker.producer.produced  # the dead letter was written into the transaction either way
    assert _dead_lettered(name, "invalid_json") - before == counted


def test_a_callback_that_raises_does_not_keep_the_others_from_running():
    ran: list[str] = []
    callbacks = AfterCommit()
    callbacks.add(lambda: 1 / 0)
    callbacks.add(lambda: ran.append("second"))
    callbacks.committed()
    assert ran == ["second"] and len(callbacks) == 0


def test_after_commit_outside_a_handler_or_timer_is_refused():
    with pytest.raises(RuntimeError, match="handler or a timer"):
        Service("after-commit-nowhere").after_commit(lambda: None)
