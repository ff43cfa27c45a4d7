"""Progress of a long command as periodic lines on stderr.

Lines rather than a redrawn bar: the long commands (benchmarks, evaluations,
rebuilds) run as often in CI logs and ``make`` output as in a terminal, where a
bar that redraws itself shows nothing until it ends.
"""

from __future__ import annotations

import time

import typer


class ProgressLines:
    """``label: done/total (rate/s)`` every ``every`` seconds, and once at the end."""

    def __init__(self, label: str, total: int, *, every: float = 5.0, unit: str = ""):
        self.label, self.total, self.every, self.unit = label, total, every, unit
        self.started = self._last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done < self.total and now - self._last < self.every:
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        unit = f" {self.unit}" if self.unit else ""
        typer.echo(f"{self.label}: {done}/{self.total}{unit} ({rate:,.0f}/s)", err=True)
