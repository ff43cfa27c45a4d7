"""Scale-out run (issue 21): the same tickets through one worker per service and through three,
with a worker SIGKILLed and started again mid-run; the decisions must be the same.

One pipeline (``pipeline_harness``), started once: first only worker 0 of every service runs and
decides one copy of the tickets; then workers 1 and 2 join (Kafka moves partitions and their
tables to them) and a second copy of the same tickets, under other ticket ids, is decided while
one worker after another is killed with SIGKILL and started again. Each copy is sent in two
waves: tickets (one delivered twice, one customer writing twice, one writing the same thing in
two conversations), then — once the first wave is decided and answered — follow-ups: a new
message in some of those conversations and a new conversation of the same customer on the same
topic (re-contacts wherever the first was answered).

A digest over each copy's outcomes, with ticket ids replaced by the ticket's label, is compared:
(conversation, action, queue, reply) per routed decision, the replies sent, the re-contacts
(reopen / same topic, and whom they name), triage's customer-history signals (duplicate of,
contacts in window) and how many conversations ingest emitted per ticket (a redelivery: one).
Beside it, per copy: every ticket decided (0 lost) and no event id twice on any output topic,
no reply idempotency key twice (0 doubled).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

from confluent_kafka import Consumer

from casetrail.codec import AvroCodec
from casetrail.figures import JSON_HELP, write_figures
from casetrail.settings import kafka_settings
from casetrail.topics import (
    CONVERSATIONS_RECEIVED, CONVERSATIONS_TRIAGED, DECISIONS_ROUTED, RECONTACTS, REPLIES_OUTBOUND,
)
from casetrail_tools.benchmarks.pipeline import TEXTS
from casetrail_tools.pipeline_harness import SERVICES, SINGLE_WORKER, Pipeline, prepare_run

TENANT = "acme-shop"
Progress = Callable[[str], None]
OUTPUT_TOPICS = (CONVERSATIONS_RECEIVED, RECONTACTS, CONVERSATIONS_TRIAGED, DECISIONS_ROUTED, REPLIES_OUTBOUND)


@dataclass(frozen=True)
class Ticket:
    label: str  # the same in every copy: what the digest names it by
    customer: str  # label of the customer
    subject: str
    texts: tuple[str, ...]  # the customer's messages, oldest first
    locale: str = "en"

    def line(self, copy: str, first_at: dt.datetime, last_at: Optional[dt.datetime] = None) -> dict:
        """The intake line of this ticket in ``copy``: the newest message at ``last_at`` (else ``first_at``),
        earlier ones at ``first_at``."""
        newest = len(self.texts) - 1
        stamp = (last_at or first_at).strftime("%Y-%m-%dT%H:%M:%SZ")
        messages = [{"id": f"{copy}-{self.label}-m{i}", "author": "customer", "text": text,
                     "sent_at": (last_at if i == newest and last_at else first_at).strftime("%Y-%m-%dT%H:%M:%SZ")}
                    for i, text in enumerate(self.texts)]
        payload = {"external_id": external_id(copy, self.label), "channel": "chat", "locale": self.locale,
                   "subject": self.subject, "updated_at": stamp,
                   "customer": {"id": f"{copy}-{self.customer}", "tier": "standard", "lifetime_value": 300.0},
                   "messages": messages}
        return {"source": "generic", "tenant": TENANT, "payload": payload}


def external_id(copy: str, label: str) -> str:
    return f"{copy}-{label}"


def waves(regular: int, follow: int) -> list[list[Ticket]]:
    """The tickets of one copy in waves, each sent once the one before is decided and answered. A customer
    appears at most once per wave: the order of two conversations of one customer (which triage's
    history counts and compares) must not depend on which partition was faster.

    1. ``regular`` tickets of distinct customers, and the first conversation of two more customers;
    2. for the first ``follow`` of them a new message in the conversation (a reopen once answered); the two
       customers write again (the same question: a duplicate for triage; another one: a second contact);
    3. for those ``follow`` customers a new conversation on the same subject (a return once answered).
    """
    rng = random.Random(21)
    regulars = []
    for i in range(regular):
        locale = rng.choice(list(TEXTS))
        regulars.append(Ticket(f"r{i}", f"c{i}", f"Order {40000 + i}",
                               (rng.choice(TEXTS[locale]).format(n=40000 + i),), locale))
    jacket = "I would like to return the jacket from order 41002, it is too small."
    first = regulars + [
        Ticket("twice-1", "twice", "Order 41001", ("Hi, where is my order 41001? The tracking has not moved for three days.",)),
        Ticket("same-1", "same", "Return", (jacket,)),
    ]
    followed = regulars[:follow]
    second = [Ticket(t.label, t.customer, t.subject, t.texts + ("It still has not been sorted out, please help.",),
                     t.locale) for t in followed] + [
        Ticket("twice-2", "twice", "Password", ("I cannot log in to my account, the password reset email never arrives.",)),
        Ticket("same-2", "same", "Return again", (jacket,)),
    ]
    third = [Ticket(f"{t.label}-return", t.customer, t.subject, t.texts, t.locale) for t in followed]
    return [first, second, third]


@dataclass
class CopyOutcome:
    """What one copy of the tickets came to, ticket ids replaced by labels."""

    decisions: list[list] = field(default_factory=list)  # [label, action, queue, reply text]
    replies: list[list] = field(default_factory=list)  # [label, kind, body]
    recontacts: list[list] = field(default_factory=list)  # [label, original label, answered by]
    history: list[list] = field(default_factory=list)  # [label, duplicate-of label, contacts in window]
    received: list[list] = field(default_factory=list)  # [label, conversations emitted by ingest]
    lost: list[str] = field(default_factory=list)  # labels sent but never decided
    doubled: dict[str, int] = field(default_factory=dict)  # topic -> ids seen more than once

    def digest(self) -> str:
        rows = {"decisions": sorted(self.decisions), "replies": sorted(self.replies),
                "recontacts": sorted(self.recontacts), "history": sorted(self.history),
                "received": sorted(self.received)}
        return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


@dataclass
class ScaleOutReport:
    tickets_per_copy: int = 0  # intake records per copy (both waves, the redelivery included)
    workers: int = 3
    faults: list[str] = field(default_factory=list)
    one_worker: CopyOutcome = field(default_factory=CopyOutcome)
    several_workers: CopyOutcome = field(default_factory=CopyOutcome)

    @property
    def same_decisions(self) -> bool:
        return self.one_worker.digest() == self.several_workers.digest()

    def ok(self) -> bool:
        return (self.same_decisions and not self.one_worker.lost and not self.several_workers.lost
                and not self.one_worker.doubled and not self.several_workers.doubled)

    def differences(self) -> dict[str, dict[str, list]]:
        """Per signal, the rows only one side has (empty when the digests agree)."""
        found = {}
        for name in ("decisions", "replies", "recontacts", "history", "received"):
            one = {json.dumps(r) for r in getattr(self.one_worker, name)}
            several = {json.dumps(r) for r in getattr(self.several_workers, name)}
            if one != several:
                found[name] = {"one_worker_only": sorted(one - several)[:10],
                               "several_workers_only": sorted(several - one)[:10]}
        return found

    def lines(self) -> list[str]:
        one, several = self.one_worker, self.several_workers
        return [
            f"intake records per copy:  {self.tickets_per_copy}",
            f"faults injected:          {', '.join(self.faults) or 'none'}",
            f"decisions (1 / {self.workers} workers):  {len(one.decisions)} / {len(several.decisions)}; replies "
            f"{len(one.replies)} / {len(several.replies)}; re-contacts {len(one.recontacts)} / {len(several.recontacts)}; "
            f"duplicates flagged by triage {sum(1 for h in one.history if h[1])} / {sum(1 for h in several.history if h[1])}",
            f"digest, 1 worker:         {one.digest()}",
            f"digest, {self.workers} workers:        {several.digest()}",
            f"lost:                     {len(one.lost)} / {len(several.lost)}",
            f"doubled:                  {one.doubled or 0} / {several.doubled or 0}",
            f"differences:              {json.dumps(self.differences()) if not self.same_decisions else 'none'}",
            f"verdict:                  {'PASS' if self.ok() else 'FAIL'}",
        ]


def run_scale_out(*, regular: int = 8, follow: int = 4, workers: int = 3, kill: tuple[str, ...] = ("ingest",),
                  port_offset: int = 40, progress: Progress = print, drain_timeout: float = 300.0) -> ScaleOutReport:
    """``kill``: the services one of whose workers is SIGKILLed (and started again) while the second copy runs."""
    from casetrail_tools.intake_publisher import IntakePublisher, ticket_from_line
    from casetrail.events.identity import conversation_id

    prepared = prepare_run("scale-out", progress=progress)
    pipeline = Pipeline(prefix=prepared.prefix, log_dir=prepared.data_dir / "logs", env=prepared.env,
                        port_offset=port_offset, workers=workers)
    if not 0 < follow < regular:
        raise ValueError("follow-ups need 0 < follow < regular (the last regular ticket is the redelivered one)")
    copy_waves = waves(regular, follow)
    redelivered = copy_waves[0][regular - 1]  # a regular ticket without follow-ups: delivered twice, decided once
    report = ScaleOutReport(tickets_per_copy=sum(len(w) for w in copy_waves) + 1, workers=workers)
    first_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=30)

    def conversations(copy: str, tickets: list[Ticket]) -> dict[str, str]:
        return {conversation_id(TENANT, "generic", external_id(copy, t.label)): t.label for t in tickets}

    def publish(copy: str, tickets: list[Ticket], last_at: Optional[dt.datetime], faults: list[Callable[[], None]]) -> None:
        """Publish ``tickets``; the wave is cut into one more piece than there are ``faults``, and each fault
        is injected once the piece before it is on the intake topic (records in flight)."""
        publisher = IntakePublisher(prepared.prefix)
        piece = -(-len(tickets) // (len(faults) + 1))
        pending = list(faults)
        for index, ticket in enumerate(tickets, 1):
            publisher.publish(ticket_from_line(ticket.line(copy, first_at, last_at), TENANT))
            if ticket is redelivered:  # the platform delivers the same update again
                publisher.publish(ticket_from_line(ticket.line(copy, first_at, last_at), TENANT))
            if pending and index % piece == 0:
                if publisher.flush(60):
                    raise RuntimeError("intake records not acknowledged")
                pending.pop(0)()
        if publisher.flush(60):
            raise RuntimeError("intake records not acknowledged")
        for fault in pending:
            fault()

    def run_copy(copy: str, faults: list[Callable[[], None]]) -> CopyOutcome:
        labels: dict[str, str] = {}
        expected: Counter = Counter()
        for number, wave in enumerate(copy_waves, 1):
            progress(f"copy {copy}: wave {number} ({len(wave)} tickets)")
            # messages after the first wave are newer than every answer so far (a reopen must follow the answer)
            last_at = None if number == 1 else dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=1)
            publish(copy, wave, last_at, faults if number == 1 else [])
            in_wave = conversations(copy, wave)
            labels.update(in_wave)
            expected.update(in_wave.keys())  # a reopened conversation is decided once more
            _wait_decided(prepared.prefix, dict(expected), drain_timeout, progress)
            running = tuple(name for name, handle in pipeline.handles.items() if handle.process is not None)
            pipeline.wait_ready(names=running, timeout=300)  # every running worker back before the next wave
        return _collect(prepared.prefix, labels, dict(expected))

    first_workers = tuple(name for name, handle in pipeline.handles.items()
                          if handle.worker_id == "w0" or handle.service in SINGLE_WORKER)
    try:
        for name in first_workers:
            pipeline.start_service(name)
        pipeline.wait_ready(progress=progress, names=first_workers, timeout=300)
        report.one_worker = run_copy("one", [])
        joining = tuple(name for name in pipeline.handles if name not in first_workers)
        progress(f"starting {len(joining)} more workers")
        for name in joining:
            pipeline.start_service(name)
        pipeline.wait_ready(progress=progress, names=joining, timeout=300)

        restarted: list[str] = []

        def killer(service: str) -> Callable[[], None]:
            def kill_and_start_again() -> None:
                # the worker killed before must be back first: one worker down at a time, the next one with
                # the records of the last piece still in flight
                if restarted:
                    pipeline.wait_ready(names=(restarted[-1],), timeout=300)
                victim = f"{service}-1" if f"{service}-1" in pipeline.handles else service
                progress(f"SIGKILL {victim} and start it again")
                pipeline.restart(victim)
                report.faults.append(f"kill -9 {victim}")
                restarted.append(victim)
            return kill_and_start_again

        report.several_workers = run_copy("three", [killer(service) for service in kill])
    finally:
        pipeline.stop()
    return report


def _records(prefix: str, topics, handle: Callable, stop: Callable[[], bool], timeout: float,
             quiet: float = 0.0) -> None:
    """Read ``topics`` (read_committed) from the beginning into ``handle(topic, message)`` until ``stop()`` and
    ``quiet`` seconds without a record, or ``timeout``."""
    consumer = Consumer(kafka_settings().consumer_config(f"scale-out-{uuid.uuid4().hex[:6]}", **{
        "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    consumer.subscribe([f"{prefix}{t.name}" for t in topics])
    deadline = time.monotonic() + timeout
    last_record = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = [m for m in consumer.consume(1000, 0.5) if not m.error()]
            if batch:
                last_record = time.monotonic()
            for message in batch:
                handle(message.topic().removeprefix(prefix), message)
            if stop() and time.monotonic() - last_record >= quiet:
                return
    finally:
        consumer.close()


def _wait_decided(prefix: str, expected: dict[str, int], timeout: float, progress: Progress) -> None:
    """Until every conversation has its expected number of routed decisions (or the timeout: the
    collection then reports what is missing), and the replies and re-contacts have settled."""
    routed: Counter = Counter()
    started = time.monotonic()

    def count(topic: str, message) -> None:
        if topic == DECISIONS_ROUTED.name:
            routed[(message.key() or b"").decode()] += 1

    _records(prefix, (DECISIONS_ROUTED, REPLIES_OUTBOUND, RECONTACTS), count,
             lambda: all(routed[c] >= n for c, n in expected.items()), timeout, quiet=5.0)
    missing = sum(1 for c, n in expected.items() if routed[c] < n)
    progress(f"  decided in {time.monotonic() - started:.0f}s" + (f"; {missing} still undecided" if missing else ""))


def _collect(prefix: str, labels: dict[str, str], expected: dict[str, int]) -> CopyOutcome:
    codec = AvroCodec()
    outcome = CopyOutcome()
    ids: dict[str, Counter] = {t.name: Counter() for t in OUTPUT_TOPICS}
    routed: Counter = Counter()

    def label(conversation: Optional[str]) -> Optional[str]:
        return labels.get(conversation or "", None if conversation is None else "?")

    def handle(topic: str, message) -> None:
        if (message.key() or b"").decode() not in labels:
            return  # the other copy
        event = codec.decode(message.value())
        name = label(event.conversation_id)
        if topic == REPLIES_OUTBOUND.name:
            ids[topic][event.idempotency_key] += 1
            outcome.replies.append([name, event.kind.value, event.body])
            return
        ids[topic][event.event_id] += 1
        if topic == DECISIONS_ROUTED.name:
            routed[event.conversation_id] += 1
            outcome.decisions.append([name, event.action.value, event.queue, event.reply_text])
        elif topic == RECONTACTS.name:
            outcome.recontacts.append([name, label(event.original_conversation_id), event.answered_by])
        elif topic == CONVERSATIONS_TRIAGED.name:
            outcome.history.append([name, label(event.triage.duplicate_of), event.triage.contacts_in_window])
        elif topic == CONVERSATIONS_RECEIVED.name:
            outcome.received.append(name)

    _records(prefix, OUTPUT_TOPICS, handle, lambda: True, timeout=120, quiet=5.0)
    outcome.received = [[name, n] for name, n in Counter(outcome.received).items()]
    outcome.lost = sorted(labels[c] for c, n in expected.items() if routed[c] < n)
    outcome.doubled = {topic: sum(1 for n in counted.values() if n > 1)
                       for topic, counted in ids.items() if any(n > 1 for n in counted.values())}
    return outcome


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regular", type=int, default=40, help="regular tickets per copy (besides the history cases)")
    parser.add_argument("--follow", type=int, default=12, help="regular tickets that get a reopen and a return")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill", default=",".join(s for s in SERVICES if s not in SINGLE_WORKER),
                        help="services one of whose workers is killed mid-run (comma-separated)")
    parser.add_argument("--port-offset", type=int, default=40)
    parser.add_argument("--json", type=Path, metavar="PATH", help=JSON_HELP)
    args = parser.parse_args()
    report = run_scale_out(regular=args.regular, follow=args.follow, workers=args.workers,
                           kill=tuple(s for s in args.kill.split(",") if s), port_offset=args.port_offset)
    for line in report.lines():
        print(line)
    write_figures(args.json, {**asdict(report), "digests": [report.one_worker.digest(), report.several_workers.digest()],
                              "verdict": "PASS" if report.ok() else "FAIL"})
    sys.exit(0 if report.ok() else 1)


if __name__ == "__main__":
    main()
