"""The one reader of whole topics outside the group (casetrail/runtime/topic_reader.py): where it starts
(the beginning for the erasure feed, the end for broadcasts), what it does with a topic that is not there,
and reading up to the current end. The consumer is a recorder of assignments with scripted metadata and
records; the real broker's answers are read in tests/integration/privacy/test_erasure_tombstones_on_broker.py
(from the beginning) and tests/integration/drafter (from the end)."""

from __future__ import annotations

from types import SimpleNamespace

from confluent_kafka import OFFSET_BEGINNING, KafkaError

from casetrail.runtime.topic_reader import StartAt, WholeTopicReader
from tests.support.consumed_message import ConsumedMessage

EOF = KafkaError(KafkaError._PARTITION_EOF)


class _Consumer:
    """Topics with partitions and watermarks (``{topic: {partition: (low, high)}}``); hands out ``batches``."""

    def __init__(self, topics: dict[str, dict[int, tuple[int, int]]], batches=()):
        self.topics = topics
        self.batches = list(batches)
        self.assigned: list = []

    def list_topics(self, topic, timeout):
        found = self.topics.get(topic)
        meta = None if found is None else SimpleNamespace(error=None, partitions={p: None for p in found})
        return SimpleNamespace(topics={topic: meta} if meta is not None else {})

    def get_watermark_offsets(self, tp, timeout):
        return self.topics[tp.topic][tp.partition]

    def assign(self, partitions):
        self.assigned = list(partitions)

    def assignment(self):
        return self.assigned

    def consume(self, count, timeout):
        return self.batches.pop(0) if self.batches else []


def _assigned(reader: WholeTopicReader) -> list[tuple[str, int, int]]:
    return [(tp.topic, tp.partition, tp.offset) for tp in reader._consumer.assigned]


def test_from_the_beginning_every_partition_starts_at_its_first_record():
    reader = WholeTopicReader({}, ["erasures"], StartAt.beginning, consumer=_Consumer({"erasures": {0: (0, 4), 1: (2, 9)}}))
    assert reader.assign() == {} and reader.assigned
    assert _assigned(reader) == [("erasures", 0, OFFSET_BEGINNING), ("erasures", 1, OFFSET_BEGINNING)]


def test_from_the_end_every_partition_starts_after_its_last_record_as_of_assign():
    consumer = _Consumer({"news": {0: (0, 4)}, "more-news": {0: (3, 3), 1: (1, 7)}})
    reader = WholeTopicReader({}, ["news", "more-news"], StartAt.end, consumer=consumer)
    assert reader.assign() == {}
    assert _assigned(reader) == [("news", 0, 4), ("more-news", 0, 3), ("more-news", 1, 7)]


def test_a_topic_that_is_not_there_is_named_and_nothing_is_assigned():
    reader = WholeTopicReader({}, ["news", "missing"], StartAt.end, consumer=_Consumer({"news": {0: (0, 4)}}))
    assert reader.assign() == {"missing": "no partitions"}
    assert not reader.assigned and _assigned(reader) == []


def test_to_end_reads_every_non_empty_partition_up_to_its_end_and_take_skips_end_markers():
    batches = [[ConsumedMessage("erasures", 0, b"a"), ConsumedMessage("erasures", 0, None, error=EOF)],
               [],  # nothing this second: partition 2 is not at its end yet
               [ConsumedMessage("erasures", 0, b"b", partition=2), ConsumedMessage("erasures", 1, None, partition=2, error=EOF)],
               [ConsumedMessage("erasures", 2, b"after the end")]]
    consumer = _Consumer({"erasures": {0: (0, 1), 1: (5, 5), 2: (0, 2)}}, batches)  # partition 1 is empty
    reader = WholeTopicReader({}, ["erasures"], StartAt.beginning, consumer=consumer)
    reader.assign()
    assert [m.value() for m in reader.to_end()] == [b"a", b"b"]
    assert [m.value() for m in reader.take(10)] == [b"after the end"]
