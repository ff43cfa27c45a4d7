"""Erasure in the runtime (``casetrail.runtime.erasure``): which entries belong to an erased customer,
and a worker deleting them as changelog tombstones in a committed transaction of their own, both for a
live erasure and for partitions restored after it. The erasure topic and the restore read Kafka; here
the register is filled by hand and the restore loads known values (the broker test is
``tests/integration/privacy/test_erasure_tombstones_on_broker.py``).
"""

from __future__ import annotations

import asyncio

import orjson
import pytest
from confluent_kafka import TopicPartition

from casetrail.privacy.customer_key import customer_key
from casetrail.runtime import restore as restore_module
from casetrail.runtime.erasure import ErasedCustomers, TableSweeper, keys_of_customers
from casetrail.runtime.service import Service
from casetrail.runtime.transactions import CommitOutcome
from casetrail.runtime.worker import Worker

TOPIC = "in.v1"
ANNA, BOB = customer_key("acme", "anna@example.com"), customer_key("acme", "bob@example.com")


def _owner(key, value):
    return value["customer"]


def test_keys_of_customers_finds_the_entries_whose_customer_is_erased():
    entries = [("c1", {"customer": ANNA}), ("c2", {"customer": BOB}), ("c3", {"customer": ANNA})]
    assert keys_of_customers(entries, _owner, {ANNA}) == ["c1", "c3"]
    assert keys_of_customers(entries, _owner, set()) == []
    odd = [("c4", {"no customer field": 1}), ("c5", None), ("c6", {"customer": ANNA})]
    assert keys_of_customers(odd, _owner, {ANNA}) == ["c6"]  # an entry it cannot read does not stop the sweep


def test_the_register_hashes_tenant_and_id_and_counts_only_new_customers():
    erased = ErasedCustomers()
    assert erased.add("acme", "anna@example.com") is True
    assert erased.add("acme", "anna@example.com") is False  # the same erasure read again (a restart)
    assert erased.add("other-tenant", "anna@example.com") is True  # another tenant's customer is another one
    assert erased.keys == {ANNA, customer_key("other-tenant", "anna@example.com")} and erased.generation == 2


def test_the_customer_key_is_the_one_ingest_has_always_written():
    import hashlib

    assert ANNA == hashlib.sha256(b"acme\x00anna@example.com").hexdigest()[:32]


class _Producer:
    """Records what a transaction wrote; commits or aborts as told."""

    def __init__(self):
        self.written: list[tuple[str, bytes, bytes | None, int]] = []
        self.commit_ok = True
        self.in_transaction = False

    def produce(self, topic, value, key, headers=None, partition=None):
        self.written.append((topic, key, value, partition))

    def commit(self, offsets, metadata=None):
        return CommitOutcome(True) if self.commit_ok else CommitOutcome(False, [], "broker away")

    def abort(self, reason="requested"):
        return CommitOutcome(False, [], reason)


class _Feed:
    """The erasure topic: what was there at start-up, then what arrives while the worker runs."""

    def __init__(self):
        self.at_start: list[tuple[str, str]] = []
        self.arriving: list[tuple[str, str]] = []

    def catch_up(self, into: ErasedCustomers) -> int:
        return sum(into.add(*erasure) for erasure in self.at_start)

    def poll(self, into: ErasedCustomers) -> int:
        arrived, self.arriving = self.arriving, []
        return sum(into.add(*erasure) for erasure in arrived)

    def close(self) -> None:
        pass


@pytest.fixture
def worker(monkeypatch):
    service = Service("erasure-test")
    history = service.table("history", partitions=2, erasable_by=_owner)
    service.table("plain", partitions=2)  # not erasable: never swept
    changelog = {0: [("conv-a", {"customer": ANNA}), ("conv-b", {"customer": BOB})],
                 1: [("conv-a2", {"customer": ANNA})]}

    def fake_restore(_service, tables, partitions):
        for partition in partitions:
            for key, value in changelog[partition]:
                history.load(partition, orjson.dumps(key), orjson.dumps(value))
                service.tables["plain"].load(partition, orjson.dumps(key), orjson.dumps(value))
        return 1

    monkeypatch.setattr(restore_module, "restore_partitions", fake_restore)
    worker = Worker(service)
    worker.producer = _Producer()
    worker.erasures = TableSweeper(list(service.tables.values()), feed=_Feed())
    return worker


def _swept(worker) -> bool:
    return asyncio.run(worker._erasures_swept([]))


def test_partitions_restored_after_an_erasure_lose_the_customers_entries_as_tombstones(worker):
    worker.erasures.feed.at_start.append(("acme", "anna@example.com"))  # erased while nobody held the partitions
    worker.erasures.open()
    worker._on_assign(None, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
    assert _swept(worker)
    history = worker.service.tables["history"]
    assert dict(history.items()) == {"conv-b": {"customer": BOB}}
    assert sorted(worker.producer.written) == [
        ("casetrail-erasure-test-history-changelog", b'"conv-a"', None, 0),
        ("casetrail-erasure-test-history-changelog", b'"conv-a2"', None, 1),
    ]
    assert len(worker.service.tables["plain"]) == 3  # a table without erasable_by is not touched
    worker.producer.written.clear()
    assert _swept(worker) and worker.producer.written == []  # nothing due: no second sweep


def test_a_live_erasure_deletes_the_customers_entries_in_the_partitions_held(worker):
    worker.erasures.open()
    worker._on_assign(None, [TopicPartition(TOPIC, 0)])
    assert _swept(worker) and worker.producer.written == []  # nobody erased yet
    worker.erasures.feed.arriving.append(("acme", "bob@example.com"))
    assert _swept(worker)
    assert [(key, value) for _, key, value, _ in worker.producer.written] == [(b'"conv-b"', None)]
    assert "conv-b" not in worker.service.tables["history"] and "conv-a" in worker.service.tables["history"]


def test_an_aborted_sweep_puts_the_entries_back_and_runs_again(worker):
    worker.erasures.feed.at_start.append(("acme", "anna@example.com"))
    worker.erasures.open()
    worker._on_assign(None, [TopicPartition(TOPIC, 0)])
    worker.producer.commit_ok = False
    assert not _swept(worker)
    assert "conv-a" in worker.service.tables["history"]  # rolled back with the transaction
    worker.producer.commit_ok = True
    worker.producer.written.clear()
    assert _swept(worker)
    assert [key for _, key, _, _ in worker.producer.written] == [b'"conv-a"']
    assert "conv-a" not in worker.service.tables["history"]
