"""``casetrail bench delivery``: how fast delivery writes decisions to a (local, fake) platform.

1. **Throughput per core** — the delivery engine (plan, ledger, attempt window,
   lane, adapter, receipt) over N outbound replies against the fake platforms
   running in a separate process; deliveries per CPU-second of this process
   (= per core), and per wall second.
2. **Added latency** — the delivery service as a process on the real broker:
   routed decisions and outbound replies published at a steady rate; for each
   effect, from the event's ``occurred_at`` (set when published) to the
   platform's 2xx (the receipt's ``delivered_at``): p50 / p99.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from casetrail.events import ConversationReceived, ProducerInfo
from casetrail.settings import REPO_ROOT

PRODUCER = ProducerInfo(service="bench", version="1")
TENANT = "acme-shop"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def _start_fakes():
    from casetrail_tools.fake_platforms import free_port

    port, smtp = free_port(), free_port()
    process = subprocess.Popen([sys.executable, "-m", "casetrail_tools.fake_platforms", "--port", str(port),
                                "--smtp-port", str(smtp)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    process.stdout.readline()  # "fake platforms on ..." once listening
    return process, f"http://127.0.0.1:{port}", smtp


def _cases(n: int, run: str, *, escalate_every: int = 0):
    from casetrail_tools.benchmarks.routed_cases import routed_cases

    return routed_cases(n, run, tenant=TENANT, escalate_every=escalate_every)


def engine_throughput(n: int = 2000) -> dict:
    from casetrail_tools.fake_platforms import delivery_config_yaml, delivery_secrets_env
    from services.delivery.config import load_tenant
    from services.delivery.engine import DeliveryEngine
    from services.delivery.ledger import AttemptWindow

    class Journal:
        async def amark(self, key):
            return None

        async def awrite(self, key, mark):
            return None

    fakes, url, smtp = _start_fakes()
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{TENANT}.yaml"
            path.write_text(delivery_config_yaml(TENANT, url, smtp, rate_per_minute=10**7))
            config = load_tenant(path, env=delivery_secrets_env(TENANT), secrets=Path(folder) / "none")
        replies = [outcome.replies[0] for _, outcome in _cases(n, uuid.uuid4().hex[:6])]
        engine = DeliveryEngine({TENANT: config}, {}, {}, Journal(), PRODUCER, window=AttemptWindow(reserve=1000))

        async def run() -> int:
            delivered = 0
            for offset, reply in enumerate(replies):
                work = await engine.on_event(reply, partition_key="bench:0", offset=offset)
                delivered += sum(r.outcome.value == "delivered" for r in work.receipts)
            await engine.close()
            return delivered

        wall, cpu = time.perf_counter(), time.process_time()
        delivered = asyncio.run(run())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        fakes.terminate()
        fakes.wait(10)
    return {"deliveries": delivered, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "deliveries_per_cpu_second": round(delivered / cpu, 1), "deliveries_per_wall_second": round(delivered / wall, 1)}


def service_latency(rate: float = 20.0, seconds: float = 30.0) -> dict:
    """The delivery service on the broker: publish at ``rate`` conversations/s, read the receipts."""
    from confluent_kafka import Producer

    from casetrail import topics
    from casetrail.codec import AvroCodec
    from casetrail.settings import kafka_settings
    from casetrail.topic_admin import apply_topics, resolved_name
    from casetrail.topics import ALL_TOPICS
    from casetrail_tools import broker
    from casetrail_tools.fake_platforms import delivery_config_yaml, delivery_secrets_env, free_port
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.support.kafka import consume_until_quiet

    bootstrap = broker.start(progress=lambda line: None)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    kafka_settings.cache_clear()
    prefix = f"bench-delivery-{uuid.uuid4().hex[:6]}."
    apply_topics(ALL_TOPICS, prefix=prefix)
    fakes, url, smtp = _start_fakes()
    folder = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    (folder / f"{TENANT}.yaml").write_text(delivery_config_yaml(TENANT, url, smtp, rate_per_minute=10**6))
    port = free_port()
    env = {**os.environ, "CASETRAIL_TOPIC_PREFIX": prefix, "CASETRAIL_HTTP_PORT": str(port),
           "CASETRAIL_DELIVERY_CONFIG_DIR": str(folder), "CASETRAIL_DATA_DIR": str(folder / "data"),
           "CASETRAIL_DELIVERY_SECRETS_DIR": str(folder / "none"), "CASETRAIL_CREATE_TOPICS": "false",
           "CASETRAIL_LOG_LEVEL": "WARNING", **delivery_secrets_env(TENANT)}
    service = subprocess.Popen([sys.executable, "-m", "casetrail.cli", "run", "delivery"], cwd=REPO_ROOT, env=env,
                               stdout=open(folder / "delivery.log", "wb"), stderr=subprocess.STDOUT)
    codec = AvroCodec()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        cases = _cases(int(rate * seconds), uuid.uuid4().hex[:6], escalate_every=2)
        producer = Producer(kafka_settings().producer_config(**{"linger.ms": 1}))
        names = {spec.name: resolved_name(spec, prefix) for spec in
                 (topics.CONVERSATIONS_RECEIVED, topics.DECISIONS_ROUTED, topics.REPLIES_OUTBOUND)}
        for received, _ in cases:
            producer.produce(names[topics.CONVERSATIONS_RECEIVED.name], codec.encode(received), key=received.conversation_id)
        producer.flush(30)
        cpu_before = _cpu_seconds(service.pid)
        started = time.monotonic()
        for i, (_, outcome) in enumerate(cases):
            while time.monotonic() < started + i / rate:
                time.sleep(0.002)
            now = dt.datetime.now(dt.timezone.utc)
            decision = outcome.decision.model_copy(update={"occurred_at": now})
            producer.produce(names[topics.DECISIONS_ROUTED.name], codec.encode(decision), key=decision.conversation_id)
            for reply in outcome.replies:
                reply = reply.model_copy(update={"occurred_at": now})
                producer.produce(names[topics.REPLIES_OUTBOUND.name], codec.encode(reply), key=reply.conversation_id)
            producer.poll(0)
        producer.flush(30)
        records = consume_until_quiet([resolved_name(topics.DELIVERY_RECEIPTS, prefix)], quiet=5.0, timeout=300)
        cpu = _cpu_seconds(service.pid) - cpu_before
    finally:
        service.terminate()
        service.wait(30)
        fakes.terminate()
        fakes.wait(10)
    receipts = [codec.decode(m.value()) for m in records]
    delivered = [r for r in receipts if r.outcome.value == "delivered"]
    latencies = [r.latency_ms for r in delivered if r.latency_ms is not None]
    by_effect = {}
    for effect in sorted({r.effect.value for r in delivered}):
        values = [r.latency_ms for r in delivered if r.effect.value == effect]
        by_effect[effect] = {"n": len(values), "p50_ms": _percentile(values, 0.5), "p99_ms": _percentile(values, 0.99)}
    return {"rate_conversations_per_s": rate, "seconds": seconds, "effects_delivered": len(delivered),
            "failed": sum(r.outcome.value == "failed" for r in receipts),
            "p50_ms": _percentile(latencies, 0.5) if latencies else None,
            "p99_ms": _percentile(latencies, 0.99) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
            "by_effect": by_effect, "delivery_cpu_seconds": round(cpu, 2),
            "effects_per_delivery_cpu_second": round(len(delivered) / cpu, 1) if cpu else None}


def _cpu_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks
