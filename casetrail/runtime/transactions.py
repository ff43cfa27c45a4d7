"""One transactional producer per worker (Kafka transactions, KIP-98 / KIP-447).

Everything a worker writes for a batch of input records — outputs, dead
letters, table changelog records — and the batch's input offsets go into one
transaction, so they become visible (to ``read_committed`` consumers) and
committed together, or not at all. The consumer's group metadata travels with
the offsets (KIP-447), so a worker that lost its partitions in a rebalance
cannot commit them: the broker fences it.

``commit`` tells the caller what happened instead of raising for the normal
faults: a retriable error (broker briefly away) is retried here; an error that
needs an abort (a record the broker refused, a fenced generation, a transaction
timed out) aborts and returns the delivery errors so the caller can roll its
state back and find the record responsible; a fatal error (another worker took
this transactional id) raises ``FatalProducerError``: the process must stop.

The producer counts the records of its open transaction per topic and hands the count to
``on_committed`` once that transaction committed (a record of a committed transaction was
acknowledged: the commit flushes and fails otherwise); an aborted or replaced transaction's count
is dropped. So ``casetrail_events_out_total`` counts what became visible to ``read_committed``
consumers, once, on every path that commits (a batch, a timer tick, a task's own ``produce``):
a batch aborted and handled again counts its events once (runtime/after_commit.py says the same
for handlers' own counters).

The blocking transactional calls run under a watchdog: librdkafka's
``send_offsets_to_transaction`` can ignore its timeout and block for good when
the group coordinator went away (librdkafka #5456 and #5511, open; seen here
after a broker restart mid-batch). A call that outlives its timeout is treated
as unanswered: the producer is abandoned (kept referenced, never destroyed
while a call is inside it) and replaced, and the new producer's
``init_transactions`` fences the abandoned transaction.

That hang has a cause that can be seen coming: librdkafka keeps the group coordinator in a
per-client cache, and after the client lost every broker (a broker outage) that entry can name a
decommissioned broker (``casetrail.runtime.coordinator_cache``). The producer is therefore renewed
before it sends offsets again once it lost its cluster; the watchdog is left for what is not seen
coming (a broker removed from a running cluster decommissions it too, without an outage).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from casetrail.runtime.coordinator_cache import CoordinatorCache

log = logging.getLogger("casetrail.runtime")

# A record the broker (or client) will never accept as it is: retrying cannot help.
PERMANENT_PRODUCE_ERRORS = frozenset({
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError.INVALID_RECORD,
    KafkaError.RECORD_LIST_TOO_LARGE,
    KafkaError.INVALID_MSG_SIZE,
    KafkaError.INVALID_MSG,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError._INVALID_ARG,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
})
RETRY_PAUSE_SECONDS = 0.5
# How long past its own timeout a transactional call may run before the watchdog gives up on it.
WATCHDOG_GRACE_SECONDS = 5.0
# How often a waiting call checks whether its client lost the cluster meanwhile (then it is given up).
WATCH_INTERVAL_SECONDS = 0.5


class FatalProducerError(RuntimeError):
    """The producer cannot continue (fenced by a newer instance, or a fatal client error)."""


class CallHung(Exception):
    """A transactional call did not return within its timeout plus the watchdog's grace."""


class CallStranded(CallHung):
    """A transactional call was given up because its client lost the cluster during it: what it waits for
    is a decommissioned broker (``casetrail.runtime.coordinator_cache``)."""


class OutputRefused(Exception):
    """The client refused a record before it reached the broker (e.g. larger than allowed)."""

    def __init__(self, error: KafkaError):
        super().__init__(error.str())
        self.error = error


@dataclass
class CommitOutcome:
    committed: bool
    delivery_errors: list[KafkaError] = field(default_factory=list)
    abort_reason: Optional[str] = None

    @property
    def permanent_error(self) -> Optional[KafkaError]:
        """A delivery error retrying will not fix, if the abort was caused by one."""
        for error in self.delivery_errors:
            if error.code() in PERMANENT_PRODUCE_ERRORS:
                return error
        return None


