"""What a timer tick commits with (casetrail/runtime/ticks.py): the worker's positions and the group
metadata taken before the tick, in one transaction with everything the tick produced and wrote.

The broker's refusal of a zombie's tick is proven on the real broker
(tests/integration/foundation/test_timer_fencing.py); here the consumer and producer are recorders.
"""

from __future__ import annotations

import asyncio

from confluent_kafka import KafkaError, TopicPartition

from casetrail.runtime import Output
from casetrail.runtime.service import Service
from casetrail.runtime.ticks import TickFence, refused_as_stale, run_due_timers, tick_fence
from casetrail.runtime.transactions import CommitOutcome
from casetrail.runtime.worker import Worker
from casetrail.topics import TopicSpec
from casetrail_tools.benchmarks.sample_events import sample_envelope_event

INVALID = -1001
SOURCE = TopicSpec("ticks.in", "conversation_id", "SlaEvent", "tick test input", partitions=2)
FIRED = TopicSpec("ticks.out", "conversation_id", "SlaEvent", "tick test output", partitions=2)


class RecordingConsumer:
    def __init__(self, positions: dict[int, int], committed: dict[int, int]):
        self.positions, self.committed_offsets = positions, committed
        self.generation = "generation-7"

    def position(self, partitions):
        return [TopicPartition(tp.topic, tp.partition, self.positions.get(tp.partition, INVALID)) for tp in partitions]

    def committed(self, partitions, timeout=None):
        return [TopicPartition(tp.topic, tp.partition, self.committed_offsets.get(tp.partition, INVALID))
                for tp in partitions]

    def consumer_group_metadata(self):
        return self.generation


class RecordingProducer:
    def __init__(self):
        self.in_transaction = False
        self.produced: list[str] = []
        self.commits: list[tuple[list, object]] = []

    def produce(self, topic, value, key, headers=None, partition=None):
        self.in_transaction = True
        self.produced.append(topic)

    def commit(self, offsets, group_metadata=None):
        self.commits.append(([(tp.topic, tp.partition, tp.offset) for tp in offsets], group_metadata))
        self.in_transaction = False
        return CommitOutcome(True)


def test_the_fence_carries_the_known_positions_and_the_metadata_taken_before_the_tick():
    consumer = RecordingConsumer(positions={0: 12}, committed={1: 4})
    fence = tick_fence(consumer, {("in", 0), ("in", 1)}, "generation-6", timeout=1)
    assert [(tp.partition, tp.offset) for tp in fence.offsets] == [(0, 12)]  # one offset fences the group
    assert fence.group_metadata == "generation-6"


def test_without_positions_the_groups_committed_offsets_fence_the_tick():
    fence = tick_fence(RecordingConsumer(positions={}, committed={1: 4}), {("in", 0), ("in", 1)}, "g", timeout=1)
    assert [(tp.partition, tp.offset) for tp in fence.offsets] == [(1, 4)] and fence.group_metadata == "g"


def test_a_worker_with_nothing_handled_or_no_partition_commits_unfenced():
    assert tick_fence(RecordingConsumer({}, {}), {("in", 0)}, "g", timeout=1) == TickFence()
    assert tick_fence(RecordingConsumer({0: 1}, {}), set(), "g", timeout=1) == TickFence()
    assert tick_fence(None, {("in", 0)}, None, timeout=1) == TickFence()


def test_only_a_stale_membership_counts_as_a_fenced_tick():
    assert refused_as_stale(CommitOutcome(False, [KafkaError(KafkaError.UNKNOWN_MEMBER_ID)]))
    assert refused_as_stale(CommitOutcome(False, [KafkaError(KafkaError.ILLEGAL_GENERATION)]))
    assert not refused_as_stale(CommitOutcome(False, [KafkaError(KafkaError._TIMED_OUT)]))


def test_a_ticks_outputs_and_table_writes_commit_once_with_the_fence():
    service = Service("tick-test")
    timers = service.table("timers", partitions=2)

    @service.timer(0.0)
    async def fire() -> None:
        timers["conv-1"] = {"fired": True}
        await service.produce(Output(FIRED, sample_envelope_event(1)))

    worker = Worker(service)
    worker.producer, worker.consumer = RecordingProducer(), RecordingConsumer(positions={1: 9}, committed={})
    worker.assigned = {(service.topic_name(SOURCE), 0), (service.topic_name(SOURCE), 1)}
    service._worker = worker
    asyncio.run(run_due_timers(worker))
    # before the fence, produce() committed the event alone and the timer's changelog record followed
    assert worker.producer.produced == [service.topic_name(FIRED), timers.changelog_topic]
    assert worker.producer.commits == [([(service.topic_name(SOURCE), 1, 9)], "generation-7")]
    assert not timers.changed and timers.get("conv-1") == {"fired": True}


def test_a_tick_that_writes_nothing_opens_no_transaction():
    service = Service("tick-test")

    @service.timer(0.0)
    async def idle() -> None:
        return None

    worker = Worker(service)
    worker.producer, worker.consumer = RecordingProducer(), RecordingConsumer(positions={0: 1}, committed={})
    worker.assigned = {("in", 0)}
    service._worker = worker
    asyncio.run(run_due_timers(worker))
    assert worker.producer.commits == []
