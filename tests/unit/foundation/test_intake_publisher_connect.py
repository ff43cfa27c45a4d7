"""``IntakePublisher(connect_timeout=...)`` returns only once its producer holds a producer id, so a
benchmark's first tickets are not stamped while the client is still starting (no broker: a stand-in
producer reports librdkafka's statistics)."""

from __future__ import annotations

import json

import pytest

from casetrail_tools import intake_publisher


class StartingProducer:
    """Reports idempotence state ``Assigned`` from its ``polls_until_assigned``-th poll on."""

    polls_until_assigned = 3

    def __init__(self, config: dict):
        self.stats_cb = config.get("stats_cb")
        self.polls = 0
        self.topics_asked: list[str] = []

    def list_topics(self, topic: str, timeout: float):
        self.topics_asked.append(topic)

    def poll(self, timeout: float) -> int:
        self.polls += 1
        state = "Assigned" if self.polls >= self.polls_until_assigned else "WaitPID"
        self.stats_cb(json.dumps({"eos": {"idemp_state": state}}))
        return 0


def test_connecting_waits_for_the_producer_id_after_the_topics_metadata(monkeypatch):
    monkeypatch.setattr(intake_publisher, "Producer", StartingProducer)
    publisher = intake_publisher.IntakePublisher("p.", connect_timeout=5.0)
    assert publisher._producer.topics_asked == ["p.support.intake.v1"]
    assert publisher._producer.polls == StartingProducer.polls_until_assigned


def test_a_producer_that_never_gets_an_id_is_an_error_not_a_silent_start(monkeypatch):
    monkeypatch.setattr(StartingProducer, "polls_until_assigned", 10**9)
    monkeypatch.setattr(intake_publisher, "Producer", StartingProducer)
    with pytest.raises(TimeoutError, match="WaitPID"):
        intake_publisher.IntakePublisher("p.", connect_timeout=0.2)


def test_without_a_timeout_nothing_is_waited_for(monkeypatch):
    monkeypatch.setattr(intake_publisher, "Producer", StartingProducer)
    publisher = intake_publisher.IntakePublisher("p.")
    assert (publisher._producer.topics_asked, publisher._producer.polls, publisher._producer.stats_cb) == ([], 0, None)
