"""What ``casetrail bench pipeline`` computes from record timestamps: latency percentiles, the steady
state, the first minute after readiness, each service's hop, and a joined worker's minute (issue 21
item 6). Pure functions over {conversation id: time} maps, so they are tested without a broker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from casetrail.topics import CONVERSATIONS_RECEIVED, CONVERSATIONS_TRIAGED, DECISIONS_ROUTED, DRAFTS_PROPOSED, DRAFTS_VERIFIED

#: each service and the topic its decision is written to, in the order a ticket passes them
HOP_OUTPUTS = (("ingest", CONVERSATIONS_RECEIVED), ("triage", CONVERSATIONS_TRIAGED), ("drafter", DRAFTS_PROPOSED),
               ("verifier", DRAFTS_VERIFIED), ("router", DECISIONS_ROUTED))


def hop_latencies(sent: dict[str, float], stage_at: dict[str, dict[str, float]]) -> dict:
    """Per service, p50 and p99 of the time from the previous stage's record to its own (ms).

    Record timestamps are set when a record is produced, inside the producing service's
    transaction, so a hop is: the upstream transaction's commit, the fetch (and under light
    load the poll wait), and the service's own work — what one more stage costs a ticket.
    Only tickets seen on every stage count, so each hop is measured over the same tickets.
    """
    stages = [stage for stage, _ in HOP_OUTPUTS]
    complete = [c for c in sent if all(c in stage_at.get(stage, {}) for stage in stages)]
    figures: dict[str, dict] = {"p50_ms": {}, "p99_ms": {}}
    for i, stage in enumerate(stages):
        before = (lambda c: sent[c]) if i == 0 else (lambda c, prev=stages[i - 1]: stage_at[prev][c])
        waits = [stage_at[stage][c] - before(c) for c in complete]
        figures["p50_ms"][stage] = round(percentile(waits, 50) * 1000, 1) if waits else None
        figures["p99_ms"][stage] = round(percentile(waits, 99) * 1000, 1) if waits else None
    return {"hop_p50_ms": figures["p50_ms"], "hop_p99_ms": figures["p99_ms"], "hop_tickets": len(complete)}


def hops_by_minute(sent: dict[str, float], stage_at: dict[str, dict[str, float]], start: float) -> dict:
    """``hop_latencies`` of the tickets published in the first minute after readiness, and of the rest:
    which service carries the first minute's tail (issue 21 item 6)."""
    early = {c: t for c, t in sent.items() if t - start < 60.0}
    later = {c: t for c, t in sent.items() if t - start >= 60.0}
    figures: dict = {}
    for label, tickets in (("first_minute", early), ("after_first_minute", later)):
        if tickets:
            hops = hop_latencies(tickets, stage_at)
            figures[f"{label}_hop_p50_ms"], figures[f"{label}_hop_p99_ms"] = hops["hop_p50_ms"], hops["hop_p99_ms"]
    return figures


def first_minute(latencies: list[tuple[float, float]], start: float) -> dict:
    early = [lat for lat, sent_at in latencies if sent_at - start < 60.0]
    later = [lat for lat, sent_at in latencies if sent_at - start >= 60.0]
    figures: dict = {}
    if early:
        figures["first_minute_p50_ms"] = round(percentile(early, 50) * 1000, 1)
        figures["first_minute_p99_ms"] = round(percentile(early, 99) * 1000, 1)
    if later:
        figures["after_first_minute_p50_ms"] = round(percentile(later, 50) * 1000, 1)
        figures["after_first_minute_p99_ms"] = round(percentile(later, 99) * 1000, 1)
    if early and later:
        figures["first_minute_p99_over_after"] = round(percentile(early, 99) / max(1e-9, percentile(later, 99)), 2)
    return figures


def window(latencies: list[tuple[float, float]], since: float, until: float) -> dict:
    """p50/p99 (ms) of the tickets published in [since, until)."""
    inside = [lat for lat, sent_at in latencies if since <= sent_at < until]
    return {"tickets": len(inside),
            "p50_ms": round(percentile(inside, 50) * 1000, 1) if inside else None,
            "p99_ms": round(percentile(inside, 99) * 1000, 1) if inside else None}


@dataclass
class Join:
    """One more worker of a service started under load (``--join``): when it was started and when it said ready."""

    service: str
    at_s: float  # seconds after the first ticket
    handle: str = ""
    started_at: Optional[float] = None  # wall clock
    ready_at: Optional[float] = None
    error: str = ""


def joined_worker_figures(join: Join, latencies: list[tuple[float, float]], sent: dict[str, float],
                          stage_at: dict[str, dict[str, float]]) -> dict:
    """The minute after the joined worker said ready against the minute before it was started: what a pod
    joining a running cluster costs the tickets (issue 21 item 6), per hop too. The tickets published while it
    started (before ready) are reported apart: they include the group's rebalance."""
    figures: dict = {"service": join.service, "handle": join.handle}
    if join.error or join.started_at is None or join.ready_at is None:
        figures["error"] = join.error or "not started"
        return figures
    before = window(latencies, join.started_at - 60.0, join.started_at)
    after = window(latencies, join.ready_at, join.ready_at + 60.0)
    figures.update({
        "ready_after_s": round(join.ready_at - join.started_at, 1),
        "minute_before": before,
        "while_starting": window(latencies, join.started_at, join.ready_at),
        "minute_after_ready": after,
        "minute_after_ready_p99_over_before": round(after["p99_ms"] / before["p99_ms"], 2)
        if after["p99_ms"] and before["p99_ms"] else None,
    })
    for label, since, until in (("minute_before", join.started_at - 60.0, join.started_at),
                                ("minute_after_ready", join.ready_at, join.ready_at + 60.0)):
        hops = hop_latencies({c: t for c, t in sent.items() if since <= t < until}, stage_at)
        figures[label]["hop_p99_ms"] = hops["hop_p99_ms"]
    return figures


def steady_state(latencies: list[tuple[float, float]], start: float, skip_seconds: float) -> dict:
    steady = [lat for lat, sent_at in latencies if sent_at - start >= skip_seconds]
    if not steady:
        return {}
    return {
        "steady_state_after_s": skip_seconds,
        "steady_p50_ms": round(percentile(steady, 50) * 1000, 1),
        "steady_p99_ms": round(percentile(steady, 99) * 1000, 1),
    }


def percentile(values: list[float], p: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
