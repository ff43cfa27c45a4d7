"""casetrail.runtime.polling.ready_records: a worker takes what has been fetched and never waits for
a batch to fill (the pipeline's per-hop wait, docs/benchmarks.md). The consumer here is a queue with
the two calls the function makes; the real consumer is exercised by every integration test."""

from __future__ import annotations

from casetrail.runtime.polling import Linger, ready_records


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


class Clock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class ArrivingWhileWaiting(QueueConsumer):
    """A consumer whose linger wait (a consume with a timeout) gathers ``per_wait`` new records."""

    def __init__(self, fetched: list, per_wait: int):
        super().__init__(fetched)
        self.per_wait = per_wait
        self.lingers: list[float] = []

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list:
        if timeout > 0:
            self.lingers.append(timeout)
            return ["new"] * min(self.per_wait, num_messages)
        return super().consume(num_messages, timeout)


def test_with_a_linger_a_short_batch_waits_that_long_for_more_and_a_full_one_does_not():
    consumer = QueueConsumer(["a"])
    assert ready_records(consumer, 100, 0.1, Linger(0.05, clock=Clock())) == ["a"]
    assert consumer.waits == [0, 0.05]  # CASETRAIL_POLL_LINGER_MS: fewer transactions on a busy machine
    full = QueueConsumer(list(range(100)))
    assert ready_records(full, 100, 0.1, Linger(0.05, clock=Clock())) == list(range(100))
    assert full.waits == [0]


def test_without_a_linger_nothing_more_is_awaited_once_a_record_is_in():
    consumer = QueueConsumer(["a"])
    assert ready_records(consumer, 100, 0.1) == ["a"]
    assert ready_records(QueueConsumer(["b"]), 100, 0.1, Linger(0.0)) == ["b"]
    assert consumer.waits == [0]


def test_waits_that_gather_nothing_stop_and_are_tried_again_after_a_while():
    clock = Clock()
    linger = Linger(0.1, probe_every=1.0, clock=clock)
    idle = ArrivingWhileWaiting([], per_wait=0)
    for _ in range(3):  # light load: each wait gathers nothing
        idle.fetched = ["x"]
        ready_records(idle, 100, 0.1, linger)
        clock.now += 0.2
    assert idle.lingers == [0.1]  # one empty wait halves the average (2 -> 1): below two, no more waits
    clock.now += 1.0
    assert linger.next() == 0.1  # a second later, one wait to see whether load is back
    assert linger.next() == 0.0


def test_waits_that_gather_records_go_on():
    clock = Clock()
    linger = Linger(0.1, probe_every=1.0, clock=clock)
    busy = ArrivingWhileWaiting([], per_wait=5)
    for _ in range(10):
        busy.fetched = ["x"]
        assert ready_records(busy, 100, 0.1, linger) == ["x"] + ["new"] * 5
        clock.now += 0.11
    assert busy.lingers == [0.1] * 10


def test_records_fetched_together_try_a_wait_at_once():
    clock = Clock()
    linger = Linger(0.1, probe_every=5.0, clock=clock)
    assert linger.next(fetched=1) == 0.1  # the first wait is tried
    linger.gathered(0)  # and gathered nothing: average 1, below two
    assert linger.next(fetched=1) == 0.0  # light load: one record at a time, waits gathered nothing
    assert linger.next(fetched=2) == 0.1  # two were already waiting: load may be back, try
