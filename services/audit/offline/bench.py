"""``casetrail bench audit``: rebuild throughput and lineage-query latency on a generated log.

What is measured, exactly:

1. a log of N events (whole conversations through every event type, see
   ``synthetic.py``) is Avro-encoded and produced to a dedicated topic on the
   real broker (3 partitions, keyed by conversation id) — not timed;
2. **rebuild**: a fresh embedded SQLite store, a fresh consumer group reading
   the topic from the beginning to its end offset, decoding, reducing,
   staging (in ``--workers`` processes, each into its own scratch SQLite
   file), then hash-chaining and summarising every conversation and writing
   each finished row once (the same worker processes; see
   ``services/audit/bulk.py``) — timed end to end,
   events/s = events / (read+store seconds + chain seconds); the CPU seconds of
   the rebuild (this process and its workers) are reported too, because wall
   time on a shared machine says little;
3. **lineage query**: ``AuditStore.lineage`` (+ serialising the auditor view
   to JSON) for random conversations — p50/p95/p99.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

import orjson


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process, and of its children that have exited."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run_bench(*, events: int, workers: int, queries: int, keep_topic: bool, echo: Callable[[str], None]) -> dict:
    from casetrail_tools.benchmarks.machine import machine_facts
    from casetrail.codec import AvroCodec
    from casetrail.topic_admin import apply_topics
    from casetrail.topics import TopicSpec
    from services.audit.offline import synthetic
    from services.audit.api import present
    from services.audit.offline.log_topic import delete_topic, produce_log
    from services.audit.replay import replay
    from services.audit.store import AuditStore

    machine = machine_facts()
    echo("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()) + f", load average {_load()}")
    topic = f"casetrail-bench-audit-{uuid.uuid4().hex[:8]}"
    apply_topics([TopicSpec(topic, "conversation_id", None, "audit benchmark log", partitions=3)])
    codec = AvroCodec()
    started = time.perf_counter()

    def encoded():
        for name, record in synthetic.event_log(events):
            key = record.get("conversation_id") or record.get("tenant") or ""
            yield key.encode(), codec.encode_record(name, record)

    echo(f"generating and producing ~{events:,} events to {topic} ...")
    produced = produce_log(topic, encoded(), progress=echo)
    produce_seconds = time.perf_counter() - started
    echo(f"produced {produced:,} events in {produce_seconds:.1f}s (not part of the figures)")

    workdir = Path(tempfile.mkdtemp(prefix="casetrail-audit-bench-"))
    store = AuditStore(f"sqlite:///{workdir / 'audit.sqlite'}", bulk=True)
    store.migrate()
    load_before = _load()
    cpu_before = _cpu_seconds()
    stats = replay(store, [topic], workers=workers, progress=echo)
    cpu_after = _cpu_seconds()  # the replay's worker processes have exited: their time is counted
    cpu_main, cpu_workers = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    cpu = cpu_main + cpu_workers
    load_after = _load()
    rate = stats.records / stats.seconds
    echo(f"rebuild: {stats.records:,} events in {stats.seconds:.1f}s (read+store {stats.seconds_read:.1f}s,"
         f" chain+summarise {stats.seconds_chain:.1f}s) = {rate:,.0f} events/s  [goal >= 20,000]")
    echo(f"rebuild CPU: {cpu:.1f}s ({cpu_main:.1f}s in this process, {cpu_workers:.1f}s in its {workers} worker(s))"
         f" = {stats.records / cpu:,.0f} events per CPU-second, {cpu / stats.records * 1e6:.0f} µs per event;"
         f" load average before {load_before}, after {load_after}")

    conv_ids = [row["conversation_id"] for row in store.search("acme-shop", limit=100_000)]
    conv_ids += [row["conversation_id"] for row in store.search("globex", limit=100_000)]
    rng = random.Random(1)
    latencies = []
    for _ in range(queries):
        cid = rng.choice(conv_ids)
        t0 = time.perf_counter()
        lineage = store.lineage(cid)
        orjson.dumps(present(lineage, "auditor", None))
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    echo(f"lineage query over {queries} random conversations: p50 {p(0.50):.2f} ms, p95 {p(0.95):.2f} ms,"
         f" p99 {p(0.99):.2f} ms, max {latencies[-1]:.2f} ms  [goal p99 <= 50 ms]")
    counts = store.counts()
    size_mb = sum(f.stat().st_size for f in workdir.glob("audit.sqlite*")) / 1e6  # with the WAL not yet checkpointed
    echo(f"store: {counts['events']:,} events, {counts['conversations']:,} conversations, {size_mb:,.0f} MB SQLite")
    result = {
        "events": stats.records,
        "workers": workers,
        "rebuild_seconds": round(stats.seconds, 2),
        "rebuild_read_store_seconds": round(stats.seconds_read, 2),
        "rebuild_chain_seconds": round(stats.seconds_chain, 2),
        "rebuild_events_per_second": round(rate),
        "rebuild_cpu_seconds": round(cpu, 2),
        "rebuild_cpu_seconds_main": round(cpu_main, 2),
        "rebuild_cpu_seconds_workers": round(cpu_workers, 2),
        "rebuild_events_per_cpu_second": round(stats.records / cpu),
        "lineage_p50_ms": round(p(0.50), 3),
        "lineage_p95_ms": round(p(0.95), 3),
        "lineage_p99_ms": round(p(0.99), 3),
        "lineage_mean_ms": round(statistics.fmean(latencies), 3),
        "store": counts,
        "store_mb": round(size_mb),
        "load_average_before_rebuild": load_before,
        "load_average_after_rebuild": load_after,
        "machine": machine,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    store.close()
    for f in workdir.iterdir():
        f.unlink()
    workdir.rmdir()
    if not keep_topic:
        delete_topic(topic)
    return result
