"""What a worker's tables hold across rebalances (the callbacks librdkafka calls inside ``consume``), and
what a commit does when its transaction already failed.

An orderly revoke keeps the tables until the next assignment says which partitions come back (nobody
else can have written them in between); a lost assignment (the session timed out while the broker was
away) means another worker may have handled them meanwhile, so they are dropped and restored from the
changelogs. The restore itself reads Kafka; here it is replaced by a recorder that loads known values.
"""

from __future__ import annotations

import orjson
import pytest
from confluent_kafka import TopicPartition

from casetrail.runtime import restore as restore_module
from casetrail.runtime.service import Service
from casetrail.runtime.worker import Worker

TOPIC = "in.v1"


@pytest.fixture
def harness(monkeypatch):
    service = Service("assignment-test")
    table = service.table("seen", partitions=3)
    restored: list[set[int]] = []
    changelog = {0: ("k0", "from-changelog-0"), 1: ("k1", "from-changelog-1"), 2: ("k2", "from-changelog-2")}

    def fake_restore(_service, tables, partitions):
        restored.append(set(partitions))
        for partition in partitions:
            key, value = changelog[partition]
            tables[0].load(partition, orjson.dumps(key), orjson.dumps(value))
        return len(partitions)

    monkeypatch.setattr(restore_module, "restore_partitions", fake_restore)
    return Worker(service), table, restored


def _parts(*numbers: int) -> list[TopicPartition]:
    return [TopicPartition(TOPIC, n) for n in numbers]


def test_an_orderly_revoke_keeps_the_tables_for_partitions_that_come_back(harness):
    worker, table, restored = harness
    worker._on_assign(None, _parts(0, 1))
    table.load(0, orjson.dumps("k0"), orjson.dumps("written-here"))  # state newer than the first restore
    worker._on_revoke(None, _parts(0, 1))
    worker._on_revoke(None, [])  # a second revoke with nothing assigned must not forget what is held
    worker._on_assign(None, _parts(0, 1))
    assert restored == [{0, 1}]
    assert table.get("k0") == "written-here"
    assert worker.owned_partitions(TOPIC) == {0, 1}


def test_a_partition_that_moved_away_is_dropped_and_a_new_one_restored(harness):
    worker, table, restored = harness
    worker._on_assign(None, _parts(0, 1))
    worker._on_revoke(None, _parts(0, 1))
    worker._on_assign(None, _parts(1, 2))
    assert restored == [{0, 1}, {2}]
    assert "k0" not in table and table.get("k2") == "from-changelog-2"


def test_a_lost_assignment_drops_every_table_and_restores_on_the_next_assignment(harness):
    worker, table, restored = harness
    worker._on_assign(None, _parts(0, 1))
    table.load(1, orjson.dumps("k1"), orjson.dumps("stale-copy"))
    worker._on_lost(None, _parts(0, 1))
    assert len(table) == 0 and worker.owned_partitions(TOPIC) == set()
    worker._on_assign(None, _parts(0, 1))
    assert restored == [{0, 1}, {0, 1}]
    assert table.get("k1") == "from-changelog-1"


class _FailedTransaction:
    """A producer whose transaction already failed: an output was refused (MSG_SIZE_TOO_LARGE) and
    every later produce raises _STATE, as librdkafka does."""

    def __init__(self):
        self.aborted = []

    def produce(self, *args, **kwargs):
        from confluent_kafka import KafkaError

        from casetrail.runtime.transactions import OutputRefused

        raise OutputRefused(KafkaError(KafkaError._STATE))

    def abort(self, reason):
        from confluent_kafka import KafkaError

        from casetrail.runtime.transactions import CommitOutcome

        self.aborted.append(reason)
        return CommitOutcome(False, [KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)], reason)


def test_a_changelog_write_into_a_failed_transaction_aborts_it_and_names_the_refusal(harness):
    worker, table, _ = harness
    worker.producer = _FailedTransaction()
    worker.service.current_partition = 0
    table["k"] = "written by the failed batch"
    worker.service.current_partition = None
    outcome = worker.commit([])
    assert not outcome.committed
    assert outcome.permanent_error is not None and outcome.permanent_error.name() == "MSG_SIZE_TOO_LARGE"
    assert worker.producer.aborted == ["_STATE"]
    assert "k" not in table  # rolled back with the transaction
