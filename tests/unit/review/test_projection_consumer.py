"""The review console's projection consumer and consumer errors: one that librdkafka retries by itself is
skipped; a fatal one stops the consumer, so that serve_beside_consumer exits 1 and the platform restarts the
pod, instead of a console that looks alive while its queue no longer changes. Only confluent-kafka's
Consumer is a stand-in here (its errors are the library's own)."""

from __future__ import annotations

import confluent_kafka
import pytest
from confluent_kafka import KafkaError

from casetrail.settings import KafkaSettings
from services.review.app import ProjectionConsumer
from tests.support.consumed_message import ConsumedMessage


class _Consumer:
    def __init__(self, batches):
        self.on_stop = lambda: None
        self.batches = list(batches)
        self.polls = 0
        self.closed = False

    def subscribe(self, topics, on_assign=None):
        pass

    def consume(self, num_messages, timeout):
        self.polls += 1
        if self.polls >= 5:
            self.on_stop()  # a consumer that skips the fatal error would otherwise poll on forever
        return self.batches.pop(0) if self.batches else []

    def commit(self, asynchronous):
        pass

    def close(self):
        self.closed = True


class _Projector:
    def apply(self, values):
        raise AssertionError("no record reached the store")


def test_a_passing_error_is_skipped_and_a_fatal_one_stops_the_projection(monkeypatch):
    passing = ConsumedMessage("t.decisions.routed.v1", 0, None, error=KafkaError(KafkaError._TRANSPORT, "broker away"))
    fatal = ConsumedMessage("t.decisions.routed.v1", 1, None,
                            error=KafkaError(KafkaError._FENCED, "fenced for good", fatal=True))
    fake = _Consumer([[passing], [fatal]])
    monkeypatch.setattr(confluent_kafka, "Consumer", lambda config: fake)
    projection = ProjectionConsumer(_Projector(), kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    fake.on_stop = projection.stop
    with pytest.raises(RuntimeError, match="review consumer failed: .*fenced for good"):
        projection.run()
    assert fake.polls == 2 and fake.closed
