"""Timer ticks (``Service.timer``), run between batches, each in one transaction that Kafka fences
like a batch's when the worker is a zombie (KIP-447).

Whatever a tick produces (``Service.produce``) and writes to tables commits in one transaction,
after the tick. A batch's transaction carries its input offsets and the consumer's group metadata, so the
broker refuses it when the worker's group generation is stale. A tick has no input record,
but it acts on state that belongs to the worker's partitions (the router's SLA timers): a
worker whose session expired while it was stalled (a GC pause, a frozen VM, SIGSTOP) still
holds those partitions' tables and believes it owns them until it polls again, while the new
owner fires the same timers. So the tick's transaction carries offsets too: the worker's
current positions on its assigned partitions (committing them moves nothing, since ticks
run between batches, when every handled record is committed and held or rewound partitions
are seeked back to their first unhandled record) with the group metadata taken when the tick
starts, i.e. of the generation whose ownership the tick acts on. A stale generation or a
member the group has removed gets the transaction refused (``ILLEGAL_GENERATION``,
``UNKNOWN_MEMBER_ID``): nothing the tick produced or wrote becomes visible.

The fence is per group, not per partition, so one known offset is enough. A partition the
worker has consumed nothing from since its assignment has no position; then the group's
committed offsets serve (one round trip). A worker that holds no partition, or whose
partitions have neither (nothing was ever handled on them, so no table state can belong to
them), commits its tick unfenced: there is nothing it could act on twice.

What the tick counts (``Service.after_commit``: the router's SLA metrics) is counted only once the
tick's transaction committed: a refused or aborted tick counts nothing (runtime/after_commit.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from casetrail.runtime import metrics
from casetrail.runtime.failure import failure_site
from casetrail.runtime.transactions import CommitOutcome

if TYPE_CHECKING:
    from casetrail.runtime.worker import Worker

log = logging.getLogger("casetrail.runtime")

# The broker's answers to offsets sent with group metadata that no longer holds.
STALE_MEMBERSHIP = frozenset({
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.FENCED_INSTANCE_ID,
    KafkaError.REBALANCE_IN_PROGRESS,
})


@dataclass(frozen=True)
class TickFence:
    """The offsets and group metadata a tick commits with (no metadata: the tick is not fenced)."""

    offsets: list[TopicPartition] = field(default_factory=list)
    group_metadata: Optional[Any] = None


def tick_fence(consumer: Optional[Consumer], assigned: Iterable[tuple[str, int]], group_metadata: Any,
               timeout: float) -> TickFence:
    """The fence for a tick: ``group_metadata`` must have been taken before the tick read who owns what."""
    if consumer is None or group_metadata is None:
        return TickFence()
    partitions = [TopicPartition(topic, partition) for topic, partition in sorted(assigned)]
    if not partitions:
        return TickFence()
    known = [tp for tp in consumer.position(partitions) if tp.offset >= 0]
    if not known:
        known = [tp for tp in consumer.committed(partitions, timeout=timeout) if tp.offset >= 0]
    if not known:
        return TickFence()
    return TickFence(known, group_metadata)


def refused_as_stale(outcome: CommitOutcome) -> bool:
    """The transaction was refused because the worker's group membership no longer holds."""
    return any(error.code() in STALE_MEMBERSHIP for error in outcome.delivery_errors)


def tick_aborted(service: str, timer: str, outcome: CommitOutcome) -> None:
    """Say why a tick's transaction did not commit (its table writes are rolled back by the caller)."""
    if refused_as_stale(outcome):
        # A zombie's tick. As after a refused batch, the worker's next poll serves the lost assignment
        # and its tables are dropped (restore.TableOwnership.lost).
        metrics.TICKS_FENCED.labels(service).inc()
        log.warning("timer tick refused: this worker's group generation is stale (its partitions have moved); "
                    "nothing of the tick is visible", extra={"timer": timer, "reason": outcome.abort_reason})
    else:
        log.warning("timer tick's transaction aborted; it runs again next tick",
                    extra={"timer": timer, "reason": outcome.abort_reason})


async def run_due_timers(worker: "Worker") -> None:
    """Run every timer that is due, each tick in its own fenced transaction."""
    service = worker.service
    now = time.monotonic()
    for timer in service.timers:
        if timer.due > now:
            continue
        timer.due = now + timer.seconds
        # the generation whose ownership the tick acts on: taken before the tick reads who owns what
        generation = worker.consumer.consumer_group_metadata() if worker.consumer is not None else None
        worker.in_tick = True
        try:
            await timer.fn()
        except Exception as exc:  # a failing tick must not stop the worker; its effects are rolled back
            log.error("timer failed", extra={"timer": timer.fn.__name__, "error": type(exc).__name__,
                                             "site": failure_site(exc)})
            worker.abort("timer failed")
            continue
        finally:
            worker.in_tick = False
        if not (worker.producer.in_transaction or any(table.changed for table in service.tables.values())):
            worker.after_commit.committed()  # the tick wrote nothing: no transaction to wait for
            continue
        try:
            fence = tick_fence(worker.consumer, worker.assigned, generation, service.config.transaction_timeout_ms / 1000)
        except KafkaException as exc:  # the group's committed offsets could not be read: no fence, no commit
            tick_aborted(service.name, timer.fn.__name__, worker.abort(f"offsets unknown: {exc.args[0].name()}"))
            continue
        outcome = worker.commit(fence.offsets, fence.group_metadata)
        if not outcome.committed:  # the tables are rolled back and the after-commit callbacks dropped by commit()
            tick_aborted(service.name, timer.fn.__name__, outcome)
