"""``casetrail bench hop``: one hop through a service on the casetrail runtime (one Kafka
transaction per polled batch, read_committed), beside a plain confluent-kafka
consume -> produce loop doing the same work (decode, re-encode, produce with
acks=all, commit after delivery, no transactions) on the same broker.

Throughput is measured from the output records' timestamps (first to last), so
start-up and rebalancing are not counted for either side.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Callable

from confluent_kafka import Consumer, Producer

from casetrail_tools.benchmarks.relay_service import RELAY_IN, RELAY_OUT
from casetrail_tools.benchmarks.sample_events import sample_conversation_received
from casetrail.codec import AvroCodec
from casetrail.settings import REPO_ROOT, kafka_settings
from casetrail.topic_admin import apply_topics

Progress = Callable[[str], None]


def _produce_inputs(topic: str, events: int) -> None:
    codec = AvroCodec()
    producer = Producer(kafka_settings().producer_config(**{"linger.ms": 20}))
    for i in range(events):
        event = sample_conversation_received(i)
        producer.produce(topic, codec.encode(event), key=event.conversation_id.encode())
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("inputs were not acknowledged")


def _count_outputs(topic: str, events: int, timeout: float) -> tuple[int, float]:
    """(records seen, seconds between first and last output timestamp)."""
    consumer = Consumer({
        **kafka_settings().consumer_config(f"bench-count-{uuid.uuid4().hex[:8]}"),
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    seen, first, last = 0, None, None
    deadline = time.monotonic() + timeout
    while seen < events and time.monotonic() < deadline:
        for message in consumer.consume(1000, 0.5):
            if message.error():
                continue
            seen += 1
            stamp = message.timestamp()[1] / 1000
            first = stamp if first is None else min(first, stamp)
            last = stamp if last is None else max(last, stamp)
    consumer.close()
    return seen, (last - first) if first is not None else 0.0


def _plain_loop(source: str, sink: str, events: int, timeout: float) -> None:
    codec = AvroCodec()
    config = kafka_settings().librdkafka_config()
    consumer = Consumer({**config, "group.id": f"bench-plain-{uuid.uuid4().hex[:8]}", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    producer = Producer(kafka_settings().producer_config(**{"linger.ms": 1}))
    consumer.subscribe([source])
    done, deadline = 0, time.monotonic() + timeout
    while done < events and time.monotonic() < deadline:
        batch = [m for m in consumer.consume(500, 0.5) if not m.error()]
        for message in batch:
            event = codec.decode(message.value())
            copy = event.model_copy(update={"event_id": f"plain-{event.event_id}", "causation_id": event.event_id})
            producer.produce(sink, codec.encode(copy), key=message.key())
        if batch:
            producer.flush(30)  # outputs acknowledged ...
            consumer.commit(asynchronous=False)  # ... before the inputs are committed
            done += len(batch)
    consumer.close()


def run_hop_benchmark(events: int, progress: Progress = print, timeout: float = 600.0) -> dict:
    prefix = f"benchhop-{uuid.uuid4().hex[:6]}."
    apply_topics([RELAY_IN, RELAY_OUT], prefix=prefix)
    plain_out = f"{prefix}plain.out"
    from casetrail.topics import TopicSpec

    apply_topics([TopicSpec("plain.out", "conversation_id", "ConversationReceived", "plain loop output")], prefix=prefix)
    source, runtime_sink = f"{prefix}{RELAY_IN.name}", f"{prefix}{RELAY_OUT.name}"
    progress(f"producing {events} input events to {source} ...")
    _produce_inputs(source, events)

    progress("plain confluent-kafka loop ...")
    _plain_loop(source, plain_out, events, timeout)
    plain_seen, plain_seconds = _count_outputs(plain_out, events, timeout)

    progress("service on the casetrail runtime ...")
    env = {**os.environ, "CASETRAIL_TOPIC_PREFIX": prefix, "CASETRAIL_HTTP_PORT": "8190",
           "CASETRAIL_LOG_LEVEL": "WARNING", "CASETRAIL_CREATE_TOPICS": "false"}
    process = subprocess.Popen([sys.executable, "-m", "casetrail_tools.benchmarks.relay_service"], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        runtime_seen, runtime_seconds = _count_outputs(runtime_sink, events, timeout)
    finally:
        process.terminate()
        process.wait(30)
    plain_rate = plain_seen / plain_seconds if plain_seconds else 0.0
    runtime_rate = runtime_seen / runtime_seconds if runtime_seconds else 0.0
    return {
        "benchmark": "hop",
        "events": events,
        "plain_confluent_kafka_events_per_s": round(plain_rate),
        "runtime_events_per_s": round(runtime_rate),
        "plain_us_per_event": round(1e6 / plain_rate) if plain_rate else None,
        "runtime_us_per_event": round(1e6 / runtime_rate) if runtime_rate else None,
        "plain_over_runtime_ratio": round(plain_rate / runtime_rate, 2) if runtime_rate else None,
        "plain_outputs": plain_seen,
        "runtime_outputs": runtime_seen,
        "goal": "runtime hop within 3x of the plain loop",
    }
