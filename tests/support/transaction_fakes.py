"""A worker's consumer and transactional producer as recorders, for unit tests of what a batch or a tick
commits (no broker: the broker's own behaviour is proven by the integration tests).

Two levels: ``ScriptedProducer`` stands in for the runtime's ``TransactionalProducer`` (what the worker
does with a commit's outcome); ``ScriptedClient`` stands in for librdkafka's ``Producer`` underneath a real
``TransactionalProducer`` (its calls only; no Kafka semantics are imitated), for what that wrapper does
when a call hangs or fails."""

from __future__ import annotations

import threading
from typing import Optional

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from casetrail.runtime.transactions import CommitOutcome

COMMITTED = CommitOutcome(True)
# what the broker answers a zombie's batch or tick (its group generation is stale)
REFUSED = CommitOutcome(False, [KafkaError(KafkaError.ILLEGAL_GENERATION)], "ILLEGAL_GENERATION")
TIMED_OUT = CommitOutcome(False, [KafkaError(KafkaError._TIMED_OUT)], "commit: _TIMED_OUT")


class ScriptedProducer:
    """Every commit answers ``outcome``; what the worker produced and aborted is recorded."""

    def __init__(self, outcome: CommitOutcome):
        self.outcome = outcome
        self.in_transaction = False
        self.produced: list[str] = []
        self.aborted: list[str] = []

    def produce(self, topic, value, key, headers=None, partition=None):
        self.in_transaction = True
        self.produced.append(topic)

    def commit(self, offsets, group_metadata=None):
        self.in_transaction = False
        return self.outcome

    def abort(self, reason):
        self.in_transaction = False
        self.aborted.append(reason)
        return CommitOutcome(False, [], reason)


class ScriptedClient:
    """librdkafka's ``Producer`` as ``TransactionalProducer`` calls it (install it with
    ``monkeypatch.setattr(casetrail.runtime.transactions, "Producer", ScriptedClient)`` after ``reset()``).

    Every call answers at once, except: a call named in ``hang_on`` blocks until released (only while the
    first client is the only one: its replacement answers); ``commit_transaction`` raises
    ``KafkaException(commit_error)`` while ``commit_error`` is set."""

    instances: list["ScriptedClient"] = []
    hang_on: set[str] = set()
    commit_error: Optional[KafkaError] = None

    @classmethod
    def reset(cls) -> None:
        cls.instances, cls.hang_on, cls.commit_error = [], set(), None

    def __init__(self, config: dict):
        self.config = config
        self.calls: list[str] = []
        self.produced: list[str] = []
        self.release = threading.Event()
        ScriptedClient.instances.append(self)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in ScriptedClient.hang_on and len(ScriptedClient.instances) == 1:
            self.release.wait(30)

    def init_transactions(self, timeout): self._call("init_transactions")
    def begin_transaction(self): self._call("begin_transaction")
    def send_offsets_to_transaction(self, offsets, metadata, timeout): self._call("send_offsets_to_transaction")
    def abort_transaction(self, timeout): self._call("abort_transaction")
    def purge(self, **kwargs): self._call("purge")
    def poll(self, timeout=0): return 0
    def flush(self, timeout=None): return 0

    def report(self, code: int) -> None:
        """What librdkafka does with a client error: hands it to the configured ``error_cb``."""
        self.config["error_cb"](KafkaError(code))

    def commit_transaction(self, timeout):
        self._call("commit_transaction")
        if ScriptedClient.commit_error is not None:
            raise KafkaException(ScriptedClient.commit_error)

    def produce(self, topic, **kwargs):
        self.calls.append("produce")
        self.produced.append(topic)


class PositionedConsumer:
    """A consumer at offset 7 of every partition, in a group generation of its own."""

    def position(self, partitions):
        return [TopicPartition(tp.topic, tp.partition, 7) for tp in partitions]

    def consumer_group_metadata(self):
        return "generation-3"
