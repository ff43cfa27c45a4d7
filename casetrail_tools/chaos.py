"""Fault runs (``make chaos``; a short version runs inside ``make test``).

Under a steady load of valid tickets: SIGKILL each service in turn and restart
it, restart the broker, feed a stream of malformed records into the intake
topic, and send one valid ticket so large that a later stage's output is
refused by the broker. Then count: every valid ticket reaches a routed decision
(0 lost), no reply is sent twice (per idempotency key), every malformed record
is in the dead-letter topic with a reason, and the oversized ticket is
dead-lettered as ``output_unproducible`` by ingest, whose output was refused.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from confluent_kafka import Consumer, Producer

from casetrail.codec import AvroCodec, DecodeError
from casetrail.figures import JSON_HELP, write_figures
from casetrail_tools.pipeline_harness import SERVICES, Pipeline, prepare_run
from casetrail.settings import kafka_settings
from casetrail.topics import DEADLETTER, DECISIONS_ROUTED, INTAKE, REPLIES_OUTBOUND

TENANT = "acme-shop"
Progress = Callable[[str], None]


def malformed_records(run: str) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Records a misbehaving producer could send, each with the header that names a source."""
    def source(name: str) -> list[tuple[str, bytes]]:
        return [("casetrail-source", name.encode()), ("casetrail-tenant", TENANT.encode())]

    return [
        (b"{not json at all", source("generic")),
        (b"\xff\xfe\xfa invalid utf-8 \xc3\x28", source("generic")),
        (json.dumps({"external_id": f"{run}-m3"}).encode(), source("generic")),  # required fields missing
        (json.dumps({"hello": "world"}).encode(), source("no-such-system")),  # unknown source
        (b"", source("generic")),  # empty
        (b"x" * (3 * 1024 * 1024 // 2), source("generic")),  # over ingest's 1 MiB default
        (b"\x00\x00\x00\x00\x07garbage-with-confluent-magic", []),  # Avro framing without a registry
        (json.dumps({"external_id": f"{run}-m8", "customer": {"id": "c"}, "messages": [
            {"author": "customer", "sent_at": "2026-01-01T00:00:00Z", "html": "<div>" * 200_000}]}).encode(),
         source("generic")),  # an HTML bomb
    ]


def oversized_ticket(run: str) -> dict:
    """A valid ticket just under ingest's 1 MiB payload limit: ingest accepts it, but the conversation it
    makes (the redacted text plus the original sealed under the customer's key) is larger than the broker
    accepts on ``conversations.received.v1`` (1 MiB), so ingest's output is refused — the refused-output
    fault, reachable by any customer who writes more than about half a megabyte."""
    words = ("where", "is", "my", "order", "the", "parcel", "has", "not", "arrived", "please", "help")
    payload = {"external_id": f"{run}-oversized", "channel": "email", "locale": "en",
               "customer": {"id": f"{run}-cust-oversized"},
               "messages": [{"id": f"{run}-oversized-m1", "author": "customer", "sent_at": "2026-12-01T10:00:00Z",
                             "text": ""}]}
    room = 1024 * 1024 - 2048 - len(json.dumps(payload))
    sentence = " ".join(words) + ". "
    payload["messages"][0]["text"] = (sentence * (room // len(sentence) + 1))[:room]
    return {"source": "generic", "tenant": TENANT, "payload": payload}


@dataclass
class ChaosReport:
    tickets_sent: int = 0  # acknowledged by the intake topic (what the pipeline can be held to)
    republished: int = 0  # ... of which the load publisher never had acknowledged, sent again by a new one
    unaccepted: int = 0  # still not acknowledged after that: the run proves nothing about them (fails)
    decided: int = 0
    lost: list[str] = field(default_factory=list)
    duplicate_sends: int = 0
    outbound_records: int = 0
    malformed_sent: int = 0
    malformed_dead_lettered: int = 0
    oversized_sent: int = 0  # valid tickets whose output the broker refuses
    oversized_dead_lettered: int = 0  # ... found in the dead-letter topic as output_unproducible
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    supervised_restarts: list[str] = field(default_factory=list)
    replayed_intake_records: int = 0
    replay_consumed: bool = False  # ingest committed the intake topic to its end after the replay
    replies_after_replay: int = 0
    acknowledgements_after_replay: int = 0
    second_replies: int = 0  # answers sent twice, counted after the replay
    second_acknowledgements: int = 0

    def ok(self) -> bool:
        return (not self.lost and self.unaccepted == 0 and self.duplicate_sends == 0 and self.malformed_dead_lettered == self.malformed_sent
                and self.oversized_dead_lettered == self.oversized_sent
                and (self.replayed_intake_records == 0 or self.replay_consumed)
                and self.second_replies == 0 and self.second_acknowledgements == 0)

    def lines(self) -> list[str]:
        return [
            f"faults injected:          {', '.join(self.faults)}",
            f"valid tickets sent:       {self.tickets_sent}  (re-published after the load publisher stalled: "
            f"{self.republished})",
            f"never acknowledged:       {self.unaccepted}",
            f"reached a decision:       {self.decided}  (lost: {len(self.lost)})",
            f"outbound replies:         {self.outbound_records}  (sent twice: {self.duplicate_sends})",
            f"malformed records:        {self.malformed_sent}  (dead-lettered with a reason: {self.malformed_dead_lettered})",
            f"oversized ticket:         {self.oversized_sent}  (dead-lettered as output_unproducible: "
            f"{self.oversized_dead_lettered})",
            f"dead-letter reasons:      {json.dumps(self.dead_letter_reasons)}",
            f"supervised restarts:      {', '.join(self.supervised_restarts) or 'none'}",
            f"intake replayed from 0:   {self.replayed_intake_records} records; then {self.replies_after_replay} replies "
            f"({self.second_replies} second), {self.acknowledgements_after_replay} acknowledgements "
            f"({self.second_acknowledgements} second); ingest consumed the replay to the end: "
            f"{'yes' if self.replay_consumed else 'NO'}",
            f"verdict:                  {'PASS' if self.ok() else 'FAIL'}",
        ]


def run_chaos(
    *, rate: float = 5.0, pause: float = 10.0, restart_broker: bool = True, replay_intake: bool = True,
    outage_seconds: float = 30.0, progress: Progress = print,
) -> ChaosReport:
    from casetrail_tools import broker
    from casetrail_tools.intake_publisher import IntakePublisher, intake_key, ticket_from_line
    from casetrail.events.identity import conversation_id

    prepared = prepare_run("chaos", progress=progress)
    run, prefix, data_dir, env = prepared.run_id, prepared.prefix, prepared.data_dir, prepared.env
    # Only a broker casetrail started (pid file) can be restarted here; an external cluster is not ours to bounce.
    local_broker = broker.local_broker().pid() is not None
    pipeline = Pipeline(prefix=prefix, log_dir=data_dir / "logs", env=env, port_offset=70)
    report = ChaosReport()
    sent: dict[str, str] = {}
    stop_load = threading.Event()

    def load() -> None:
        from casetrail_tools.benchmarks.pipeline import _ticket_line
        import random

        rng = random.Random(11)
        publisher = IntakePublisher(prefix)
        # A ticket counts as sent once the intake topic acknowledged it: the pipeline cannot lose what
        # never reached Kafka. After a broker restart librdkafka's producer can stay stuck on stale
        # metadata ("new leader-1 not found in cache"; librdkafka #4976, open) with records queued, so
        # what is still unacknowledged at the end is sent again through a new producer, as an upstream
        # system retrying its own unacknowledged sends would (ingest deduplicates by intake key).
        unacknowledged: dict[str, tuple[str, object]] = {}

        def acknowledged(conversation: str, external_id: str):
            def report_delivery(err, _message) -> None:
                if err is None:
                    unacknowledged.pop(conversation, None)
                    sent[conversation] = external_id
            return report_delivery

        i = 0
        while not stop_load.is_set():
            external_id, line = _ticket_line(i, run, rng)
            ticket = ticket_from_line(json.loads(line), TENANT)
            conversation = conversation_id(TENANT, "generic", external_id)
            try:
                unacknowledged[conversation] = (external_id, ticket)
                publisher.publish(ticket, on_delivery=acknowledged(conversation, external_id))
            except BufferError:
                time.sleep(0.5)
                continue
            i += 1
            publisher.flush(0)
            time.sleep(1 / rate)
        publisher.flush(120)
        if unacknowledged:
            progress(f"warning: {len(unacknowledged)} load records were not acknowledged; "
                     "sending them again through a new producer")
            report.republished = len(unacknowledged)
            again = IntakePublisher(prefix)
            for conversation, (external_id, ticket) in list(unacknowledged.items()):
                again.publish(ticket, on_delivery=acknowledged(conversation, external_id))
            again.flush(60)
            report.unaccepted = len(unacknowledged)
            if unacknowledged:
                progress(f"warning: {len(unacknowledged)} load records still not acknowledged")

    def supervise() -> None:
        """Like a Kubernetes restart policy: a service that died on its own is started again."""
        for name, handle in pipeline.handles.items():
            if not handle.alive():
                report.supervised_restarts.append(name)
                pipeline.start_service(name)

    pipeline.start()
    try:
        pipeline.wait_ready(progress=progress)
        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        time.sleep(pause)
        for name in SERVICES:
            progress(f"SIGKILL {name} and restart it")
            pipeline.restart(name)
            report.faults.append(f"kill -9 {name}")
            pipeline.wait_ready(names=(name,), timeout=180)
            time.sleep(pause)
        if restart_broker and local_broker:
            progress(f"stopping the broker for {outage_seconds:.0f} s under load")
            broker.stop(progress=progress)
            time.sleep(outage_seconds)  # the load keeps coming: the publisher buffers and retries meanwhile
            broker.start_local(progress=progress)
            report.faults.append(f"broker outage {outage_seconds:.0f} s")
            time.sleep(pause)
            supervise()
            pipeline.wait_ready(timeout=180)
        elif restart_broker:
            report.faults.append("broker restart skipped (the broker was not started by casetrail)")
        progress("feeding malformed records")
        records = malformed_records(run)
        producer = Producer(kafka_settings().producer_config(**{"message.max.bytes": 5 * 1024 * 1024}))
        for value, headers in records:
            producer.produce(f"{prefix}{INTAKE.name}", value, key=f"malformed-{run}".encode(), headers=headers)
        producer.flush(30)
        report.malformed_sent = len(records)
        report.faults.append(f"{len(records)} malformed records")
        progress("sending a ticket whose conversation the broker refuses (over 1 MiB with its sealed original)")
        big = ticket_from_line(oversized_ticket(run), TENANT)
        oversized_publisher = IntakePublisher(prefix)
        oversized_publisher.publish(big)
        if oversized_publisher.flush(30):
            raise RuntimeError("the oversized ticket was not acknowledged by the intake topic")
        oversized = {intake_key(big)}  # ingest's input record is what gets dead-lettered
        report.oversized_sent = len(oversized)
        report.faults.append("1 ticket whose output is refused")
        time.sleep(pause)
        stop_load.set()
        loader.join(200)
        report.tickets_sent = len(sent)
        progress(f"draining: waiting for {len(sent)} decisions ...")
        _collect(prefix, sent, oversized, report, timeout=240, progress=progress, supervise=supervise)
        if replay_intake:
            progress("replaying the intake topic from offset 0 through the running pipeline")
            report.replayed_intake_records = replay_topic(f"{prefix}{INTAKE.name}")
            report.faults.append("intake replayed from offset 0")
            time.sleep(max(20.0, pause * 2))
            # "no second reply" only means something if the replay went through: ingest must have
            # committed the intake topic to its end (the last records are the malformed and oversized ones)
            report.replay_consumed = _wait_until_consumed(f"{prefix}casetrail-ingest", f"{prefix}{INTAKE.name}",
                                                          timeout=180, supervise=supervise)
            _count_replies_after_replay(prefix, report)
    finally:
        stop_load.set()
        pipeline.stop()
    return report


def _collect(prefix: str, sent: dict[str, str], oversized: set[str], report: ChaosReport, *, timeout: float,
             progress: Progress, supervise: Callable[[], None]) -> None:
    codec = AvroCodec()
    consumer = Consumer(kafka_settings().consumer_config(f"chaos-{uuid.uuid4().hex[:6]}", **{
        "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    routed, outbound, dead = (f"{prefix}{t.name}" for t in (DECISIONS_ROUTED, REPLIES_OUTBOUND, DEADLETTER))
    consumer.subscribe([routed, outbound, dead])
    decided: set[str] = set()
    sends: Counter = Counter()
    reasons: Counter = Counter()
    malformed_seen = 0
    refused: set[str] = set()
    deadline = time.monotonic() + timeout
    last_supervision = time.monotonic()
    while time.monotonic() < deadline:
        for message in consumer.consume(1000, 0.5):
            if message.error():
                continue
            if message.topic() == routed:
                decided.add((message.key() or b"").decode())
            elif message.topic() == outbound:
                try:
                    sends[codec.decode(message.value()).idempotency_key] += 1
                except DecodeError:
                    pass
            else:
                letter = codec.decode(message.value())
                reasons[letter.reason_code] += 1
                if letter.source_topic.endswith(INTAKE.name) and (letter.original_key or b"").startswith(b"malformed-"):
                    malformed_seen += 1
                key = (letter.original_key or b"").decode("utf-8", "replace")
                if letter.reason_code == "output_unproducible" and key in oversized:
                    refused.add(key)
        if set(sent) <= decided and malformed_seen >= report.malformed_sent and refused >= oversized:
            break
        if time.monotonic() - last_supervision > 10:
            supervise()
            last_supervision = time.monotonic()
    consumer.close()
    report.decided = len(set(sent) & decided)
    report.lost = sorted(sent[c] for c in set(sent) - decided)
    report.outbound_records = sum(sends.values())
    report.duplicate_sends = sum(n - 1 for n in sends.values() if n > 1)
    report.malformed_dead_lettered = malformed_seen
    report.oversized_dead_lettered = len(refused)
    report.dead_letter_reasons = dict(reasons)


def replay_topic(topic: str) -> int:
    """Read ``topic`` from offset 0 to its end and produce every record to it again, as an operator would."""
    from confluent_kafka import KafkaError, TopicPartition

    kafka = kafka_settings()
    consumer = Consumer(kafka.consumer_config(f"chaos-replay-{uuid.uuid4().hex[:6]}", **{
        "enable.partition.eof": True, "enable.auto.commit": False}))
    producer = Producer(kafka.producer_config(**{"message.max.bytes": 5 * 1024 * 1024, "linger.ms": 5}))
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions if ends[p] > 0])
    remaining, copied = {p for p in partitions if ends[p] > 0}, 0
    while remaining:
        for message in consumer.consume(500, 1.0):
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                continue
            if message.offset() >= ends[message.partition()]:
                remaining.discard(message.partition())  # what it copied itself: stop there
                continue
            producer.produce(topic, message.value(), message.key(), headers=message.headers() or [])
            producer.poll(0)
            copied += 1
    consumer.close()
    if producer.flush(60):
        raise RuntimeError("the replayed records were not all acknowledged")
    return copied


def _wait_until_consumed(group: str, topic: str, *, timeout: float, supervise: Callable[[], None]) -> bool:
    """True once ``group`` has committed every partition of ``topic`` up to its end (within ``timeout``)."""
    from confluent_kafka import TopicPartition

    consumer = Consumer(kafka_settings().consumer_config(group, **{"enable.auto.commit": False}))
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
            committed = {tp.partition: tp.offset for tp in
                         consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=30)}
            # the intake topic is written without transactions (no commit markers): done means equal
            if all(ends[p] == 0 or committed[p] >= ends[p] for p in partitions):
                return True
            supervise()
            time.sleep(2.0)
        return False
    finally:
        consumer.close()


def _count_replies_after_replay(prefix: str, report: ChaosReport) -> None:
    codec = AvroCodec()
    consumer = Consumer(kafka_settings().consumer_config(f"chaos-{uuid.uuid4().hex[:6]}", **{
        "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    consumer.subscribe([f"{prefix}{REPLIES_OUTBOUND.name}"])
    keys: Counter = Counter()
    kinds: dict[str, str] = {}
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 10:
        batch = [m for m in consumer.consume(1000, 0.5) if not m.error()]
        if batch:
            quiet_since = time.monotonic()
        for message in batch:
            reply = codec.decode(message.value())
            keys[reply.idempotency_key] += 1
            kinds[reply.idempotency_key] = reply.kind.value
    consumer.close()
    answers = [n for key, n in keys.items() if kinds[key] == "answer"]
    acknowledgements = [n for key, n in keys.items() if kinds[key] != "answer"]
    report.replies_after_replay, report.acknowledgements_after_replay = sum(answers), sum(acknowledgements)
    report.second_replies = sum(n - 1 for n in answers if n > 1)
    report.second_acknowledgements = sum(n - 1 for n in acknowledgements if n > 1)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--pause", type=float, default=20.0)
    parser.add_argument("--no-broker-restart", action="store_true")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the broker stays down under load")
    parser.add_argument("--json", type=Path, metavar="PATH", help=JSON_HELP)
    args = parser.parse_args()
    report = run_chaos(rate=args.rate, pause=args.pause, restart_broker=not args.no_broker_restart,
                        outage_seconds=args.outage)
    for line in report.lines():
        print(line)
    write_figures(args.json, {**asdict(report), "verdict": "PASS" if report.ok() else "FAIL"})
    sys.exit(0 if report.ok() else 1)


if __name__ == "__main__":
    main()
