"""OpenTelemetry tracing with W3C trace context carried in Kafka record headers.

The exporter is chosen by the standard variable ``OTEL_TRACES_EXPORTER``, typed in
``casetrail.settings`` (``none`` by default, ``console``, ``otlp`` — needs the
``otlp`` extra). ``casetrail_file`` writes one JSON span per line to
``CASETRAIL_TRACE_FILE``; the end-to-end tests use it to check that one trace
spans every hop. The SDK reads its own variables (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, the OTLP exporter's ``OTEL_EXPORTER_OTLP_*``);
this module never reads them by hand.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Iterable, Mapping, Optional, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import OTELResourceDetector, Resource, get_aggregated_resources
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter, SpanExportResult, SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from casetrail.settings import CasetrailSettings

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


def service_resource(service: str, version: str) -> Resource:
    """``casetrail-<service>`` unless the SDK's own variables (``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``) name it otherwise: the SDK's detector has the last word."""
    ours = Resource.create({"service.name": f"casetrail-{service}", "service.version": version,
                            "service.namespace": "casetrail"})
    return get_aggregated_resources([OTELResourceDetector()], initial_resource=ours)


def configure_tracing(service: str, version: str, config: "CasetrailSettings") -> None:
    """Install the tracer provider once per process, the exporter ``config.otel_traces_exporter``."""
    global _configured
    if _configured:
        return
    _configured = True
    exporter_name = config.otel_traces_exporter
    if exporter_name == "none":
        # No exporter: keep the API's non-recording tracer. Context still propagates
        # (the incoming traceparent is continued into every output's headers) at a
        # fraction of the cost of recording spans nobody collects.
        return
    provider = TracerProvider(resource=service_resource(service, version))
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # optional extra

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter_name == "casetrail_file":
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(str(config.trace_file))))
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
