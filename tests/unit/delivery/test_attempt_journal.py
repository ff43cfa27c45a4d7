"""The attempt journal when the cluster is away: a transient fault of the record, retried, never 'unprocessable'."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from casetrail.runtime import RetryableError
from casetrail.settings import KafkaSettings
from services.delivery.attempt_journal import AttemptJournal, JournalUnavailable


class ClusterAwayConsumer:
    """confluent-kafka's Consumer as it answers while every broker is down."""

    def __init__(self, config):
        pass

    def assign(self, partitions):
        pass

    def get_watermark_offsets(self, partition, timeout=None):
        raise KafkaException(KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"))

    def close(self):
        pass


class UnacknowledgingProducer:
    """A producer whose records the cluster never acknowledges (flush leaves them queued)."""

    def __init__(self, config):
        self.queued = 0

    def produce(self, topic, key=None, value=None, on_delivery=None):
        self.queued += 1

    def flush(self, timeout=None):
        return self.queued


class FullQueueProducer(UnacknowledgingProducer):
    def produce(self, topic, key=None, value=None, on_delivery=None):
        raise BufferError("Local: Queue full")


@pytest.fixture
def journal(monkeypatch):
    def build(producer=UnacknowledgingProducer):
        monkeypatch.setattr("confluent_kafka.Consumer", ClusterAwayConsumer)
        monkeypatch.setattr("confluent_kafka.Producer", producer)
        return AttemptJournal(KafkaSettings(), "t.deliveries.attempts.v1")
    return build


def test_marks_that_cannot_be_read_are_a_retryable_fault(journal):
    with pytest.raises(RetryableError, match="attempt marks of t.deliveries.attempts.v1 unreadable"):
        journal().mark("decisions:0")


@pytest.mark.parametrize("producer, says", [(UnacknowledgingProducer, "not acknowledged"), (FullQueueProducer, "refused")])
def test_a_mark_the_cluster_does_not_take_is_a_retryable_fault_and_not_remembered(journal, producer, says):
    written = journal(producer)
    with pytest.raises(JournalUnavailable, match=says):
        written.write("decisions:0", 42)
    assert written._marks == {}  # no platform call may rely on a mark that is not durable
