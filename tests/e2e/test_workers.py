"""Scale-out run, short version (``make chaos`` runs a longer one): every service with three worker
processes (audit: one) decides the same tickets as one worker per service did — the same digest over
(conversation, action, queue, reply), replies, re-contacts, triage's customer-history signals and
ingest's redelivery drop — while an ingest worker is SIGKILLed and started again; nothing lost,
nothing doubled."""

from __future__ import annotations

import os

import pytest

from casetrail_tools.scale_out import run_scale_out

pytestmark = pytest.mark.e2e


# Its own waits are bounded (readiness 300 s, each wave's decisions 300 s) and report what they saw.
@pytest.mark.timeout(1800)
def test_three_workers_with_a_killed_one_decide_as_one_worker(kafka_bootstrap):
    offset = int(os.environ.get("CASETRAIL_E2E_PORT_OFFSET", "40"))
    report = run_scale_out(regular=6, follow=3, workers=3, kill=("ingest",), port_offset=offset, progress=print)
    print("\n".join(report.lines()))
    one, several = report.one_worker, report.several_workers
    assert report.faults == ["kill -9 ingest-1"]
    assert (one.lost, several.lost) == ([], [])
    assert (one.doubled, several.doubled) == ({}, {})
    # the tickets exercise every signal the digest compares (else "identical" would be vacuous)
    assert one.recontacts, "no re-contact in the single-worker copy"
    assert any(row[1] for row in one.history), "triage flagged no duplicate"
    assert any(row[2] > 1 for row in one.history), "no customer with a second contact"
    assert ["r5", 1] in one.received  # the redelivered ticket (the last regular one): one conversation
    assert ["r0", 2] in one.received  # a reopened one: two
    assert report.differences() == {}
    assert one.digest() == several.digest()
