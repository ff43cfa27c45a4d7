"""Run the chain over a ticket file and assemble the report (what ``--json`` writes)."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Callable, Optional, Sequence

from casetrail_tools.decision_eval.chain import STAGES, DecisionChain, TicketDecision, build_chain, next_business_moment
from casetrail_tools.decision_eval.summary import summarise
from casetrail_tools.decision_eval.tickets import EvalTicket


def latency_figures(decisions: Sequence[TicketDecision]) -> dict:
    """Per-stage and whole-chain milliseconds per ticket: p50, p95, p99 (one process, one core); wall time,
    and CPU time for the chain and its triage (what a busy shared machine does not inflate)."""

    def percentiles(values: list[float]) -> dict:
        values = sorted(values)
        if not values:
            return {}
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
        return {"p50": round(pick(0.50) * 1000, 2), "p95": round(pick(0.95) * 1000, 2),
                "p99": round(pick(0.99) * 1000, 2), "mean": round(statistics.fmean(values) * 1000, 2)}

    return {
        "chain_ms": percentiles([sum(d.seconds.values()) for d in decisions]),
        **{f"{stage}_ms": percentiles([d.seconds[stage] for d in decisions if stage in d.seconds]) for stage in STAGES},
        "chain_cpu_ms": percentiles([sum(d.cpu_seconds.values()) for d in decisions]),
        "triage_cpu_ms": percentiles([d.cpu_seconds["triage"] for d in decisions if "triage" in d.cpu_seconds]),
    }


def evaluate(tickets: Sequence[EvalTicket], chain: DecisionChain, at: dt.datetime,
             advance: Callable[[int], None] = lambda _: None) -> dict:
    decisions: list[TicketDecision] = []
    for ticket in tickets:
        decisions.append(chain.decide(ticket, at))
        advance(1)
    return {
        "tickets": [decision.report_entry() for decision in decisions],
        "summary": {
            "tenant": chain.tenant,
            "at": at.isoformat(),
            "versions": chain.versions,
            **summarise(zip(tickets, decisions), chain.policy),
            "latency": latency_figures(decisions),
        },
        "_decisions": decisions,  # for callers that want more than the report (not written)
    }


def run_evaluation(tickets: Sequence[EvalTicket], tenant: str, *, at: Optional[dt.datetime], tenants_dir: Path,
                   knowledge_dir: Path, progress: Callable[[str], None] = lambda _: None,
                   advance_factory=None) -> dict:
    chain, scratch = build_chain(tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge_dir, progress=progress)
    try:
        moment = at or next_business_moment(chain.policy, dt.datetime.now(dt.timezone.utc))
        progress(f"deciding {len(tickets)} tickets for {tenant} at {moment.isoformat()} ...")
        if advance_factory is None:
            return evaluate(tickets, chain, moment)
        with advance_factory(len(tickets)) as advance:
            return evaluate(tickets, chain, moment, advance)
    finally:
        scratch.cleanup()
