"""How a worker hands broadcast records to their handler (casetrail/runtime/broadcast.py): decoded, on
the event loop, never dead-lettered. The consumer here is a recorder of messages; that every worker
hears a record on the real broker is tests/integration/drafter (two drafter workers, one publication).
"""

from __future__ import annotations

import asyncio

from casetrail.codec import AvroCodec
from casetrail.events import SlaEvent
from casetrail.runtime import metrics
from casetrail.runtime.broadcast import BroadcastReader
from casetrail.runtime.service import Service
from casetrail.runtime.topic_reader import StartAt, WholeTopicReader
from casetrail.topics import TopicSpec
from casetrail_tools.benchmarks.sample_events import sample_envelope_event
from tests.support.consumed_message import ConsumedMessage

NEWS = TopicSpec("news.v1", "conversation_id", "SlaEvent", "broadcast test topic", partitions=1)


def _message(value: bytes, offset: int) -> ConsumedMessage:
    return ConsumedMessage(NEWS.name, offset, value, key=None, timestamp_ms=1_700_000_000_000)


class _Consumer:
    def __init__(self, messages):
        self.messages = messages

    def consume(self, count, timeout):
        batch, self.messages = self.messages, []
        return batch


def _reading(messages) -> WholeTopicReader:
    return WholeTopicReader({}, [NEWS.name], StartAt.end, consumer=_Consumer(messages))


def _failed(service: str, reason: str) -> float:
    return metrics.EVENTS_FAILED.labels(service, NEWS.name, reason)._value.get()


def test_every_record_reaches_the_handler_decoded_and_a_bad_one_is_skipped_not_dead_lettered():
    service = Service("broadcast-test")
    heard: list[str] = []

    @service.broadcast(NEWS, SlaEvent)
    def hear(event: SlaEvent, ctx) -> None:
        heard.append(event.conversation_id)

    reader = BroadcastReader(service)
    codec = AvroCodec()
    reader.topic_reader = _reading([_message(codec.encode(sample_envelope_event(1)), 0), _message(b"not avro", 1),
                                 _message(codec.encode(sample_envelope_event(2)), 2)])
    asyncio.run(reader.handle_new())
    assert heard == ["conv-00000001", "conv-00000002"]
    assert _failed("broadcast-test", "not_avro") == 1


def test_a_handler_that_returns_outputs_is_a_failure_every_worker_would_repeat():
    service = Service("broadcast-outputs")

    @service.broadcast(NEWS, SlaEvent)
    async def emits(event: SlaEvent, ctx):
        return ["an output"]

    reader = BroadcastReader(service)
    reader.topic_reader = _reading([_message(AvroCodec().encode(sample_envelope_event(3)), 0)])
    asyncio.run(reader.handle_new())
    assert _failed("broadcast-outputs", "unprocessable") == 1
