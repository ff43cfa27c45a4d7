"""The rolling baseline a candidate must not fall behind (pure).

Why two comparisons. The gate's evaluation set is the agents' corrections
(which grow with every verdict and are, by construction, where production
erred) plus the project's dev set (fixed). An error rate measured on last
month's set cannot be compared with one measured on today's: the corrections
moved. So:

1. **Improved**: the candidate must make strictly fewer errors than the version
   in production on *today's* whole set (the same tickets for both, run by the
   same chain), the corrections included.
2. **Against the rolling baseline**: on the *dev-set part*, which stays the same
   from one verdict to the next, the candidate's error rate must not exceed the
   rolling baseline: the **mean of the dev-set error rates of the last
   ``WINDOW`` promoted versions** measured on the same basis (the same dev
   tickets, the same tenant policy, the same error rules; ``dev_basis``). When
   no promoted version was measured on this basis (the first verdict, or the
   dev set or the policy changed), production's dev-set error rate from this
   very run is the baseline.

Why the mean of the last five rather than the best. The chain is deterministic,
so the best of the window is simply the last promotion and "never above the
best" would refuse any candidate that costs a single dev ticket, however many
of the agents' corrections it fixes: corrections could never move a version
that the dev set does not reward. The mean lets a candidate trade a little
dev-set quality for fixing what agents rejected, bounded by recent history: a
promoted value is at most the window's mean, hence at most the window's worst,
so the worst of the last five never grows and repeated small trades cannot
walk the dev-set error rate upwards past it. Five: long enough to smooth
over one version that happened to do well on the dev set, short enough that
versions long replaced stop counting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

WINDOW = 5
# Bump when casetrail_tools.gate.errors changes what counts as an error: older measurements then no
# longer share the basis and drop out of the baseline.
ERROR_RULES_VERSION = 1


@dataclass(frozen=True)
class Measurement:
    """One promoted version's dev-set error rate, as recorded with its verdict."""

    version: str
    dev_error_rate: float
    dev_examples: int
    at: str = ""


@dataclass(frozen=True)
class RollingBaseline:
    error_rate: float
    window: tuple[Measurement, ...] = field(default_factory=tuple)  # empty: production's rate from this run

    @property
    def from_history(self) -> bool:
        return bool(self.window)

    def describe(self) -> str:
        if not self.window:
            return "production's dev-set error rate in this run (no promoted version measured on this dev set yet)"
        return (f"mean of the last {len(self.window)} promoted versions' dev-set error rates ("
                + ", ".join(f"{m.version} {m.dev_error_rate:.4f}" for m in self.window) + ")")


def dev_basis(dev_rows: Iterable[Mapping], policy_text: str) -> str:
    """A fingerprint of what a dev-set measurement depends on besides the version: the tickets, the
    tenant's policy (thresholds and modes decide sends), and the error rules."""
    digest = hashlib.sha256(f"rules:{ERROR_RULES_VERSION}\n".encode())
    digest.update(hashlib.sha256(policy_text.encode()).digest())
    for row in dev_rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()[:16]


def promoted_measurements(history: Iterable[Mapping], basis: str) -> list[Measurement]:
    """The promoted verdicts of a state-file history (oldest first) measured on ``basis``."""
    return [Measurement(entry["version"], float(entry["dev_error_rate"]), int(entry.get("dev_examples") or 0),
                        entry.get("at", ""))
            for entry in history
            if entry.get("outcome") == "promoted" and entry.get("dev_basis") == basis
            and entry.get("dev_error_rate") is not None]


def rolling_baseline(history: Iterable[Mapping], basis: str, production_dev_error_rate: float,
                     window: int = WINDOW) -> RollingBaseline:
    recent = promoted_measurements(history, basis)[-window:]
    if not recent:
        return RollingBaseline(production_dev_error_rate)
    return RollingBaseline(sum(m.dev_error_rate for m in recent) / len(recent), tuple(recent))


def within_baseline(candidate_dev_error_rate: Optional[float], baseline: RollingBaseline) -> bool:
    """No dev-set tickets (an evaluation set of corrections only): nothing to hold against the baseline."""
    return candidate_dev_error_rate is None or candidate_dev_error_rate <= baseline.error_rate + 1e-12
