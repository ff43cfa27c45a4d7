"""What a handler sees and returns: the processing contract every service codes against.

A processor is a function ``(event, ctx) -> list[Output]`` (plain or ``async``)
registered with ``Service.processor(source, input_type)``. It reads and writes
tables, returns the events to emit, and may ``ctx.dead_letter(...)`` the record
on purpose. The runtime makes the record's offset, its outputs, its dead
letters and its table writes one Kafka transaction.

A broadcast handler ``(event, ctx) -> None`` (``Service.broadcast(source, input_type)``)
sees every record of its topic in every worker; it changes only its own process
(a cache to invalidate), so it returns nothing and writes no table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional, Union

from casetrail.events.envelope import AvroRecord
from casetrail.topics import TopicSpec

if TYPE_CHECKING:
    from casetrail.runtime.service import Service


class RetryableError(Exception):
    """A transient fault (a dependency briefly away): retry the record with back-off.

    After the service's retry budget (``CASETRAIL_RETRY_ATTEMPTS``) the record is
    dead-lettered with reason code ``retries_exhausted``; an operator replays
    those with ``casetrail deadletter replay --reason retries_exhausted``.
    """


class NotYetDue(Exception):
    """This record's time has not come (a parked retry whose not-before lies ahead).

    The worker commits nothing of this record or of the later records of its partition,
    puts the partition back at this record and pauses it until ``due`` (epoch seconds);
    the worker's other partitions go on meanwhile. Raise it before writing any table or
    making any outside call: the record is handled again from the start when it is due.
    """

    def __init__(self, due: float):
        super().__init__(f"not due before {due:.3f}")
        self.due = due


@dataclass(frozen=True)
class Output:
    topic: TopicSpec
    event: AvroRecord
    key: Optional[str] = None  # default: the event's conversation_id
    headers: dict[str, bytes] = field(default_factory=dict)


@dataclass
class RecordContext:
    """Where the current record came from, and a way to dead-letter it on purpose."""

    service: "Service"
    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: bytes
    headers: dict[str, bytes]
    timestamp: Optional[float]
    # Whose record this is, once known (the worker reads it from a decoded event; a handler that
    # parses raw bytes says so with ``owned_by``): its dead letter is sealed with that customer's key.
    tenant: Optional[str] = None
    customer_id: Optional[str] = None
    _dead_letters: list[tuple[str, str, Optional[str]]] = field(default_factory=list)
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def owned_by(self, tenant: Optional[str], customer_id: Optional[str] = None) -> None:
        """The record belongs to ``tenant`` (and ``customer_id``): a dead letter of it is sealed with the
        customer's key, so erasing the customer makes it unreadable too."""
        self.tenant = tenant or self.tenant
        self.customer_id = customer_id or None

    def dead_letter(self, reason_code: str, reason: str, exception_type: Optional[str] = None) -> None:
        """Send this record to the dead-letter topic (with the handler's outputs) and move on.

        ``reason`` must not contain ticket text or personal data.
        """
        self._dead_letters.append((reason_code, reason, exception_type))

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once this record's transaction committed; dropped if it aborts, if the broker refuses
        it (a zombie's batch) or if the handler raises (runtime/after_commit.py). For metrics that count
        what the record made visible (events emitted, replies sent), not for work done (latency)."""
        self._after_commit.append(fn)


Handler = Callable[[Any, RecordContext], Union[list[Output], Awaitable[list[Output]]]]
# A broadcast handler changes only its own process (a cache, an index): every worker runs it.
BroadcastHandler = Callable[[Any, RecordContext], Optional[Awaitable[None]]]


@dataclass(frozen=True)
class Processor:
    source: TopicSpec
    input_type: Optional[type[AvroRecord]]
    handler: Handler
    concurrency: int = 1  # accepted for compatibility; records of a worker are handled in order


@dataclass(frozen=True)
class Broadcast:
    """A topic every worker reads whole, outside the group (``Service.broadcast``, runtime/broadcast.py)."""

    source: TopicSpec
    input_type: Optional[type[AvroRecord]]
    handler: BroadcastHandler


@dataclass
class Timer:
    seconds: float
    fn: Callable[[], Awaitable[None]]
    due: float = 0.0
