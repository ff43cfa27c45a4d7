"""A partition held at a record that is not due is released when it is, and not before."""

from casetrail.runtime.holds import PartitionHolds


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_held_partition_is_released_when_its_record_is_due_and_not_before():
    clock = Clock()
    holds = PartitionHolds(clock)
    holds.hold("deliveries.retry.v1", 2, 41, due=1005.0)
    holds.hold("deliveries.retry.v1", 0, 7, due=1002.0)
    assert ("deliveries.retry.v1", 2) in holds and ("deliveries.retry.v1", 1) not in holds
    assert holds.held_at() == {("deliveries.retry.v1", 2): 41, ("deliveries.retry.v1", 0): 7}
    assert holds.seconds_to_next(1.0) == 1.0 and holds.seconds_to_next(10.0) == 2.0
    assert holds.due() == []
    clock.now = 1002.0
    assert holds.due() == [("deliveries.retry.v1", 0)]
    assert ("deliveries.retry.v1", 0) not in holds and ("deliveries.retry.v1", 2) in holds
    clock.now = 1006.0
    assert holds.due() == [("deliveries.retry.v1", 2)]
    assert holds.seconds_to_next(3.0) == 3.0


def test_a_rebalance_forgets_every_hold():
    holds = PartitionHolds(Clock())
    holds.hold("t", 0, 1, due=2000.0)
    holds.clear()
    assert ("t", 0) not in holds and holds.due() == []
