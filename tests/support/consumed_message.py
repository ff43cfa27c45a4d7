"""One stand-in for a consumed confluent-kafka ``Message``, for unit tests of code that reads what a consumer
returned (the worker, the broadcast reader, the audit consumer). It answers the accessors that code calls
with the values it was built with; no Kafka semantics are imitated (the integration tests read real ones)."""

from __future__ import annotations

from typing import Optional

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_NOT_AVAILABLE, KafkaError


class ConsumedMessage:
    """A message of ``topic`` at ``offset`` of ``partition`` (by default 0), key ``b"k"``, no headers, no
    timestamp (``timestamp_ms`` gives one of type create-time) and no error."""

    def __init__(self, topic: str, offset: int = 0, value: Optional[bytes] = b"{}", *, partition: int = 0,
                 key: Optional[bytes] = b"k", headers: Optional[list[tuple[str, bytes]]] = None,
                 timestamp_ms: Optional[int] = None, error: Optional[KafkaError] = None):
        self._topic, self._offset, self._value, self._partition = topic, offset, value, partition
        self._key, self._headers, self._error = key, list(headers or []), error
        self._timestamp = (TIMESTAMP_NOT_AVAILABLE, 0) if timestamp_ms is None else (TIMESTAMP_CREATE_TIME, timestamp_ms)

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> Optional[bytes]:
        return self._key

    def value(self) -> Optional[bytes]:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return self._timestamp

    def error(self) -> Optional[KafkaError]:
        return self._error
