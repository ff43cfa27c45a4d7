"""The watchdog around the blocking transactional calls (casetrail/runtime/transactions.py).

librdkafka's ``send_offsets_to_transaction`` can ignore its timeout and block for good when
the group coordinator went away (librdkafka #5456, #5511; seen here after a broker restart
mid-batch: the relay worker sat in that call for minutes and the broker-outage fault test
lost its remaining records). These tests stand a scripted client in for librdkafka's
``Producer`` (its calls only; no Kafka semantics are imitated) and check what the wrapper
does when a call never returns. The real-broker proof is
``tests/integration/foundation/test_runtime_faults.py::test_broker_outage_mid_batch_loses_and_doubles_nothing``.
"""

from __future__ import annotations

import threading

import pytest

from casetrail.runtime import transactions
from casetrail.runtime.transactions import CallHung, TransactionalProducer
from tests.support.transaction_fakes import ScriptedClient


@pytest.fixture
def scripted(monkeypatch):
    ScriptedClient.reset()
    monkeypatch.setattr(transactions, "Producer", ScriptedClient)
    monkeypatch.setattr(transactions, "WATCHDOG_GRACE_SECONDS", 0.05)
    yield ScriptedClient
    for client in ScriptedClient.instances:
        client.release.set()


def test_a_call_that_returns_passes_its_value_and_errors_through(scripted):
    producer = TransactionalProducer({}, lambda written: None, operation_timeout=0.1)
    assert producer._bounded(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(KeyError):
        producer._bounded({}.__getitem__, "missing")


def test_a_hung_call_raises_call_hung(scripted):
    producer = TransactionalProducer({}, lambda written: None, operation_timeout=0.1)
    never = threading.Event()
    with pytest.raises(CallHung):
        producer._bounded(never.wait, 30)
    never.set()


def test_a_hung_send_offsets_abandons_the_producer_and_reports_an_uncommitted_batch(scripted):
    scripted.hang_on = {"send_offsets_to_transaction"}
    producer = TransactionalProducer({}, lambda written: None, operation_timeout=0.1)
    first = scripted.instances[0]
    outcome = producer.commit([object()], group_metadata=None)
    assert (outcome.committed, outcome.abort_reason) == (False, "offsets: hung")
    assert len(scripted.instances) == 2, "a new producer replaces the hung one"
    second = scripted.instances[1]
    assert second.calls == ["init_transactions"], "the new producer fences the abandoned transaction"
    assert "purge" not in first.calls, "a producer with a call inside it is left untouched"
    assert producer._abandoned == [first]
    assert producer.commit([object()], group_metadata=None).committed  # the replacement carries on
    assert second.calls[-2:] == ["send_offsets_to_transaction", "commit_transaction"]


def test_a_hung_commit_is_reported_at_the_commit_stage(scripted):
    scripted.hang_on = {"commit_transaction"}
    producer = TransactionalProducer({}, lambda written: None, operation_timeout=0.1)
    outcome = producer.commit([object()], group_metadata=None)
    assert (outcome.committed, outcome.abort_reason) == (False, "commit: hung")
