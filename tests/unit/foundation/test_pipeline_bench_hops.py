"""`casetrail bench pipeline`'s per-service hop times: each stage's record minus the previous one's."""

from __future__ import annotations

from casetrail_tools.benchmarks.pipeline import HOP_OUTPUTS, hop_latencies, hops_by_minute

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


def test_the_first_minute_hops_are_the_tickets_published_in_it_and_the_rest_apart():
    """A slow first triage (t = 0) shows in the first minute's triage hop, not in the later one's."""
    sent = {"early-slow": 1000.0, "early": 1030.0, "later": 1061.0}
    per_ticket = {"early-slow": stage_times(1000.0, [0.010, 0.900, 0.005, 0.020, 0.003]),
                  "early": stage_times(1030.0, [0.010, 0.050, 0.005, 0.020, 0.003]),
                  "later": stage_times(1061.0, [0.010, 0.040, 0.007, 0.020, 0.003])}
    stage_at = {stage: {c: times[stage] for c, times in per_ticket.items()} for stage in STAGES}
    figures = hops_by_minute(sent, stage_at, start=1000.0)
    assert figures["first_minute_hop_p99_ms"]["triage"] == 900.0
    assert figures["after_first_minute_hop_p99_ms"]["triage"] == 40.0
    assert figures["after_first_minute_hop_p50_ms"]["drafter"] == 7.0


def test_a_run_shorter_than_a_minute_has_no_later_hops():
    sent = {"a": 10.0}
    stage_at = {stage: {"a": 10.0 + 0.01 * (i + 1)} for i, stage in enumerate(STAGES)}
    assert set(hops_by_minute(sent, stage_at, start=10.0)) == {"first_minute_hop_p50_ms", "first_minute_hop_p99_ms"}
