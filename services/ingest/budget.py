"""A per-record processing budget: past it, the record is dead-lettered as ``too_expensive``.

How it is bounded, without help from the runtime:

* Every step of ingest's per-record work is linear (or n log n) in the bytes it
  is given - the markup scan, the JSON and MIME parsers, HTML rendering, reply
  stripping, personal-data detection - and the payload is at most
  ``max_payload_bytes`` (1 MiB). The fuzz suite (``make fuzz``) keeps that true.
* Between steps - after parsing, for each message's body, before each text is
  redacted, before sealing - ``Budget.check`` compares the record's CPU time
  with the budget and raises ``Rejected(too_expensive)``. The caller dead-letters
  the record and takes the next one.

So a record costs at most the budget plus one step, and one step costs at most
the linear cost of 1 MiB (measured by ``make fuzz``; see docs/security.md).

The budget travels in a context variable, so connectors and helpers deep in the
call tree can check it without every signature carrying it; with no budget
active, ``check`` does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from typing import Callable, Iterator, Optional

from services.ingest.rejections import TOO_EXPENSIVE, Rejected

DEFAULT_BUDGET_SECONDS = 2.0  # CASETRAIL_INGEST_BUDGET_SECONDS (IngestSettings) sets the service's own

_current: contextvars.ContextVar[Optional["Budget"]] = contextvars.ContextVar("ingest_budget", default=None)


class Budget:
    """``seconds`` of CPU time (this thread's, so a busy neighbour on the machine does not count)."""

    def __init__(self, seconds: float = DEFAULT_BUDGET_SECONDS, clock: Callable[[], float] = time.thread_time):
        self.seconds = seconds
        self.clock = clock
        self.started = clock()

    def spent(self) -> float:
        return self.clock() - self.started

    def check(self, step: str) -> None:
        spent = self.spent()
        if spent > self.seconds:
            raise Rejected(TOO_EXPENSIVE, f"processing used {spent:.2f} s of CPU by {step}; the budget is {self.seconds:g} s")


@contextlib.contextmanager
def active(budget: Budget) -> Iterator[Budget]:
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def check(step: str) -> None:
    """Raise ``Rejected(too_expensive)`` when the active budget is spent (no-op without one)."""
    budget = _current.get()
    if budget is not None:
        budget.check(step)
