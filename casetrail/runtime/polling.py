"""Taking a batch of records without waiting for it to fill.

confluent-kafka's ``Consumer.consume(n, timeout)`` returns when it holds ``n`` messages *or* the
timeout has passed, so under light load every call waits the whole timeout: with a 100 ms poll
timeout each hop of the pipeline added up to 100 ms before its transaction even began, and a
ticket's seven hops (ingest's two, triage, drafter, verifier, router, delivery) put p50 at
~1.3 s at 20 tickets/s (docs/benchmarks.md). Here the batch is what has already been fetched;
only when nothing has, the worker waits — for the first record, not for a full batch — and then
takes whatever else arrived with it. Under load the prefetch queue refills while a batch is
handled, so batches stay large and the transaction cost stays amortised.
"""

from __future__ import annotations

from typing import Protocol


class _Consumer(Protocol):
    def consume(self, num_messages: int = 1, timeout: float = -1) -> list: ...

    def poll(self, timeout: float = -1): ...


def ready_records(consumer: _Consumer, max_records: int, wait: float, linger: float = 0.0) -> list:
    """Up to ``max_records`` messages: those already fetched, else the first to arrive within ``wait``
    seconds together with what arrived with it (empty when none arrived). Rebalance callbacks run
    inside these calls, as in ``consume``."""
    batch = consumer.consume(max_records, 0)
    if not batch:
        first = consumer.poll(wait)
        if first is None:
            return []
        batch = [first] + (consumer.consume(max_records - 1, 0) if max_records > 1 else [])
    if linger > 0 and len(batch) < max_records:
        batch += consumer.consume(max_records - len(batch), linger)
    return batch
