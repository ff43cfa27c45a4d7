"""The service runtime: Faust app factory, Avro codec, dead letters, metrics,
tracing, health endpoints and graceful shutdown — shared by all six services."""

from casetrail.runtime.service import DEFAULT_PORTS, Output, RecordContext, RetryableError, Service

__all__ = ["DEFAULT_PORTS", "Output", "RecordContext", "RetryableError", "Service"]
