"""Compare the candidate's errors with production's, overall and per slice (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    baseline_error_rate: float
    cells: list[SliceCell] = field(default_factory=list)

    @property
    def production_error_rate(self) -> float:
        return self.production_errors / self.examples if self.examples else 0.0

    @property
    def candidate_error_rate(self) -> float:
        return self.candidate_errors / self.examples if self.examples else 0.0

    @property
    def promoted(self) -> bool:
        """Only a strict improvement over the baseline promotes; an equal error rate is refused."""
        return self.examples > 0 and self.candidate_error_rate < self.baseline_error_rate

    @property
    def worse(self) -> list[SliceCell]:
        return [cell for cell in self.cells if cell.candidate_errors > cell.production_errors]

    @property
    def better(self) -> list[SliceCell]:
        return [cell for cell in self.cells if cell.candidate_errors < cell.production_errors]


def compare(rows: list[tuple[dict, bool, bool, list[str]]], baseline_error_rate: float | None = None) -> GateVerdict:
    """``rows``: (example, production wrong, candidate wrong, slices). The baseline is production's
    error rate on this very set unless given (the set rolls forward with every correction)."""
    cells: dict[str, list[int]] = {}
    production = candidate = agent = 0
    for example, production_wrong, candidate_wrong, slices in rows:
        production += production_wrong
        candidate += candidate_wrong
        agent += example.get("correction") is not None
        for name in slices:
            cell = cells.setdefault(name, [0, 0, 0])
            cell[0] += 1
            cell[1] += production_wrong
            cell[2] += candidate_wrong
    examples = len(rows)
    baseline = baseline_error_rate if baseline_error_rate is not None else (production / examples if examples else 0.0)
    return GateVerdict(examples=examples, agent_examples=agent, production_errors=production,
                       candidate_errors=candidate, baseline_error_rate=baseline,
                       cells=[SliceCell(name, *counts) for name, counts in sorted(cells.items())])


def report_lines(verdict: GateVerdict, candidate: str, production: str) -> list[str]:
    outcome = "PROMOTED" if verdict.promoted else "REFUSED"
    lines = [
        f"gate: {outcome} {candidate} (production {production})",
        f"  examples {verdict.examples} ({verdict.agent_examples} from agents' corrections)",
        f"  error rate: candidate {verdict.candidate_error_rate:.4f}, production {verdict.production_error_rate:.4f}, "
        f"baseline {verdict.baseline_error_rate:.4f}",
    ]
    if not verdict.promoted:
        lines.append("  refused: the error rate has not improved over the baseline")
    if verdict.worse:
        lines.append("  got worse:")
        lines += [f"    {c.slice:40} {c.production_rate:.3f} -> {c.candidate_rate:.3f}  ({c.examples} examples)"
                  for c in verdict.worse]
    if verdict.better:
        lines.append("  got better:")
        lines += [f"    {c.slice:40} {c.production_rate:.3f} -> {c.candidate_rate:.3f}  ({c.examples} examples)"
                  for c in verdict.better]
    return lines