class TransactionalProducer:
    """A confluent-kafka producer with one open transaction at a time, begun lazily."""

    def __init__(self, config: dict, on_committed: Callable[[Mapping[str, int]], None], *,
                 operation_timeout: float = 30.0):
        self._config = config
        self._generation = 0  # which client is current: an older one's error reports are ignored
        self._coordinator = CoordinatorCache.EMPTY
        self._producer = self._client()
        self._on_committed = on_committed  # records per topic of each transaction that committed
        self._timeout = operation_timeout
        self._open = False
        self._delivery_errors: list[KafkaError] = []
        self._written: Counter[str] = Counter()  # records per topic in the open transaction
        self._abandoned: list[Producer] = []  # producers with a hung call inside: never destroyed
        self._init_transactions()

    def _client(self) -> Producer:
        """A new librdkafka client (nothing cached yet) whose error reports reach ``_client_error``."""
        self._generation += 1
        generation = self._generation
        self._coordinator = CoordinatorCache.EMPTY
        return Producer({**self._config, "error_cb": lambda error: self._client_error(error, generation)})

    def _client_error(self, error: KafkaError, generation: int) -> None:
        if generation != self._generation:
            return
        before = self._coordinator
        self._coordinator = before.client_error(error.code())
        if self._coordinator is not before:
            log.warning("producer lost every broker; it is renewed before it sends offsets again "
                        "(its cached group coordinator may be a decommissioned broker)",
                        extra={"error": error.name()})

    def _renew_if_coordinator_stale(self) -> bool:
        """Serve the client's pending reports; renew it if its group coordinator may be stale (True)."""
        self._producer.poll(0)
        if not self._coordinator.needs_renewal:
            return False
        log.warning("renewing the producer: it lost its cluster since it last sent offsets",
                    extra={"in_transaction": self._open})
        self._replace()
        return True

    def _coordinator_lost(self) -> bool:
        """Serve the client's reports (its error_cb); True once its group coordinator may be stale."""
        self._producer.poll(0)
        return self._coordinator.needs_renewal

    def _bounded(self, call: Callable, *args, give_up: Callable[[], bool] = lambda: False):
        """``call(*args)`` on a helper thread, given up (``CallHung``) after the timeout plus a grace, or as soon
        as ``give_up()`` says it cannot complete."""
        outcome: dict = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = call(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="transaction-call", daemon=True).start()
        name = getattr(call, "__name__", "transactional call")
        deadline = time.monotonic() + self._timeout + WATCHDOG_GRACE_SECONDS
        while not done.wait(max(0.0, min(WATCH_INTERVAL_SECONDS, deadline - time.monotonic()))):
            if give_up():
                raise CallStranded(name)
            if time.monotonic() >= deadline:
                raise CallHung(name)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    @property
    def in_transaction(self) -> bool:
        return self._open

    def begin(self) -> None:
        if not self._open:
            self._renew_if_coordinator_stale()
            self._producer.begin_transaction()
            self._open = True
            self._delivery_errors = []
            self._written = Counter()

    def produce(self, topic: str, value: Optional[bytes], key: Optional[bytes], headers: Optional[list] = None,
                partition: Optional[int] = None) -> None:
        self.begin()
        kwargs = {"key": key, "value": value, "headers": headers, "on_delivery": self._delivered}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self._producer.produce(topic, **kwargs)
                break
            except BufferError:  # local queue full: let deliveries drain, then try again
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise OutputRefused(exc.args[0]) from None
        self._written[topic] += 1
        self._producer.poll(0)

    def _delivered(self, error: Optional[KafkaError], message) -> None:
        if error is not None:
            self._delivery_errors.append(error)

    def commit(self, offsets: list[TopicPartition], group_metadata=None) -> CommitOutcome:
        """Commit the open transaction (with ``offsets`` when given); abort it on an abortable error."""
        if not self._open and not offsets:
            return CommitOutcome(True)
        if self._open and offsets:
            errors = list(self._delivery_errors)
            if self._renew_if_coordinator_stale():  # the open transaction is fenced by the new client
                return CommitOutcome(False, errors, "offsets: cluster lost during the transaction; producer renewed")
        self.begin()
        stage = "offsets"
        try:
            if offsets:
                self._coordinator = self._coordinator.sending_offsets()
                self._bounded(self._producer.send_offsets_to_transaction, offsets, group_metadata, self._timeout,
                              give_up=self._coordinator_lost)
                self._coordinator = self._coordinator.offsets_sent()
            stage = "commit"
            self._bounded(self._producer.commit_transaction, self._timeout)
            self._open = False
            written, self._written = self._written, Counter()
            if written:
                self._on_committed(written)
            return CommitOutcome(True)
        except CallStranded as stranded:
            errors = list(self._delivery_errors)
            log.warning("transactional call given up: its client lost every broker during the call; "
                        "abandoning the producer", extra={"call": str(stranded), "stage": stage})
            self._replace(abandon=True)
            return CommitOutcome(False, errors, f"{stage}: cluster lost during the call")
        except CallHung as hung:
            errors = list(self._delivery_errors)
            log.warning("transactional call hung past its timeout; abandoning the producer",
                        extra={"call": str(hung), "stage": stage})
            self._replace(abandon=True)
            return CommitOutcome(False, errors, f"{stage}: hung")
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.fatal():
                self._open = False
                raise FatalProducerError(error.str()) from None
            if error.txn_requires_abort() or not error.retriable():
                return self._abort(error)
            # Unanswered (broker away, coordinator moving). Calling the transactional API again after
            # a timeout was seen to block past its timeout once the broker came back, so the producer
            # is replaced instead: the new one's init_transactions fences this transaction (the
            # broker aborts it) and the caller handles the records again.
            errors = list(self._delivery_errors)
            log.warning("transaction commit not acknowledged; replacing the producer",
                        extra={"error": error.name(), "stage": stage})
            self._replace()
            return CommitOutcome(False, errors, f"{stage}: {error.name()}")

    def _replace(self, *, abandon: bool = False) -> None:
        old = self._producer
        if abandon:  # a call is still inside it: touching or destroying it could block or crash
            self._abandoned.append(old)
        else:
            try:
                old.purge(in_queue=True, in_flight=True)  # their transaction is aborted by the fence below
            except KafkaException:
                pass
        self._producer = self._client()
        self._open = False
        self._delivery_errors = []
        self._written = Counter()  # nothing of the replaced producer's transaction becomes visible
        self._init_transactions()

    def _init_transactions(self) -> None:
        while True:
            try:
                # fences (aborts) a previous instance's open transaction
                self._bounded(self._producer.init_transactions, self._timeout)
                return
            except CallHung:
                log.warning("init_transactions hung past its timeout; trying a new producer")
                self._abandoned.append(self._producer)
                self._producer = self._client()
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.fatal() or not error.retriable():
                    raise FatalProducerError(error.str()) from None
                log.warning("transactional producer not initialised yet; retrying", extra={"error": error.name()})
                time.sleep(RETRY_PAUSE_SECONDS * 2)

    def abort(self, reason: str = "requested") -> CommitOutcome:
        if not self._open:
            return CommitOutcome(False, abort_reason=reason)
        return self._abort(None, reason)

    def _abort(self, error: Optional[KafkaError], reason: Optional[str] = None) -> CommitOutcome:
        try:
            self._bounded(self._producer.abort_transaction, self._timeout)
            # abort waits for the in-flight requests; serve their delivery reports now, so the
            # refused record's own error (e.g. MSG_SIZE_TOO_LARGE) is known to the caller
            self._producer.poll(0)
        except CallHung:
            self._replace(abandon=True)  # the new producer's fence aborts the transaction
        except KafkaException as exc:
            abort_error: KafkaError = exc.args[0]
            if abort_error.fatal():
                self._open = False
                raise FatalProducerError(abort_error.str()) from None
            self._replace()  # the abort went unanswered: a new producer's fence aborts it
        errors = list(self._delivery_errors) + ([error] if error is not None else [])
        # After failed deliveries the idempotent sequence state can be left inconsistent
        # (OUT_OF_ORDER_SEQUENCE_NUMBER, then _STATE, was seen on the next transactions): start
        # the next transaction on a fresh producer. Aborts are rare; this costs one InitProducerId.
        self._replace()
        self._open = False
        self._delivery_errors = []
        why = reason or (error.name() if error is not None else "aborted")
        log.warning("transaction aborted", extra={"reason": why, "delivery_errors": [e.name() for e in errors]})
        return CommitOutcome(False, errors, why)

    def poll(self) -> None:
        self._producer.poll(0)

    def close(self) -> None:
        if self._open:
            self.abort("shutdown")
        self._producer.flush(self._timeout)
