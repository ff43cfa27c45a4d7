"""Replay dead-lettered records: put the original bytes back on their source topic.

An operator runs it once the cause is fixed (``retries_exhausted`` after a
dependency came back, ``unknown_tenant`` after a policy was added):
``casetrail deadletter replay --reason R --since T``. Replayed records carry the
original key, value and headers plus ``casetrail-replayed-from`` (the dead
letter's id); the ids the services derive from them are the ones a first pass
would have derived, so a record replayed twice still has one effect.

Sealed originals are opened through the key store; a dead letter whose key was destroyed (its
customer erased, or past the dead-letter retention) is counted as erased and not replayed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from confluent_kafka import Producer

from casetrail.events import DeadLetter
from casetrail.operations.deadletter_originals import OriginalState, open_original
from casetrail.operations.deadletter_topic import dead_letters
from casetrail.settings import kafka_settings

if TYPE_CHECKING:
    from casetrail.privacy.keystore import KeyStore

REPLAYED_FROM_HEADER = "casetrail-replayed-from"


@dataclass
class ReplayReport:
    scanned: int = 0
    replayed: int = 0
    erased: int = 0  # selected, but the original's key is destroyed: nothing to replay
    by_topic: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"dead letters scanned: {self.scanned}", f"replayed: {self.replayed}",
                f"erased (key destroyed, not replayed): {self.erased}",
                *(f"  {topic}: {count}" for topic, count in sorted(self.by_topic.items()))]


def select(letter: DeadLetter, reason: Optional[str], since: Optional[dt.datetime]) -> bool:
    """Whether a dead letter is one the operator asked for."""
    if reason is not None and letter.reason_code != reason:
        return False
    return since is None or letter.occurred_at >= since


def replay(reason: Optional[str], since: Optional[dt.datetime], *, dry_run: bool = False,
           progress: Callable[[str], None] = print, timeout: float = 30.0,
           topic_prefix: Optional[str] = None, keystore: Optional["KeyStore"] = None) -> ReplayReport:
    """Read the dead-letter topic to its end and re-produce the selected records to their source topics."""
    from casetrail.privacy.keystore import default_keystore

    keystore = keystore or default_keystore()
    producer = Producer(kafka_settings().producer_config(**{"linger.ms": 5}))
    report = ReplayReport()
    for letter in dead_letters(topic_prefix, timeout, purpose="replay"):
        report.scanned += 1
        if not select(letter, reason, since):
            continue
        original = open_original(letter, keystore)
        if original.state is OriginalState.erased:
            report.erased += 1
            continue
        report.replayed += 1
        report.by_topic[letter.source_topic] = report.by_topic.get(letter.source_topic, 0) + 1
        if dry_run:
            continue
        headers = [*letter.original_headers.items(), (REPLAYED_FROM_HEADER, letter.event_id.encode())]
        producer.produce(letter.source_topic, original.value, letter.original_key, headers=headers)
        producer.poll(0)
    if producer.flush(timeout):
        raise RuntimeError("not every replayed record was acknowledged by the broker")
    for line in report.lines():
        progress(line)
    return report
