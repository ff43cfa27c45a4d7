"""Watch every event topic of a running pipeline and join what happened to each
ticket: intake → received → triaged → drafted → verified → routed → sent.

Used by the demo (its table), the end-to-end tests (their assertions), the
pipeline benchmark (latency from record timestamps) and the fault tests
(lost and duplicated outputs). It only reads; it never changes the pipeline.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

from confluent_kafka import Consumer

from casetrail.codec import AvroCodec, DecodeError
from casetrail.settings import kafka_settings
from casetrail.topics import (
    CONVERSATIONS_RECEIVED,
    CONVERSATIONS_TRIAGED,
    DEADLETTER,
    DECISIONS_ROUTED,
    DRAFTS_PROPOSED,
    DRAFTS_VERIFIED,
    INTAKE,
    RECONTACTS,
    REPLIES_OUTBOUND,
    SLA_EVENTS,
    TopicSpec,
)

WATCHED: tuple[TopicSpec, ...] = (
    INTAKE, CONVERSATIONS_RECEIVED, CONVERSATIONS_TRIAGED, DRAFTS_PROPOSED, DRAFTS_VERIFIED,
    DECISIONS_ROUTED, REPLIES_OUTBOUND, RECONTACTS, SLA_EVENTS, DEADLETTER,
)


@dataclass
class Seen:
    event: object
    timestamp: float  # record timestamp, seconds


@dataclass
class ConversationTrail:
    conversation_id: str
    intake: Optional[Seen] = None
    received: list[Seen] = field(default_factory=list)
    triaged: list[Seen] = field(default_factory=list)
    drafted: list[Seen] = field(default_factory=list)
    verified: list[Seen] = field(default_factory=list)
    routed: list[Seen] = field(default_factory=list)
    outbound: list[Seen] = field(default_factory=list)
    recontacts: list[Seen] = field(default_factory=list)

    @property
    def decision(self):
        return self.routed[-1].event if self.routed else None

    def first_response_seconds(self) -> Optional[float]:
        """Intake record → routed decision record (reply queued or human notified)."""
        if self.intake is None or not self.routed:
            return None
        return min(r.timestamp for r in self.routed) - self.intake.timestamp


class PipelineObserver:
    """Consumes the watched topics under ``prefix`` in a background thread."""

    def __init__(self, prefix: str, topics: tuple[TopicSpec, ...] = WATCHED, keep_events: bool = True):
        self.prefix = prefix
        self._codec = AvroCodec()
        self._topics = [f"{prefix}{t.name}" for t in topics]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._keep = keep_events
        self.intake_by_event_id: dict[str, Seen] = {}
        self.trails: dict[str, ConversationTrail] = {}
        self.dead_letters: list[Seen] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.undecodable: int = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "PipelineObserver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def _run(self) -> None:
        consumer = Consumer({
            **kafka_settings().consumer_config(f"casetrail-observer-{uuid.uuid4().hex[:8]}"),
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
        })
        consumer.subscribe(self._topics)
        try:
            while not self._stop.is_set():
                for message in consumer.consume(500, 0.2):
                    if message.error():
                        continue
                    self._record(message.topic()[len(self.prefix):], message.value(), message.timestamp()[1] / 1000)
        finally:
            consumer.close()

    def _record(self, topic: str, value: bytes, timestamp: float) -> None:
        try:
            event = self._codec.decode(value)
        except DecodeError:
            with self._lock:
                self.undecodable += 1
            return
        seen = Seen(event, timestamp)
        with self._lock:
            self.counts[topic] += 1
            if topic == INTAKE.name:
                self.intake_by_event_id[event.event_id] = seen
                return
            if topic == DEADLETTER.name:
                self.dead_letters.append(seen)
                return
            conversation_id = getattr(event, "conversation_id", None)
            if conversation_id is None:
                return
            trail = self.trails.setdefault(conversation_id, ConversationTrail(conversation_id))
            if topic == CONVERSATIONS_RECEIVED.name:
                trail.received.append(seen)
                trail.intake = trail.intake or self.intake_by_event_id.get(event.causation_id or "")
            elif topic == CONVERSATIONS_TRIAGED.name:
                trail.triaged.append(seen)
            elif topic == DRAFTS_PROPOSED.name:
                trail.drafted.append(seen)
            elif topic == DRAFTS_VERIFIED.name:
                trail.verified.append(seen)
            elif topic == DECISIONS_ROUTED.name:
                trail.routed.append(seen)
            elif topic == REPLIES_OUTBOUND.name:
                trail.outbound.append(seen)
            elif topic == RECONTACTS.name:
                trail.recontacts.append(seen)

    # -- queries ------------------------------------------------------------------
    def snapshot(self) -> dict[str, ConversationTrail]:
        with self._lock:
            # intake may have been read after its conversation's first event
            for trail in self.trails.values():
                if trail.intake is None and trail.received:
                    trail.intake = self.intake_by_event_id.get(trail.received[0].event.causation_id or "")
            return dict(self.trails)

    def trail_for_intake(self, intake_event_id: str) -> Optional[ConversationTrail]:
        for trail in self.snapshot().values():
            if trail.received and any(r.event.causation_id == intake_event_id for r in trail.received):
                return trail
        return None

    def wait_for(self, predicate, timeout: float, poll: float = 0.5) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(poll)
        return predicate(self)
