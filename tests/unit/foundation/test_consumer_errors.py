"""casetrail.runtime.consumer_errors.usable: the one rule the group worker and the whole-topic reader apply to
what their consumer returned — a record is handled, an end-of-partition event is skipped quietly, any other
error is logged and skipped, a fatal error stops the reader naming it."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError

from casetrail.runtime.consumer_errors import usable
from casetrail.runtime.topic_reader import StartAt, WholeTopicReader
from tests.support.consumed_message import ConsumedMessage


def _with(error: KafkaError) -> ConsumedMessage:
    return ConsumedMessage("news", 3, None, error=error)


def test_a_record_is_usable():
    assert usable(ConsumedMessage("news", 3, b"{}"), "consumer") is True


def test_an_end_of_partition_event_is_skipped_without_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="casetrail.runtime"):
        assert usable(_with(KafkaError(KafkaError._PARTITION_EOF)), "consumer") is False
    assert caplog.records == []


def test_another_error_is_skipped_with_a_warning_naming_the_source(caplog):
    with caplog.at_level(logging.WARNING, logger="casetrail.runtime"):
        assert usable(_with(KafkaError(KafkaError._TRANSPORT, "broker away")), "reader of news") is False
    [warning] = caplog.records
    assert (warning.levelno, warning.getMessage()) == (logging.WARNING, "consumer error")
    assert (warning.source, warning.error) == ("reader of news", "_TRANSPORT")


def test_a_fatal_error_stops_the_reader_naming_the_source():
    with pytest.raises(RuntimeError, match=r"^consumer failed: fenced for good$"):
        usable(_with(KafkaError(KafkaError._FENCED, "fenced for good", fatal=True)), "consumer")


class _Consumer:
    def __init__(self, batch):
        self.batch = batch

    def consume(self, count, timeout):
        return self.batch


def test_the_whole_topic_reader_names_its_topics_when_its_consumer_fails():
    fatal = _with(KafkaError(KafkaError._FATAL, "gone", fatal=True))
    reader = WholeTopicReader({}, ["news", "more-news"], StartAt.end, consumer=_Consumer([fatal]))
    with pytest.raises(RuntimeError, match=r"^reader of news, more-news failed: gone$"):
        reader.take(10)
