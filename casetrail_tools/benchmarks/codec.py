"""``casetrail bench codec``: Avro encode+decode throughput on one core."""

from __future__ import annotations

import time
from typing import Callable

from casetrail_tools.benchmarks.sample_events import sample_conversation_received, sample_envelope_event
from casetrail.codec import AvroCodec


def _rate(codec: AvroCodec, name: str, records: list[dict], events: int) -> float:
    started = time.perf_counter()
    for i in range(events):
        codec.decode_record(codec.encode_record(name, records[i % len(records)]))
    return events / (time.perf_counter() - started)


def _model_rate(codec: AvroCodec, samples: list, events: int) -> float:
    started = time.perf_counter()
    for i in range(events):
        codec.decode(codec.encode(samples[i % len(samples)]))
    return events / (time.perf_counter() - started)


def run_codec_benchmark(events: int, progress: Callable[[str], None] = lambda line: None) -> dict:
    """Encode+decode round trips through the single-object framing, one thread.

    "Envelope-sized" is an SlaEvent: the envelope plus three fields (~150 bytes).
    A ConversationReceived with one message (~275 bytes) is reported beside it,
    and both again including pydantic model construction and validation.
    """
    codec = AvroCodec()
    envelope = [sample_envelope_event(i) for i in range(1000)]
    conversation = [sample_conversation_received(i) for i in range(1000)]

    def measured(what: str, measure: Callable[[], float]) -> int:
        progress(f"{what}: {events:,} round trips ...")
        return round(measure())

    return {
        "benchmark": "codec",
        "events": events,
        "framing": "single-object (C3 01 + CRC-64-AVRO fingerprint)",
        "envelope_event_bytes": len(codec.encode(envelope[0])),
        "envelope_encode_decode_per_s": measured(
            "envelope records", lambda: _rate(codec, "SlaEvent", [e.model_dump() for e in envelope], events)),
        "envelope_with_models_per_s": measured("envelope models", lambda: _model_rate(codec, envelope, events)),
        "conversation_event_bytes": len(codec.encode(conversation[0])),
        "conversation_encode_decode_per_s": measured(
            "conversation records",
            lambda: _rate(codec, "ConversationReceived", [c.model_dump() for c in conversation], events)),
        "conversation_with_models_per_s": measured("conversation models", lambda: _model_rate(codec, conversation, events)),
        "goal": ">= 100,000 envelope-sized events/s (encode+decode, one core)",
    }
