"""``casetrail bench pipeline --rate R --duration S``: all six services on one
broker, a load generator publishing realistic tickets at a fixed rate into the
intake topic, and the latency from each ticket's publication to its routed
decision (record timestamps, so nothing is decoded on the measuring path).

Beside it, the same number of hops (intake → received → triaged → drafted →
verified → routed: five) through a plain confluent-kafka consume→produce chain
on the same broker at the same rate, so the ratio to the broker's own limit is
reported. Writes JSON and a PNG of latency and throughput over time.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from confluent_kafka import Consumer, Producer

from casetrail_tools.benchmarks.pipeline_figures import (HOP_OUTPUTS, Join, first_minute, hop_latencies, hops_by_minute,
                                                         joined_worker_figures, percentile, steady_state)
from casetrail_tools.intake_publisher import IntakePublisher, ticket_from_line
from casetrail.settings import kafka_settings
from casetrail.topic_admin import apply_topics
from casetrail.topics import DEADLETTER, DECISIONS_ROUTED, REPLIES_OUTBOUND, TopicSpec

TENANT = "acme-shop"
Progress = Callable[[str], None]

# Ticket texts as customers write them, per locale; the generator varies order
# numbers and customers so duplicate detection does not short-circuit the load.
TEXTS = {
    "en": ["Hi, where is my order {n}? The tracking has not moved for three days.",
           "How do I change the delivery address for order {n}?",
           "I would like to return the jacket from order {n}, it is too small.",
           "My card payment for order {n} was declined twice, what should I do?",
           "I cannot log in to my account, the password reset email never arrives."],
    "de": ["Hallo, wo bleibt meine Bestellung {n}? Die Sendungsverfolgung zeigt nichts Neues.",
           "Wie kann ich mein Passwort ändern?",
           "Ich möchte die Schuhe aus Bestellung {n} zurückgeben, sie passen nicht."],
    "fr": ["Bonjour, où en est ma commande {n} ? Je ne l'ai toujours pas reçue.",
           "Je voudrais retourner l'article de la commande {n}, il ne me convient pas."],
    "es": ["Hola, ¿dónde está mi pedido {n}? No ha llegado todavía.",
           "No puedo iniciar sesión en mi cuenta, ¿cómo restablezco la contraseña?"],
    "lt": ["Sveiki, kur mano užsakymas {n}? Jo vis dar negavau.",
           "Kaip galiu pakeisti slaptažodį savo paskyroje?"],
}


def _ticket_line(i: int, run: str, rng: random.Random) -> tuple[str, str]:
    locale = rng.choice(list(TEXTS))
    text = rng.choice(TEXTS[locale]).format(n=40000 + i)
    external_id = f"{run}-{i}"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    payload = {"external_id": external_id, "channel": "chat", "locale": locale, "updated_at": now,
               "customer": {"id": f"{run}-cust-{i}", "tier": "standard", "lifetime_value": 300.0},
               "messages": [{"id": f"{external_id}-m1", "author": "customer", "sent_at": now, "text": text}]}
    return external_id, json.dumps({"source": "generic", "tenant": TENANT, "payload": payload})


@dataclass
class _Watch:
    """Routed decisions and outbound replies by record key (the conversation id), undecoded."""

    routed_at: dict[str, float] = field(default_factory=dict)
    #: the first record of each conversation on each stage's output topic: stage -> key -> timestamp (s)
    stage_at: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    routed_count: Counter = field(default_factory=Counter)
    outbound_count: Counter = field(default_factory=Counter)
    dead_letters: int = 0


def _watch(prefix: str, watch: _Watch, stop: threading.Event) -> None:
    consumer = Consumer({**kafka_settings().consumer_config(f"bench-watch-{uuid.uuid4().hex[:6]}"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    routed, outbound, dead = (f"{prefix}{t.name}" for t in (DECISIONS_ROUTED, REPLIES_OUTBOUND, DEADLETTER))
    stages = {f"{prefix}{topic.name}": stage for stage, topic in HOP_OUTPUTS}
    consumer.subscribe(sorted({routed, outbound, dead, *stages}))  # the router's topic is both
    while not stop.is_set():
        for message in consumer.consume(1000, 0.2):
            if message.error():
                continue
            key = (message.key() or b"").decode()
            if message.topic() in stages:
                watch.stage_at[stages[message.topic()]].setdefault(key, message.timestamp()[1] / 1000)
            if message.topic() == routed:
                watch.routed_count[key] += 1
                watch.routed_at.setdefault(key, message.timestamp()[1] / 1000)
            elif message.topic() == outbound:
                watch.outbound_count[key] += 1
            elif message.topic() == dead:
                watch.dead_letters += 1
    consumer.close()


def _generate(rate: float, duration: float, prefix: str, run: str) -> dict[str, float]:
    """Publish at a fixed rate; returns conversation id -> publication time."""
    from casetrail.events.identity import conversation_id

    publisher = IntakePublisher(prefix, connect_timeout=30.0)  # the clock starts with the first ticket, not the client
    rng = random.Random(7)
    sent: dict[str, float] = {}
    started = time.monotonic()
    total = int(rate * duration)
    for i in range(total):
        target = started + i / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        external_id, line = _ticket_line(i, run, rng)
        publisher.publish(ticket_from_line(json.loads(line), TENANT))
        sent[conversation_id(TENANT, "generic", external_id)] = time.time()
    publisher.flush()
    return sent


def _plain_chain(rate: float, duration: float, hops: int, prefix: str) -> dict:
    """The broker's own limit for the same topology: byte passthrough loops, one per hop."""
    topics = [TopicSpec(f"plain.hop{i}", "conversation_id", None, "plain chain hop") for i in range(hops + 1)]
    apply_topics(topics, prefix=prefix)
    names = [f"{prefix}{t.name}" for t in topics]
    stop = threading.Event()
    config = kafka_settings().librdkafka_config()

    def hop(source: str, sink: str) -> None:
        consumer = Consumer({**config, "group.id": f"plain-{uuid.uuid4().hex[:6]}", "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
        producer = Producer(kafka_settings().producer_config(**{"linger.ms": 1}))
        consumer.subscribe([source])
        while not stop.is_set():
            batch = [m for m in consumer.consume(200, 0.05) if not m.error()]
            for message in batch:
                producer.produce(sink, message.value(), key=message.key())
            if batch:
                producer.flush(10)
                consumer.commit(asynchronous=False)
        consumer.close()

    threads = [threading.Thread(target=hop, args=(names[i], names[i + 1]), daemon=True) for i in range(hops)]
    for thread in threads:
        thread.start()
    time.sleep(5)  # let the loops join their groups
    arrivals: dict[str, float] = {}
    sent: dict[str, float] = {}

    def sink_reader() -> None:
        consumer = Consumer({**config, "group.id": f"plain-sink-{uuid.uuid4().hex[:6]}", "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
        consumer.subscribe([names[-1]])
        while not stop.is_set():
            for message in consumer.consume(500, 0.1):
                if not message.error():
                    arrivals.setdefault(message.key().decode(), message.timestamp()[1] / 1000)
        consumer.close()

    reader = threading.Thread(target=sink_reader, daemon=True)
    reader.start()
    producer = Producer(kafka_settings().producer_config(**{"linger.ms": 1}))
    payload = os.urandom(1500)  # about a ConversationReceived's size
    started = time.monotonic()
    for i in range(int(rate * duration)):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        key = f"k{i}"
        producer.produce(names[0], payload, key=key.encode())
        producer.poll(0)
        sent[key] = time.time()
    producer.flush(30)
    deadline = time.monotonic() + 30
    while len(arrivals) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    latencies = [arrivals[k] - sent[k] for k in sent if k in arrivals]
    return {
        "hops": hops,
        "delivered": len(latencies),
        "sent": len(sent),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
    }


class NotJoinable(ValueError):
    """``--join`` names no service, or one that runs a single worker."""


def check_joinable(service: Optional[str]) -> None:
    """Raises ``NotJoinable`` unless ``service`` is None or a service that can run several workers."""
    from casetrail_tools.pipeline_harness import SERVICES, SINGLE_WORKER

    if service is not None and (service not in SERVICES or service in SINGLE_WORKER):
        raise NotJoinable(f"--join {service!r}: choose one of {', '.join(s for s in SERVICES if s not in SINGLE_WORKER)}")


def run_pipeline_benchmark(rate: float, duration: float, *, plot: Optional[Path] = None, progress: Progress = print,
                           plain: bool = True, workers: int = 1, join: Optional[str] = None,
                           keep_topics: bool = False) -> dict:
    """The run's figures; its latency plot is drawn to ``plot`` (not without the ``plot`` extra).

    A broker the run had to start is stopped when it ends (done, failed or Ctrl-C); a configured cluster
    (``KAFKA_BOOTSTRAP_SERVERS``) or a broker that was already running is left running. The topics the run
    created under its own prefix are deleted once its figures are taken, unless ``keep_topics`` (a run that
    fails keeps them, beside its services' logs).

    ``join``: a service of which one more worker is started halfway through the load (a pod joining a
    running cluster); its figures are under ``joined_worker``."""
    from casetrail_tools import broker

    check_joinable(join)

    with broker.used_for_run(progress) as in_use:
        result = _run(rate, duration, in_use.bootstrap, plot=plot, progress=progress, plain=plain, workers=workers,
                      join=join, keep_topics=keep_topics)
        result["broker_started_for_run"] = in_use.started_here
        return result


def _run(rate: float, duration: float, bootstrap: str, *, plot: Optional[Path], progress: Progress, plain: bool,
         workers: int, join: Optional[str] = None, keep_topics: bool = False) -> dict:
    from casetrail_tools.pipeline_harness import Pipeline, prepare_run

    prepared = prepare_run("benchpipe", progress=progress, bootstrap=bootstrap)
    run, prefix, data_dir, env = prepared.run_id, prepared.prefix, prepared.data_dir, prepared.env
    pipeline = Pipeline(prefix=prefix, log_dir=data_dir / "logs", env=env, port_offset=50, workers=workers)
    watch, stop = _Watch(), threading.Event()
    watcher = threading.Thread(target=_watch, args=(prefix, watch, stop), daemon=True)
    pipeline.start()
    try:
        pipeline.wait_ready(progress=progress)
        cpu_at_ready = pipeline.cpu_seconds()
        watcher.start()
        progress(f"publishing {int(rate * duration)} tickets at {rate}/s for {duration:.0f}s ...")
        joining = Join(join, at_s=duration / 2) if join else None
        joiner = threading.Thread(target=_join_worker, args=(pipeline, joining, time.time(), stop, progress), daemon=True)
        if joining:
            joiner.start()
        sent = _generate(rate, duration, prefix, run)
        drain_deadline = time.monotonic() + 60
        while time.monotonic() < drain_deadline and len(set(sent) & set(watch.routed_at)) < len(sent):
            if not watcher.is_alive():  # its traceback is on stderr; figures without it would read as "undecided"
                raise RuntimeError("the benchmark's topic watcher stopped; no latency can be measured")
            time.sleep(0.5)
        if joining:
            joiner.join(timeout=1.0)  # wait_ready's own timeout bounds it
        lag_note = "all decided" if len(set(sent) & set(watch.routed_at)) == len(sent) else "drain timed out"
        cpu_before_load = cpu_at_ready
        cpu_after = pipeline.cpu_seconds()
    finally:
        stop.set()
        codes = pipeline.stop()
    latencies = sorted((watch.routed_at[c] - t, t) for c, t in sent.items() if c in watch.routed_at)
    values = [lat for lat, _ in latencies]
    decided = len(values)
    first, last = (min(sent.values()), max(sent.values())) if sent else (0, 0)
    result = {
        "benchmark": "pipeline",
        "rate_per_s": rate,
        "duration_s": duration,
        "workers_per_service": workers,
        "tickets_sent": len(sent),
        "decided": decided,
        # Not decided when the 60 s drain ended: a backlog when the rate exceeds capacity,
        # not a loss (the fault runs count losses, after draining everything).
        "undecided_after_drain": len(sent) - decided,
        "duplicate_decisions": sum(n - 1 for c, n in watch.routed_count.items() if c in sent and n > 1),
        "duplicate_sends": sum(n - 1 for c, n in watch.outbound_count.items() if c in sent and n > 1),
        "dead_letters": watch.dead_letters,
        "latency_p50_ms": round(percentile(values, 50) * 1000, 1) if values else None,
        "latency_p95_ms": round(percentile(values, 95) * 1000, 1) if values else None,
        "latency_p99_ms": round(percentile(values, 99) * 1000, 1) if values else None,
        # The first seconds include connection set-up and first fetches in every service;
        # reported separately so the steady state is visible too.
        **steady_state(latencies, first, skip_seconds=5.0),
        # Load starts the moment every service reports ready: a service that is ready but not
        # warm shows here (issue 21 item 6: within 2x of the steady-state p99).
        **first_minute(latencies, first),
        "sustained_decisions_per_s": round(decided / max(1e-9, (max(watch.routed_at.values(), default=first) - first)), 1)
        if decided else 0.0,
        "drain": lag_note,
        "service_exit_codes": codes,
        # CPU seconds each service spent on the load (excluding start-up), per decided ticket
        # where a ticket's time goes, service by service (the previous record to this one's)
        **hop_latencies(sent, watch.stage_at),
        **hops_by_minute(sent, watch.stage_at, first),
        "cpu_ms_per_ticket": {name: round((cpu_after[name] - cpu_before_load.get(name, 0.0)) * 1000 / max(1, decided), 1)
                              for name in cpu_after},
        "goal": "p50 <= 150 ms and p99 <= 1 s at 50 tickets/s for 5 minutes",
    }
    if joining:
        result["joined_worker"] = joined_worker_figures(joining, latencies, sent, watch.stage_at)
        # its start-up CPU is in its service's cpu_ms_per_ticket
    if plain:
        progress("plain confluent-kafka chain, same hops and rate ...")
        result["plain_chain"] = _plain_chain(rate, min(duration, 60), 5, prefix)
        if result["plain_chain"]["p50_ms"] and result["latency_p50_ms"]:
            result["p50_ratio_to_plain_chain"] = round(result["latency_p50_ms"] / result["plain_chain"]["p50_ms"], 1)
    if plot is not None and _plot(latencies, first, plot, rate):
        result["plot"] = str(plot)
    if keep_topics:
        result["topics_kept"] = prefix
    else:
        from casetrail.topic_admin import delete_run_topics

        progress(f"deleted this run's {len(delete_run_topics(prefix))} topics ({prefix}*; --keep-topics keeps them)")
    return result


def _join_worker(pipeline, joining: Join, load_started: float, stop: threading.Event, progress: Progress) -> None:
    """Start one more worker of ``joining.service`` ``joining.at_s`` after the load started; note when it was ready."""
    if stop.wait(max(0.0, load_started + joining.at_s - time.time())):
        joining.error = "the run ended before the worker was to join"
        return
    try:
        joining.handle = pipeline.add_worker(joining.service)
        joining.started_at = time.time()
        pipeline.start_service(joining.handle)
        pipeline.wait_ready(names=(joining.handle,))
        joining.ready_at = time.time()
        progress(f"  {joining.handle} joined: ready {joining.ready_at - joining.started_at:.1f}s after its start")
    except Exception as exc:  # noqa: BLE001 - reported in the figures; the run goes on
        joining.error = f"{type(exc).__name__}: {exc}"[:2000]


def _plot(latencies: list[tuple[float, float]], start: float, path: Path, rate: float) -> bool:
    """Draw the latency plot; False (and nothing drawn) without the ``plot`` extra."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_second: dict[int, list[float]] = defaultdict(list)
    for latency, sent_at in latencies:
        by_second[int(sent_at - start)].append(latency * 1000)
    seconds = sorted(by_second)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.plot(seconds, [percentile(by_second[s], 50) for s in seconds], label="p50")
    top.plot(seconds, [percentile(by_second[s], 99) for s in seconds], label="p99")
    top.set_ylabel("intake → routed (ms)")
    top.legend()
    top.set_title(f"casetrail pipeline at {rate:g} tickets/s")
    decided_per_second: dict[int, int] = defaultdict(int)
    for latency, sent_at in latencies:
        decided_per_second[int(sent_at + latency - start)] += 1
    ticks = range(0, max(decided_per_second, default=0) + 1)
    bottom.plot(list(ticks), [decided_per_second.get(t, 0) for t in ticks], label="routed decisions per second")
    bottom.axhline(rate, linestyle="--", color="grey", label="offered load")
    bottom.set_ylabel("tickets/s")
    bottom.set_xlabel("seconds since start")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
