"""`casetrail bench pipeline`'s per-service hop times: each stage's record minus the previous one's."""

from __future__ import annotations

from casetrail_tools.benchmarks.pipeline import HOP_OUTPUTS, hop_latencies

STAGES = [stage for stage, _ in HOP_OUTPUTS]


def stage_times(start: float, gaps: list[float]) -> dict[str, float]:
    """Timestamps of one ticket's records, each stage ``gap`` seconds after the previous."""
    times, at = {}, start
    for stage, gap in zip(STAGES, gaps):
        at += gap
        times[stage] = at
    return times


def test_each_hop_is_measured_from_the_previous_stage_record():
    sent = {"a": 100.0, "b": 200.0, "c": 300.0}
    per_ticket = {"a": stage_times(100.0, [0.010, 0.040, 0.005, 0.020, 0.003]),
                  "b": stage_times(200.0, [0.030, 0.060, 0.005, 0.020, 0.003]),
                  "c": stage_times(300.0, [0.020, 0.050, 0.005, 0.020, 0.103])}
    stage_at = {stage: {c: times[stage] for c, times in per_ticket.items()} for stage in STAGES}
    figures = hop_latencies(sent, stage_at)
    assert figures["hop_tickets"] == 3
    assert figures["hop_p50_ms"] == {"ingest": 20.0, "triage": 50.0, "drafter": 5.0, "verifier": 20.0, "router": 3.0}
    assert figures["hop_p99_ms"]["router"] == 103.0 and figures["hop_p99_ms"]["triage"] == 60.0


def test_a_ticket_missing_a_stage_is_left_out_of_every_hop():
    sent = {"a": 100.0, "b": 200.0}
    stage_at = {stage: {"a": 100.0 + 0.01 * (i + 1)} for i, stage in enumerate(STAGES)}
    stage_at["triage"]["b"] = 200.5  # b never reached the router: not a complete trail
    figures = hop_latencies(sent, stage_at)
    assert figures["hop_tickets"] == 1
    assert figures["hop_p50_ms"]["triage"] == 10.0


def test_no_complete_ticket_gives_no_figure():
    assert hop_latencies({"a": 1.0}, {})["hop_p50_ms"] == {stage: None for stage in STAGES}
