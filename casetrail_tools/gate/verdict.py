"""Compare the candidate's errors with production's, overall, on the dev set and per slice (pure).

Promotion needs both rules of ``baseline``: strictly fewer errors than
production on the whole evaluation set, and a dev-set error rate no higher
than the rolling baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from casetrail_tools.gate.baseline import RollingBaseline, within_baseline


@dataclass(frozen=True)
class SliceCell:
    slice: str
    examples: int
    production_errors: int
    candidate_errors: int

    @property
    def production_rate(self) -> float:
        return self.production_errors / self.examples if self.examples else 0.0

    @property
    def candidate_rate(self) -> float:
        return self.candidate_errors / self.examples if self.examples else 0.0


@dataclass
class GateVerdict:
    examples: int
    agent_examples: int
    production_errors: int
    candidate_errors: int
    baseline: RollingBaseline
    production_dev_errors: int = 0
    candidate_dev_errors: int = 0
    cells: list[SliceCell] = field(default_factory=list)

    @property
    def dev_examples(self) -> int:
        return self.examples - self.agent_examples

    @property
    def production_error_rate(self) -> float:
        return self.production_errors / self.examples if self.examples else 0.0

    @property
    def candidate_error_rate(self) -> float:
        return self.candidate_errors / self.examples if self.examples else 0.0

    @property
    def production_dev_error_rate(self) -> Optional[float]:
        return self.production_dev_errors / self.dev_examples if self.dev_examples else None

    @property
    def candidate_dev_error_rate(self) -> Optional[float]:
        return self.candidate_dev_errors / self.dev_examples if self.dev_examples else None

    @property
    def baseline_error_rate(self) -> float:
        return self.baseline.error_rate

    @property
    def improved(self) -> bool:
        """Strictly fewer errors than production on the same set; an equal count is no improvement."""
        return self.examples > 0 and self.candidate_errors < self.production_errors

    @property
    def within_baseline(self) -> bool:
        return within_baseline(self.candidate_dev_error_rate, self.baseline)

    @property
    def promoted(self) -> bool:
        return self.improved and self.within_baseline

    @property
    def worse(self) -> list[SliceCell]:
        return [cell for cell in self.cells if cell.candidate_errors > cell.production_errors]

    @property
    def better(self) -> list[SliceCell]:
        return [cell for cell in self.cells if cell.candidate_errors < cell.production_errors]


def compare(rows: list[tuple[dict, bool, bool, list[str]]],
            baseline: Callable[[Optional[float]], RollingBaseline] | RollingBaseline | None = None) -> GateVerdict:
    """``rows``: (example, production wrong, candidate wrong, slices); an example with a ``correction``
    is an agent's, any other a dev-set ticket. ``baseline``: the rolling baseline, or a function of
    production's dev-set error rate in this run (``baseline.rolling_baseline`` with the history
    bound); none: production's dev-set error rate is the baseline."""
    cells: dict[str, list[int]] = {}
    production = candidate = agent = production_dev = candidate_dev = 0
    for example, production_wrong, candidate_wrong, slices in rows:
        production += production_wrong
        candidate += candidate_wrong
        if example.get("correction") is not None:
            agent += 1
        else:
            production_dev += production_wrong
            candidate_dev += candidate_wrong
        for name in slices:
            cell = cells.setdefault(name, [0, 0, 0])
            cell[0] += 1
            cell[1] += production_wrong
            cell[2] += candidate_wrong
    dev = len(rows) - agent
    production_dev_rate = production_dev / dev if dev else None
    if baseline is None:
        chosen = RollingBaseline(production_dev_rate if production_dev_rate is not None else 0.0)
    elif isinstance(baseline, RollingBaseline):
        chosen = baseline
    else:
        chosen = baseline(production_dev_rate)
    return GateVerdict(examples=len(rows), agent_examples=agent, production_errors=production,
                       candidate_errors=candidate, baseline=chosen, production_dev_errors=production_dev,
                       candidate_dev_errors=candidate_dev,
                       cells=[SliceCell(name, *counts) for name, counts in sorted(cells.items())])


def report_lines(verdict: GateVerdict, candidate: str, production: str) -> list[str]:
    outcome = "PROMOTED" if verdict.promoted else "REFUSED"
    lines = [
        f"gate: {outcome} {candidate} (production {production})",
        f"  examples {verdict.examples} ({verdict.agent_examples} from agents' corrections)",
        f"  error rate (whole set): candidate {verdict.candidate_error_rate:.4f}, "
        f"production {verdict.production_error_rate:.4f}",
    ]
    if verdict.dev_examples:
        lines.append(f"  dev-set error rate ({verdict.dev_examples} tickets): candidate "
                     f"{verdict.candidate_dev_error_rate:.4f}, production {verdict.production_dev_error_rate:.4f}, "
                     f"rolling baseline {verdict.baseline_error_rate:.4f}")
        lines.append(f"  rolling baseline: {verdict.baseline.describe()}")
    if not verdict.improved:
        lines.append("  refused: the error rate has not improved over production's on the same set")
    if not verdict.within_baseline:
        lines.append("  refused: the dev-set error rate is above the rolling baseline")
    if verdict.worse:
        lines.append("  got worse:")
        lines += [f"    {c.slice:40} {c.production_rate:.3f} -> {c.candidate_rate:.3f}  ({c.examples} examples)"
                  for c in verdict.worse]
    if verdict.better:
        lines.append("  got better:")
        lines += [f"    {c.slice:40} {c.production_rate:.3f} -> {c.candidate_rate:.3f}  ({c.examples} examples)"
                  for c in verdict.better]
    return lines
