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
from typing import Callable, Mapping

import pytest
from confluent_kafka import KafkaError

from casetrail.runtime import transactions
from casetrail.runtime.transactions import CallHung, TransactionalProducer
from tests.support.transaction_fakes import ScriptedClient


def ignore_commits(written: Mapping[str, int]) -> None:
    """``on_committed`` (records per topic of each committed transaction) for tests that look at calls only."""


def _producer(*, operation_timeout: float = 0.1,
              on_committed: Callable[[Mapping[str, int]], None] = ignore_commits) -> TransactionalProducer:
    """A ``TransactionalProducer`` over the scripted client (take the ``scripted`` fixture first)."""
    return TransactionalProducer({}, on_committed, operation_timeout=operation_timeout)


@pytest.fixture
def scripted(monkeypatch):
    ScriptedClient.reset()
    monkeypatch.setattr(transactions, "Producer", ScriptedClient)
    monkeypatch.setattr(transactions, "WATCHDOG_GRACE_SECONDS", 0.05)
    yield ScriptedClient
    for client in ScriptedClient.instances:
        client.release.set()


def test_a_call_that_returns_passes_its_value_and_errors_through(scripted):
    producer = _producer()
    assert producer._bounded(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(KeyError):
        producer._bounded({}.__getitem__, "missing")


def test_a_hung_call_raises_call_hung(scripted):
    producer = _producer()
    never = threading.Event()
    with pytest.raises(CallHung):
        producer._bounded(never.wait, 30)
    never.set()


def test_a_hung_send_offsets_abandons_the_producer_and_reports_an_uncommitted_batch(scripted):
    scripted.hang_on = {"send_offsets_to_transaction"}
    producer = _producer()
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
    producer = _producer()
    outcome = producer.commit([object()], group_metadata=None)
    assert (outcome.committed, outcome.abort_reason) == (False, "commit: hung")


# The producer is renewed before it sends offsets once it lost its cluster (casetrail/runtime/coordinator_cache.py):
# librdkafka's cached group coordinator may then be a decommissioned broker, and send_offsets_to_transaction
# would wait for it for good. The real-broker proof is
# tests/integration/foundation/test_runtime_faults.py::test_offsets_after_a_broker_outage_reach_the_coordinator_at_once.

def test_after_the_cluster_was_lost_the_next_transaction_starts_on_a_new_client(scripted):
    producer = _producer()
    assert producer.commit([object()], group_metadata=None).committed  # the client now caches the coordinator
    first = scripted.instances[0]
    first.report(KafkaError._ALL_BROKERS_DOWN)
    assert len(scripted.instances) == 1, "nothing is renewed until a transaction needs the coordinator"
    assert producer.commit([object()], group_metadata=None).committed
    assert len(scripted.instances) == 2
    second = scripted.instances[1]
    assert first.calls[-1] == "purge", "the old client had no transaction open: it is purged and dropped"
    assert second.calls == ["init_transactions", "begin_transaction", "send_offsets_to_transaction",
                            "commit_transaction"]
    assert producer.commit([object()], group_metadata=None).committed
    assert len(scripted.instances) == 2, "renewed once per outage, not per batch"


def test_a_transaction_open_when_the_cluster_was_lost_is_fenced_and_reported_uncommitted(scripted):
    committed: list[Mapping[str, int]] = []
    producer = _producer(on_committed=committed.append)
    assert producer.commit([object()], group_metadata=None).committed
    producer.produce("out", b"v", b"k")  # a batch's output, then every broker goes away
    first = scripted.instances[0]
    first.report(KafkaError._ALL_BROKERS_DOWN)
    outcome = producer.commit([object()], group_metadata=None)
    assert (outcome.committed, outcome.abort_reason) == (
        False, "offsets: cluster lost during the transaction; producer renewed")
    assert "send_offsets_to_transaction" not in first.calls[first.calls.index("produce"):], \
        "the stale client is never asked to send offsets"
    assert scripted.instances[1].calls == ["init_transactions"], "the new client fences the open transaction"
    assert not producer.in_transaction
    assert committed == [], "nothing of the fenced transaction is reported as committed"
    producer.produce("out", b"v", b"k")  # the batch, fetched again, produces again and commits
    assert producer.commit([object()], group_metadata=None).committed
    assert committed == [{"out": 1}], "the new client's transaction is reported with its own output only"


def test_a_client_that_never_sent_offsets_is_kept_after_an_outage(scripted):
    producer = _producer()
    scripted.instances[0].report(KafkaError._ALL_BROKERS_DOWN)  # e.g. the broker was not up yet at start
    assert producer.commit([object()], group_metadata=None).committed
    assert len(scripted.instances) == 1


def test_an_old_clients_report_does_not_renew_its_replacement(scripted):
    producer = _producer()
    assert producer.commit([object()], group_metadata=None).committed
    first = scripted.instances[0]
    first.report(KafkaError._ALL_BROKERS_DOWN)
    assert producer.commit([object()], group_metadata=None).committed  # renewed: client 2
    first.report(KafkaError._ALL_BROKERS_DOWN)  # a late report of the dropped client
    assert producer.commit([object()], group_metadata=None).committed
    assert len(scripted.instances) == 2


def test_offsets_under_way_when_the_cluster_is_lost_are_given_up_without_waiting_out_the_timeout(scripted):
    producer = _producer(operation_timeout=20.0)
    assert producer.commit([object()], group_metadata=None).committed
    first = scripted.instances[0]
    scripted.hang_on = {"send_offsets_to_transaction"}  # it waits on the broker handle being decommissioned
    threading.Timer(0.2, first.report, args=(KafkaError._ALL_BROKERS_DOWN,)).start()
    outcome = producer.commit([object()], group_metadata=None)
    assert (outcome.committed, outcome.abort_reason) == (False, "offsets: cluster lost during the call")
    assert producer._abandoned == [first], "a client with a call inside it is left untouched"
    assert scripted.instances[1].calls == ["init_transactions"]


def test_other_calls_are_not_given_up_when_the_cluster_is_lost(scripted):
    # commit_transaction talks to the transaction coordinator, which librdkafka looks up again by itself
    producer = _producer(operation_timeout=0.5)
    assert producer.commit([object()], group_metadata=None).committed
    first = scripted.instances[0]
    scripted.hang_on = {"commit_transaction"}
    threading.Timer(0.1, first.report, args=(KafkaError._ALL_BROKERS_DOWN,)).start()
    outcome = producer.commit([object()], group_metadata=None)
    assert (outcome.committed, outcome.abort_reason) == (False, "commit: hung")
