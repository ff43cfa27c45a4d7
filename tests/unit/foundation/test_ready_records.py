"""casetrail.runtime.polling.ready_records: a worker takes what has been fetched and never waits for
a batch to fill (the pipeline's per-hop wait, docs/benchmarks.md). The consumer here is a queue with
the two calls the function makes; the real consumer is exercised by every integration test."""

from __future__ import annotations

from casetrail.runtime.polling import ready_records


class QueueConsumer:
    """consume(n, timeout)/poll(timeout) over a list; records each call's timeout."""

    def __init__(self, fetched: list, arriving: list | None = None):
        self.fetched = list(fetched)
        self.arriving = list(arriving or [])  # delivered by a waiting poll, one call each
        self.waits: list[float] = []

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list:
        self.waits.append(timeout)
        taken, self.fetched = self.fetched[:num_messages], self.fetched[num_messages:]
        return taken

    def poll(self, timeout: float = -1):
        self.waits.append(timeout)
        if self.arriving:
            self.fetched.extend(self.arriving[1:])
            first, self.arriving = self.arriving[0], []
            return first
        return None


def test_records_already_fetched_are_taken_without_waiting():
    consumer = QueueConsumer(["a", "b", "c"])
    assert ready_records(consumer, 100, 0.1) == ["a", "b", "c"]
    assert consumer.waits == [0]


def test_a_full_batch_is_capped_and_the_rest_waits_for_the_next_call():
    consumer = QueueConsumer(list(range(250)))
    assert ready_records(consumer, 100, 0.1) == list(range(100))
    assert ready_records(consumer, 100, 0.1) == list(range(100, 200))
    assert consumer.waits == [0, 0]


def test_with_nothing_fetched_it_waits_for_the_first_record_only_and_takes_what_came_with_it():
    consumer = QueueConsumer([], arriving=["x", "y", "z"])
    assert ready_records(consumer, 100, 0.1) == ["x", "y", "z"]
    assert consumer.waits == [0, 0.1, 0]  # one wait, bounded by the poll timeout


def test_nothing_arriving_within_the_wait_is_an_empty_batch():
    consumer = QueueConsumer([])
    assert ready_records(consumer, 100, 0.1) == []
    assert consumer.waits == [0, 0.1]


def test_a_batch_of_one_never_asks_for_more():
    consumer = QueueConsumer([], arriving=["x", "y"])
    assert ready_records(consumer, 1, 0.1) == ["x"]
    assert consumer.waits == [0, 0.1]


def test_with_a_linger_a_short_batch_waits_that_long_for_more_and_a_full_one_does_not():
    consumer = QueueConsumer(["a"])
    assert ready_records(consumer, 100, 0.1, linger=0.05) == ["a"]
    assert consumer.waits == [0, 0.05]  # CASETRAIL_POLL_LINGER_MS: fewer transactions on a busy machine
    full = QueueConsumer(list(range(100)))
    assert ready_records(full, 100, 0.1, linger=0.05) == list(range(100))
    assert full.waits == [0]


def test_without_a_linger_nothing_more_is_awaited_once_a_record_is_in():
    consumer = QueueConsumer(["a"])
    assert ready_records(consumer, 100, 0.1) == ["a"]
    assert consumer.waits == [0]
