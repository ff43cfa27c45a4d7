"""`casetrail bench pipeline`'s per-service hop times: each stage's record minus the previous one's."""

from __future__ import annotations

import pytest

from casetrail_tools.benchmarks.pipeline_figures import HOP_OUTPUTS, hop_latencies, hops_by_minute

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


def test_a_joined_worker_is_judged_by_the_minute_after_it_was_ready_against_the_minute_before_it_started():
    """Tickets published while the worker started (the group's rebalance) are reported apart, not in either minute."""
    from casetrail_tools.benchmarks.pipeline_figures import Join, joined_worker_figures

    join = Join("triage", at_s=60.0, handle="triage-1", started_at=1060.0, ready_at=1070.0)
    sent = {"before": 1030.0, "starting": 1065.0, "after": 1080.0, "later": 1140.0}
    latencies = [(0.2, 1030.0), (3.0, 1065.0), (0.8, 1080.0), (0.1, 1140.0)]
    per_ticket = {c: stage_times(t, [0.010, 0.100, 0.005, 0.020, 0.003]) for c, t in sent.items()}
    per_ticket["after"] = stage_times(1080.0, [0.010, 0.700, 0.005, 0.020, 0.003])
    stage_at = {stage: {c: times[stage] for c, times in per_ticket.items()} for stage in STAGES}
    figures = joined_worker_figures(join, latencies, sent, stage_at)
    assert figures["ready_after_s"] == 10.0
    assert (figures["minute_before"]["tickets"], figures["minute_before"]["p99_ms"]) == (1, 200.0)
    assert (figures["while_starting"]["tickets"], figures["while_starting"]["p99_ms"]) == (1, 3000.0)
    assert (figures["minute_after_ready"]["tickets"], figures["minute_after_ready"]["p99_ms"]) == (1, 800.0)
    assert figures["minute_after_ready_p99_over_before"] == 4.0
    assert figures["minute_after_ready"]["hop_p99_ms"]["triage"] == 700.0


def test_a_worker_that_never_got_ready_gives_its_error_and_no_figures():
    from casetrail_tools.benchmarks.pipeline_figures import Join, joined_worker_figures

    join = Join("triage", at_s=60.0, handle="triage-1", started_at=1060.0, error="RuntimeError: not ready after 180s")
    figures = joined_worker_figures(join, [(0.2, 1030.0)], {"a": 1030.0}, {})
    assert figures == {"service": "triage", "handle": "triage-1", "error": "RuntimeError: not ready after 180s"}


def test_a_joining_worker_gets_the_next_worker_id_and_port_of_its_service(tmp_path):
    from casetrail.runtime.service import DEFAULT_PORTS
    from casetrail_tools.pipeline_harness import WORKER_PORT_STRIDE, Pipeline

    pipeline = Pipeline(prefix="p.", log_dir=tmp_path, port_offset=50, services=("ingest", "triage", "audit"))
    name = pipeline.add_worker("triage")
    joined = pipeline.handles[name]
    assert (name, joined.service, joined.worker_id) == ("triage-1", "triage", "w1")
    assert joined.port == DEFAULT_PORTS["triage"] + 50 + WORKER_PORT_STRIDE
    assert joined.process is None  # added, not started
    with pytest.raises(ValueError):
        pipeline.add_worker("audit")  # one SQLite writer


def test_join_names_a_service_that_runs_several_workers_before_anything_starts():
    from casetrail_tools.benchmarks.pipeline import NotJoinable, check_joinable

    check_joinable(None)
    check_joinable("triage")
    for refused in ("audit", "nope"):
        with pytest.raises(NotJoinable, match=f"--join '{refused}': choose one of ingest, triage"):
            check_joinable(refused)
