"""OpenTelemetry tracing with W3C trace context carried in Kafka record headers.

The exporter is chosen by the standard variables: ``OTEL_TRACES_EXPORTER``
(``none`` by default, ``console``, ``otlp`` — needs the ``otlp`` extra) and
``OTEL_SERVICE_NAME``. ``casetrail_file`` writes one JSON span per line to
``CASETRAIL_TRACE_FILE``; the end-to-end tests use it to check that one trace
spans every hop.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Iterable, Mapping, Optional, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter, SpanExportResult, SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_configured = False


class _HeaderGetter(Getter[Mapping[str, bytes]]):
    def get(self, carrier: Mapping[str, bytes], key: str) -> Optional[list[str]]:
        value = carrier.get(key)
        if value is None:
            return None
        return [value.decode("latin-1") if isinstance(value, bytes) else str(value)]

    def keys(self, carrier: Mapping[str, bytes]) -> list[str]:
        return list(carrier.keys())


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans as JSON lines (trace id, span id, parent, name, service)."""

    def __init__(self, path: str):
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            ctx = span.get_span_context()
            lines.append(json.dumps({
                "trace_id": f"{ctx.trace_id:032x}",
                "span_id": f"{ctx.span_id:016x}",
                "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
                "name": span.name,
                "service": span.resource.attributes.get("service.name"),
                "attributes": {k: v for k, v in (span.attributes or {}).items() if isinstance(v, (str, int, float, bool))},
            }))
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS


def configure_tracing(service: str, version: str) -> None:
    """Install the tracer provider once per process, exporter from OTEL_* variables."""
    global _configured
    if _configured:
        return
    _configured = True
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter_name in ("none", ""):
        # No exporter: keep the API's non-recording tracer. Context still propagates
        # (the incoming traceparent is continued into every output's headers) at a
        # fraction of the cost of recording spans nobody collects.
        return
    resource = Resource.create({
        "service.name": os.environ.get("OTEL_SERVICE_NAME", f"casetrail-{service}"),
        "service.version": version,
        "service.namespace": "casetrail",
    })
    provider = TracerProvider(resource=resource)
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # optional extra

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter_name == "casetrail_file":
        path = os.environ.get("CASETRAIL_TRACE_FILE", "var/traces.jsonl")
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    else:
        raise ValueError(f"OTEL_TRACES_EXPORTER={exporter_name!r} is not supported (none, console, otlp, casetrail_file)")
    trace.set_tracer_provider(provider)


def extract_context(headers: Mapping[str, bytes]) -> Context:
    return _PROPAGATOR.extract(headers, getter=_HeaderGetter())


def inject_headers(headers: dict[str, bytes]) -> dict[str, bytes]:
    """Add ``traceparent`` (and ``tracestate``) of the current span to record headers."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    for key, value in carrier.items():
        headers[key] = value.encode("latin-1")
    return headers


def headers_to_dict(headers: Iterable | Mapping | None) -> dict[str, bytes]:
    """Kafka headers arrive as a list of (key, bytes) pairs or a mapping; normalise."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {key: (value if isinstance(value, bytes) or value is None else str(value).encode()) for key, value in items}


def trace_id_of(headers: Mapping[str, bytes]) -> Optional[str]:
    """The trace id in a ``traceparent`` header (``00-<trace>-<span>-<flags>``)."""
    value = headers.get("traceparent")
    if not value:
        return None
    parts = value.decode("latin-1").split("-")
    return parts[1] if len(parts) == 4 else None
