"""Exactly-once effects over at-least-once records: what to do with an effect now (pure).

Three facts decide it:

* the ``effects`` table (keyed by effect key): a final outcome already recorded
  (delivered / failed / suppressed) means a redelivered or replayed record
  does nothing — the same effect key comes from the same decision;
* whether a previous attempt may have reached the platform: the source record
  lies inside the attempt watermark of a crashed (or rebalanced) worker, or an
  earlier try ended ambiguously (timeout, 5xx, a dropped connection after the
  request was sent);
* whether the effect writes text (a reply or a note is a new message each
  time; an update that sets group, priority and tags is idempotent by itself).

When a write may already have happened, the platform is searched for the
effect's marker first (check-before-post) and the found id is recorded
instead of posting again.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Optional


class EffectState(str, enum.Enum):
    delivered = "delivered"
    failed = "failed"
    suppressed = "suppressed"


@dataclass(frozen=True)
class EffectRecord:
    """The final outcome of one effect (JSON in the ``effects`` table)."""

    state: EffectState
    platform_id: Optional[str]
    attempts: int
    at: str  # ISO time of the outcome

    def to_dict(self) -> dict:
        return {**asdict(self), "state": self.state.value}

    @classmethod
    def from_dict(cls, data: dict) -> "EffectRecord":
        return cls(state=EffectState(data["state"]), platform_id=data.get("platform_id"),
                   attempts=int(data.get("attempts", 1)), at=data.get("at", ""))


class Step(str, enum.Enum):
    skip = "skip"  # the effect's outcome is already recorded
    post = "post"
    look_up_then_post = "look_up_then_post"  # a previous attempt may have landed: search the marker first


def next_step(record: Optional[EffectRecord], *, maybe_attempted: bool, writes_text: bool) -> Step:
    if record is not None:
        return Step.skip
    if maybe_attempted and writes_text:
        return Step.look_up_then_post
    return Step.post


class AttemptWindow:
    """Which source records a crashed or replaced worker may already have acted on.

    Before acting on a record past its reservation, a worker durably records
    (``deliveries.attempts.v1``, acknowledged before any platform call) the
    offset up to which it may act: ``offset + reserve - 1``. A worker that takes
    over a partition (a restart, a rebalance, a rewind) reads that mark: every
    record at or below it may have been attempted and is looked up before
    posting. ``reserve`` trades journal writes (one per ``reserve`` records)
    against lookups after a crash (at most ``reserve`` per partition).
    """

    def __init__(self, reserve: int = 200):
        if reserve < 1:
            raise ValueError("reserve must be at least 1")
        self.reserve = reserve
        self.inherited: dict[str, int] = {}  # mark found when this worker (re)took the partition
        self.reserved: dict[str, int] = {}  # this worker's own reservation
        self.last_offset: dict[str, int] = {}

    def needs_reload(self, partition_key: str, offset: int) -> bool:
        """A partition seen for the first time, or an offset that does not follow the last one."""
        last = self.last_offset.get(partition_key)
        return last is None or offset != last + 1

    def reloaded(self, partition_key: str, mark: Optional[int]) -> None:
        self.inherited[partition_key] = -1 if mark is None else mark
        self.reserved[partition_key] = -1 if mark is None else mark

    def maybe_attempted(self, partition_key: str, offset: int) -> bool:
        return offset <= self.inherited.get(partition_key, -1)

    def reservation_needed(self, partition_key: str, offset: int) -> Optional[int]:
        """The new mark to write before acting on ``offset``, or None while inside the reservation."""
        if offset <= self.reserved.get(partition_key, -1):
            return None
        return offset + self.reserve - 1

    def reserved_up_to(self, partition_key: str, mark: int) -> None:
        self.reserved[partition_key] = max(mark, self.reserved.get(partition_key, -1))

    def processed(self, partition_key: str, offset: int) -> None:
        self.last_offset[partition_key] = offset
