"""Partitions a worker holds back until a record of theirs is due (``contract.NotYetDue``).

A held partition is paused at the record that was not due, so neither that record
nor any later one of the partition is handled or committed before its time; the
worker's other partitions are not held up. Holds live in memory only: after a
restart or a rebalance the record simply comes again and is held again.
"""

from __future__ import annotations

import time
from typing import Callable


class PartitionHolds:
    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._until: dict[tuple[str, int], float] = {}  # (topic, partition) -> epoch seconds
        self._at: dict[tuple[str, int], int] = {}  # (topic, partition) -> offset of the held record

    def __contains__(self, topic_partition: tuple[str, int]) -> bool:
        return topic_partition in self._until

    def hold(self, topic: str, partition: int, offset: int, due: float) -> None:
        self._until[(topic, partition)] = due
        self._at[(topic, partition)] = offset

    def held_at(self) -> dict[tuple[str, int], int]:
        return dict(self._at)

    def due(self) -> list[tuple[str, int]]:
        """The held partitions whose time has come (released from the holds)."""
        now = self._clock()
        ready = [tp for tp, until in self._until.items() if until <= now]
        for tp in ready:
            del self._until[tp]
            del self._at[tp]
        return ready

    def seconds_to_next(self, longest: float) -> float:
        if not self._until:
            return longest
        return max(0.0, min(longest, min(self._until.values()) - self._clock()))

    def clear(self) -> None:
        self._until.clear()
        self._at.clear()
