"""A worker's consumer and transactional producer as recorders, for unit tests of what a batch or a tick
commits (no broker: the broker's own behaviour is proven by the integration tests)."""

from __future__ import annotations

from confluent_kafka import KafkaError, TopicPartition

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


class PositionedConsumer:
    """A consumer at offset 7 of every partition, in a group generation of its own."""

    def position(self, partitions):
        return [TopicPartition(tp.topic, tp.partition, 7) for tp in partitions]

    def consumer_group_metadata(self):
        return "generation-3"


class ConsumedRecord:
    """What the worker reads of a consumed message (partition 0, key ``k``, no headers or timestamp)."""

    def __init__(self, topic: str, offset: int, value: bytes = b"{}"):
        self._topic, self._offset, self._value = topic, offset, value

    def topic(self):
        return self._topic

    def partition(self):
        return 0

    def offset(self):
        return self._offset

    def key(self):
        return b"k"

    def value(self):
        return self._value

    def headers(self):
        return []

    def timestamp(self):
        return (0, 0)
