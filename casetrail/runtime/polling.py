"""Taking a batch of records without waiting for it to fill.

confluent-kafka's ``Consumer.consume(n, timeout)`` returns when it holds ``n`` messages *or* the
timeout has passed, so under light load every call waits the whole timeout: with a 100 ms poll
timeout each hop of the pipeline added up to 100 ms before its transaction even began, and a
ticket's seven hops (ingest's two, triage, drafter, verifier, router, delivery) put p50 at
~1.3 s at 20 tickets/s (docs/benchmarks.md). Here the batch is what has already been fetched;
only when nothing has, the worker waits — for the first record, not for a full batch — and then
takes whatever else arrived with it. Under load the prefetch queue refills while a batch is
handled, so batches stay large and the transaction cost stays amortised.

A worker that keeps up, though, commits a transaction for every record or two, and on a machine
whose services share a few cores that commit work is taken from the service that does not keep up
(docs/benchmarks.md, "What the per-hop change costs at saturation"). The linger
(``CASETRAIL_POLL_LINGER_MS``) waits that long for a fuller batch once a record is in — but only
while waiting pays (``Linger``): while the recent waits gathered at least two records each. Under
light load they gather nothing, so the worker stops waiting, and tries one wait again when two records
were already waiting together (load may be back) or five seconds have passed.
Deciding by the arrival rate instead does not do: ingest reads each ticket three or four times (intake,
its internal topics), each record only after the previous one's transaction, so at 5 tickets/s its
rate looked busy while its waits gathered nothing (p50 238 ms against 89 with no linger). Nor does
trying a wait once a second: with seven hops most tickets met one such wait (p50 184 ms).
"""

from __future__ import annotations

import time
from typing import Callable, Optional, Protocol


class _Consumer(Protocol):
    def consume(self, num_messages: int = 1, timeout: float = -1) -> list: ...

    def poll(self, timeout: float = -1): ...


def ready_records(consumer: _Consumer, max_records: int, wait: float, linger: Optional["Linger"] = None) -> list:
    """Up to ``max_records`` messages: those already fetched, else the first to arrive within ``wait``
    seconds together with what arrived with it (empty when none arrived); a short batch then waits
    ``linger.next()`` seconds for more. Rebalance callbacks run inside these calls, as in ``consume``."""
    batch = consumer.consume(max_records, 0)
    if not batch:
        first = consumer.poll(wait)
        if first is None:
            return []
        batch = [first] + (consumer.consume(max_records - 1, 0) if max_records > 1 else [])
    if linger is not None and len(batch) < max_records:
        seconds = linger.next(len(batch))
        if seconds > 0:
            more = consumer.consume(max_records - len(batch), seconds)
            linger.gathered(len(more))
            batch += more
    return batch


class Linger:
    """How long a short batch waits for more: ``seconds`` while the recent waits gathered at least
    ``MIN_GATHERED`` records on average (the last wait counts half), else 0. Whether load has come
    back is tried with one wait when a batch comes with records that were already waiting (two or
    more fetched together), and at the latest after ``probe_every`` seconds."""

    MIN_GATHERED = 2.0

    def __init__(self, seconds: float, probe_every: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.probe_every = probe_every
        self.clock = clock
        self.average_gathered = self.MIN_GATHERED  # the first waits are tried
        self._last_wait = float("-inf")

    def next(self, fetched: int = 1) -> float:
        """The wait for a batch that has ``fetched`` records so far."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        if (self.average_gathered >= self.MIN_GATHERED or fetched >= self.MIN_GATHERED
                or now - self._last_wait >= self.probe_every):
            self._last_wait = now
            return self.seconds
        return 0.0

    def gathered(self, records: int) -> None:
        """The wait just made gathered ``records``."""
        self.average_gathered = (self.average_gathered + records) / 2
