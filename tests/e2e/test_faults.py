"""Fault run, short version (``make chaos`` runs the long one): SIGKILL each
service in turn and restart it, stop the broker for 10 s under load, feed malformed records and one
ticket whose conversation the broker refuses (over 1 MiB with its sealed original), then
replay the intake topic from offset 0 through the running pipeline — nothing lost,
nothing sent twice (no second reply, no second acknowledgement), every malformed
record dead-lettered, the oversized ticket dead-lettered as ``output_unproducible``."""

from __future__ import annotations

import pytest

from casetrail_tools.chaos import run_chaos

pytestmark = pytest.mark.e2e


# Its own steps are bounded (readiness 180 s per restart, draining 240 s) and report what they saw;
# the default per-test timeout would cut a slow but healthy run short without that report.
@pytest.mark.timeout(1500)
def test_kill_each_service_restart_broker_and_malformed_input_lose_nothing(kafka_bootstrap):
    report = run_chaos(rate=4.0, pause=6.0, restart_broker=True, outage_seconds=10.0, progress=print)
    print("\n".join(report.lines()))
    assert report.tickets_sent > 0
    assert report.unaccepted == 0  # every ticket of the load reached the intake topic (re-published if need be)
    assert not report.lost, f"lost tickets: {report.lost[:10]}"
    assert report.duplicate_sends == 0
    assert report.malformed_dead_lettered == report.malformed_sent
    assert (report.oversized_sent, report.oversized_dead_lettered) == (1, 1)
    # A good ticket is never dead-lettered as bad input because the cluster was away (delivery's attempt
    # journal used to, for every record it held during the outage): transient faults are retried.
    assert report.dead_letter_reasons.get("unprocessable", 0) == 0, report.dead_letter_reasons
    assert report.replayed_intake_records > report.tickets_sent  # every ticket, plus the malformed records
    assert report.replay_consumed  # ingest went through the replay: "no second reply" is not vacuous
    assert report.replies_after_replay > 0
    assert (report.second_replies, report.second_acknowledgements) == (0, 0)
