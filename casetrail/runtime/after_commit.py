"""Callbacks that run only once the worker's open transaction committed (``RecordContext.after_commit``,
``Service.after_commit``).

A handler or a timer runs before its transaction commits, and the transaction can still be aborted
(a refused output, an outage) or refused (a zombie's batch or tick, KIP-447): then nothing it produced
or wrote is visible, and the batch is handled again or the tick runs again. Anything that counts what
became visible (a metric of events emitted, replies sent, SLA timers fired) must therefore wait for
the commit, or it counts effects that never happened, and counts them again on the retry. Work done
(a latency histogram, a retry) is counted where it happens, not here.

A callback runs at most once, after the commit; on abort or refusal it is dropped. It must be quick
and must not raise: one that does is logged and the others still run (the commit has happened).
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from casetrail.runtime.failure import failure_site

log = logging.getLogger("casetrail.runtime")

AfterCommitCallback = Callable[[], None]


class AfterCommit:
    """The callbacks waiting for the worker's open transaction."""

    def __init__(self) -> None:
        self._waiting: list[AfterCommitCallback] = []

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, fn: AfterCommitCallback) -> None:
        self._waiting.append(fn)

    def extend(self, fns: Iterable[AfterCommitCallback]) -> None:
        self._waiting.extend(fns)

    def committed(self) -> None:
        """The transaction committed: run every waiting callback, in the order they were added."""
        waiting, self._waiting = self._waiting, []
        for fn in waiting:
            try:
                fn()
            except Exception as exc:  # the commit stands; a broken counter must not stop the worker
                log.error("after-commit callback failed",
                          extra={"callback": getattr(fn, "__qualname__", type(fn).__name__),
                                 "error": type(exc).__name__, "site": failure_site(exc)})

    def dropped(self) -> None:
        """The transaction aborted or was refused: nothing it counted happened."""
        self._waiting = []
