"""Resuming Faust's flow control must not lose records that were already fetched.

At the end of table recovery Faust seeks the stream partitions to their committed offsets and
only then resumes flow control, which clears every stream buffer. A record fetched while the
seek was awaited sat in an agent's buffer, was cleared, and was never fetched again: the
restarted triage worker reported ready and processed nothing (the intermittent restart stall).
These drive the app's real flow control and Faust consumer bookkeeping; only the broker calls
(assignment, seek) are stand-ins.
"""

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition
from faust.types import TP

from casetrail.runtime import Service
from casetrail.settings import CasetrailSettings

SOURCE = TP("t.conversations.received.v1", 2)
OTHER = TP("t.conversations.received.v1", 1)
CHANGELOG = TP("casetrail-flowctl-history-changelog", 0)  # the changelog of the table below


def _event(tp: TP, offset: int):
    # the fetcher's messages carry aiokafka's TopicPartition, not Faust's TP
    return SimpleNamespace(message=SimpleNamespace(tp=TopicPartition(tp.topic, tp.partition), offset=offset))


def _resume_with_buffered(events, *, assigned, rebalance_during_seek=False):
    async def scenario():
        service = Service("flowctl", config=CasetrailSettings())
        service.table("history")
        app = service.app
        consumer = app.consumer  # Faust's aiokafka consumer, never started
        seeks = []

        async def seek(tp, offset):
            if rebalance_during_seek:
                app.consumer_generation_id += 1
            seeks.append((tp, offset))

        consumer.assignment = lambda: set(assigned)
        consumer.seek = seek
        consumer._set_active_tps(set(assigned))  # as at the end of recovery: all resumed
        buffer = app.FlowControlQueue(maxsize=100, clear_on_resume=True)
        for event in events:
            buffer.put_nowait(event)

        app.flow_control.resume()
        assert buffer.empty()  # resuming still clears the buffers
        paused_meanwhile = set(consumer._paused_partitions)
        for _ in range(10):  # let the seek-back run
            await asyncio.sleep(0)
        active = consumer._get_active_partitions()  # asserts every member is a Faust TP
        return paused_meanwhile, seeks, active, set(consumer._paused_partitions)

    return asyncio.run(scenario())


def test_records_cleared_on_resume_are_fetched_again_from_the_earliest_one():
    paused_meanwhile, seeks, active, paused = _resume_with_buffered(
        [_event(SOURCE, 3), _event(SOURCE, 2), _event(CHANGELOG, 7)], assigned={SOURCE, OTHER, CHANGELOG}
    )
    assert paused_meanwhile == {SOURCE}  # nothing newer is handed out before the seek
    assert seeks == [(SOURCE, 2)]  # rewound to the first dropped record; changelogs are recovery's
    assert SOURCE in active and not paused  # and fetched again
    assert all(type(tp) is TP for tp in active)


def test_nothing_to_redeliver_when_the_buffers_were_empty_or_the_partition_is_gone():
    assert _resume_with_buffered([], assigned={SOURCE})[1] == []
    assert _resume_with_buffered([_event(SOURCE, 2)], assigned={OTHER})[1] == []


def test_a_rebalance_during_the_seek_leaves_resuming_to_the_new_assignment():
    _, seeks, active, paused = _resume_with_buffered([_event(SOURCE, 2)], assigned={SOURCE}, rebalance_during_seek=True)
    assert seeks == [(SOURCE, 2)]
    assert SOURCE not in active and paused == {SOURCE}  # the new assignment's recovery resumes it
