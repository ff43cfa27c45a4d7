"""``casetrail bench codec``: Avro encode+decode throughput on one core, and event sizes per topic."""

from __future__ import annotations

import io
import time
from typing import Callable

import fastavro

from casetrail_tools.benchmarks.sample_events import (
    sample_conversation_received,
    sample_envelope_event,
    sample_pipeline_events,
)
from casetrail.codec import AvroCodec
from casetrail.events.catalog import schema_of


def _rates(round_trip: Callable[[int], object], events: int) -> tuple[int, int]:
    """(round trips per wall-clock second, per CPU-second of this thread).

    The second is what one core does when other processes share the machine: the wall-clock
    rate drops with the share of the core the benchmark gets, the CPU-time rate much less.
    """
    wall, cpu = time.perf_counter(), time.thread_time()
    for i in range(events):
        round_trip(i)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    return round(events / wall), round(events / cpu)


def event_sizes(codec: AvroCodec, i: int = 0) -> dict[str, tuple[int, int]]:
    """Bytes of one ticket's event on each pipeline topic: (embedding carried past triage, as sent now)."""
    before = sample_pipeline_events(i, embedding_past_triage=True)
    after = sample_pipeline_events(i)
    return {topic: (len(codec.encode(old)), len(codec.encode(new))) for (topic, old), (_, new) in zip(before, after)}


def run_codec_benchmark(events: int, progress: Callable[[str], None] = lambda line: None) -> dict:
    """Encode+decode round trips through the single-object framing, one thread.

    "Envelope-sized" is an SlaEvent: the envelope plus three fields (~150 bytes). A
    ConversationReceived with one message (~270 bytes) is reported beside it, both as records
    (dicts: what fastavro does) and as models (pydantic: what a service does), and the
    ConversationTriaged the drafter decodes (triage's 384-float embedding, ~3.6 kB) as models.
    fastavro's own writer and reader on the envelope record are timed alone too: their sum is
    the floor of a round trip through this codec.
    """
    codec = AvroCodec()
    envelope = [sample_envelope_event(i) for i in range(1000)]
    conversation = [sample_conversation_received(i) for i in range(1000)]
    triaged = [events_of_one_ticket[1][1] for events_of_one_ticket in map(sample_pipeline_events, range(100))]
    result: dict[str, object] = {
        "benchmark": "codec",
        "events": events,
        "framing": "single-object (C3 01 + CRC-64-AVRO fingerprint)",
    }

    def measure(key: str, samples: list, round_trip: Callable[[object], object], count: int = events) -> None:
        progress(f"{key}: {count:,} round trips ...")
        wall, cpu = _rates(lambda i: round_trip(samples[i % len(samples)]), count)
        result[f"{key}_per_s"] = wall
        result[f"{key}_per_cpu_s"] = cpu

    def records(name: str) -> Callable[[dict], object]:
        return lambda record: codec.decode_record(codec.encode_record(name, record))

    def models(event) -> object:
        return codec.decode(codec.encode(event))

    result["envelope_event_bytes"] = len(codec.encode(envelope[0]))
    measure("envelope_encode_decode", [e.model_dump() for e in envelope], records("SlaEvent"))
    measure("envelope_with_models", envelope, models)
    parsed = fastavro.parse_schema(schema_of("SlaEvent"))
    bodies = [codec.encode(e)[10:] for e in envelope]  # without the single-object header
    measure("envelope_fastavro_write_only", [e.model_dump() for e in envelope],
            lambda record: fastavro.schemaless_writer(io.BytesIO(), parsed, record))
    measure("envelope_fastavro_read_only", bodies, lambda body: fastavro.schemaless_reader(io.BytesIO(body), parsed, None))
    result["conversation_event_bytes"] = len(codec.encode(conversation[0]))
    measure("conversation_encode_decode", [c.model_dump() for c in conversation], records("ConversationReceived"))
    measure("conversation_with_models", conversation, models)
    result["triaged_event_bytes"] = len(codec.encode(triaged[0]))
    measure("triaged_with_models", triaged, models, count=max(1, events // 10))
    for topic, (before, after) in event_sizes(codec).items():
        result[f"bytes {topic}"] = f"{before} -> {after}" if before != after else str(after)
    result["bytes_note"] = "embedding carried past triage -> as sent now (the drafter clears it)"
    result["goal"] = ">= 100,000 envelope-sized events/s (encode+decode, one core)"
    return result
