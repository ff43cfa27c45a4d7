"""The service runtime: confluent-kafka with Kafka transactions, changelog-backed tables,
Avro codec, dead letters, metrics, tracing, health endpoints and graceful shutdown —
shared by every service (docs/runtime.md)."""

from casetrail.runtime.contract import NotYetDue, Output, RecordContext, RetryableError
from casetrail.runtime.service import DEFAULT_PORTS, Service

__all__ = ["DEFAULT_PORTS", "NotYetDue", "Output", "RecordContext", "RetryableError", "Service"]
