"""End to end: all six services as processes on a real broker, the bundled
sample tickets in, decisions and lineage out — what `make demo` shows, asserted."""

from __future__ import annotations

import json

import pytest

from casetrail_tools.demo import run_demo
from casetrail_tools.sample_tickets import sample_tickets

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(kafka_bootstrap, tmp_path_factory):
    import os

    trace_file = tmp_path_factory.mktemp("traces") / "spans.jsonl"
    # the services the demo starts inherit this environment: they write their spans to the file
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OTEL_TRACES_EXPORTER", "casetrail_file")
        patch.setenv("CASETRAIL_TRACE_FILE", str(trace_file))
        # services listen on 8101 + offset; another checkout's end-to-end run can take another offset
        offset = int(os.environ.get("CASETRAIL_E2E_PORT_OFFSET", "30"))
        result = run_demo(progress=print, data_dir=tmp_path_factory.mktemp("demo"), port_offset=offset)
    result.trace_file = trace_file
    return result


def _by_label(demo, fragment):
    matches = [o for o in demo.outcomes if fragment in o.ticket.label]
    assert matches, fragment
    return matches[0]


def _action(outcome):
    assert outcome.trail is not None and outcome.trail.decision is not None, f"no decision for {outcome.ticket.label}"
    return outcome.trail.decision.action.value


def test_every_sample_ticket_reaches_a_routed_decision(demo):
    undecided = [o.ticket.label for o in demo.outcomes if not (o.trail and o.trail.decision)]
    assert not undecided, f"no routed decision for: {undecided}"


def test_services_stop_cleanly_on_sigterm(demo):
    assert demo.exit_codes and all(code == 0 for code in demo.exit_codes.values()), demo.exit_codes


# Routine samples the chain is not yet sure enough of to answer alone (issue 15 left open): the
# gate's confidence (triage x answer) sits below the 0.78 threshold. Measured with the pure chain
# (`casetrail eval decisions` on these samples' texts, subject included: the German password how-to
# reads account_edit 0.86 with its subject and is sent, 0.56 without it). Not strict: the figure
# moves with the models; a pass is welcome, a miss is known.
_UNSURE = {
    "refund inside window (fr)": "wrong size + refund read as refund_policy at 0.57 (return_request close behind)",
    "order status by e-mail (lt)": "order status at 0.77 in a Lithuanian e-mail: x answer confidence stays below 0.78",
}
_ROUTINE = [pytest.param(t.label, marks=pytest.mark.xfail(reason=_UNSURE[t.label], strict=False))
            if t.label in _UNSURE else t.label for t in sample_tickets() if t.autonomous is True]
_FOR_PEOPLE = [t.label for t in sample_tickets() if t.autonomous is False]


@pytest.mark.parametrize("label", _ROUTINE)
def test_a_routine_sample_ticket_is_answered_autonomously(demo, label):
    assert _action(_by_label(demo, label)) == "send"


@pytest.mark.parametrize("label", _FOR_PEOPLE)
def test_a_ticket_that_must_reach_a_person_is_never_sent(demo, label):
    outcome = _by_label(demo, label)
    assert _action(outcome) != "send"
    assert [r for r in outcome.trail.outbound if r.event.kind.value == "answer"] == []


def test_fraud_goes_to_the_fraud_team_and_is_never_sent(demo):
    fraud = _by_label(demo, "fraud")
    assert _action(fraud) == "escalate"
    assert fraud.trail.decision.queue == "fraud-team"
    assert not fraud.trail.outbound


def test_spam_is_dropped_and_injection_is_not_sent(demo):
    assert _action(_by_label(demo, "spam")) == "drop"
    injected = _by_label(demo, "injected")
    assert _action(injected) != "send"
    assert all("1,000" not in s.event.body for s in injected.trail.outbound)


def test_every_produced_draft_cites_a_clause_that_resolves_at_its_version(demo, monkeypatch):
    from casetrail.knowledge import resolve

    drafts = [d.event.draft for o in demo.outcomes if o.trail for d in o.trail.drafted
              if d.event.draft.outcome.value == "drafted"]
    assert drafts, "the sample tickets should produce at least one draft"
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(demo.data_dir))
    from casetrail.settings import settings

    settings.cache_clear()
    try:
        for draft in drafts:
            assert draft.citations, f"draft {draft.draft_id} has no citation"
            for citation in draft.citations:
                clause = resolve("acme-shop", draft.kb_locale or draft.locale, citation.clause_id, citation.kb_version)
                assert clause is not None, f"{citation.clause_id}@{citation.kb_version} does not resolve"
    finally:
        monkeypatch.delenv("CASETRAIL_DATA_DIR")
        settings.cache_clear()  # the next reader sees the environment as it was


def test_the_escalated_ticket_has_a_lineage_from_intake_to_its_decision(demo):
    assert demo.lineage_conversation, "no escalated ticket in the sample"
    text = demo.lineage_text
    assert text.startswith(f"conversation {demo.lineage_conversation} "), text[:500]
    # step lines: "<occurred_at> <stage> <producer> ..."; what the audit store shows must be what the
    # pipeline observer saw this conversation go through
    stages = {line.split()[1] for line in text.splitlines() if line[:2] == "20" and len(line.split()) > 1}
    (outcome,) = [o for o in demo.outcomes if o.trail and o.trail.conversation_id == demo.lineage_conversation]
    expected = {"received", "triaged", "routed"} | ({"drafted"} if outcome.trail.drafted else set()) | (
        {"verified"} if outcome.trail.verified else set())
    assert expected <= stages, (expected - stages, text)
    decision = outcome.trail.decision
    assert f"action=escalate rule={decision.rule} queue={decision.queue} " in text, text


def test_one_trace_spans_ingest_to_router(demo):
    spans = [json.loads(line) for line in demo.trace_file.read_text().splitlines() if line.strip()]
    services_by_trace: dict[str, set] = {}
    for span in spans:
        services_by_trace.setdefault(span["trace_id"], set()).add(span["service"])
    assert any({"casetrail-ingest", "casetrail-triage", "casetrail-drafter", "casetrail-verifier", "casetrail-router"}
               <= services for services in services_by_trace.values()), services_by_trace


def test_the_demos_cases_for_people_are_in_the_review_consoles_queue(demo):
    assert demo.review_cases, "the sample tickets should send some cases to people"
    assert set(demo.queued_cases) == set(demo.review_cases)
    assert demo.console_url.startswith("http://127.0.0.1:") and demo.console_login.password


def test_trace_edges_follow_the_messaging_conventions(demo):
    """Each hop is a producer ``send <topic>`` span whose child, in the next service, is the
    consumer's ``process <topic>`` span (OpenTelemetry messaging conventions)."""
    spans = [json.loads(line) for line in demo.trace_file.read_text().splitlines() if line.strip()]
    by_id = {span["span_id"]: span for span in spans}
    processed = [s for s in spans if s["attributes"].get("messaging.operation.type") == "process"]
    assert processed
    for span in processed:
        assert {"messaging.destination.name", "messaging.destination.partition.id", "messaging.kafka.offset",
                "messaging.consumer.group.name"} <= set(span["attributes"]), span
    edges = set()
    for span in processed:
        parent = by_id.get(span["parent_span_id"])
        if parent is None or parent["attributes"].get("messaging.operation.type") != "send":
            continue  # the intake publisher's records: their sender is outside the pipeline
        assert parent["attributes"]["messaging.destination.name"] == span["attributes"]["messaging.destination.name"]
        edges.add((parent["service"], span["service"]))
    assert {("casetrail-ingest", "casetrail-triage"), ("casetrail-triage", "casetrail-drafter"),
            ("casetrail-drafter", "casetrail-verifier"), ("casetrail-verifier", "casetrail-router"),
            ("casetrail-router", "casetrail-delivery")} <= edges, edges


def test_the_ticketing_platforms_received_each_decision_once(demo):
    """Intake -> all services -> delivery -> the (local) platforms: answers as public replies, human cases
    as internal notes with assignment, nothing written twice."""
    import re

    state = demo.platform_state
    tickets = {(t["platform"], t["external_id"]): t for t in state["tickets"]}
    checked = 0
    for outcome in demo.outcomes:
        trail = outcome.trail
        if not (trail and trail.decision and trail.received):
            continue
        conversation = trail.received[-1].event.conversation
        action = trail.decision.action.value
        if conversation.source == "email":
            mails = [m for m in state["mail"] if m["headers"].get("X-Casetrail-Conversation") == trail.conversation_id]
            replies = [m for m in mails if m["headers"].get("Auto-Submitted") == "auto-replied"]
            if action in ("send", "acknowledge"):
                assert len(replies) == 1, f"{outcome.ticket.label}: {len(replies)} reply e-mails"
                assert replies[0]["headers"].get("In-Reply-To"), "an e-mail reply is threaded"
            if action in ("escalate", "review", "shadow", "acknowledge"):
                assert len(mails) - len(replies) == 1, f"{outcome.ticket.label}: the team mailbox gets one hand-off"
            checked += 1
            continue
        if conversation.source not in ("zendesk", "freshdesk"):
            continue
        ticket = tickets.get((conversation.source, conversation.external_id))
        assert ticket is not None, f"{outcome.ticket.label}: nothing reached {conversation.source}"
        public = [m for m in ticket["messages"] if m["public"]]
        private = [m for m in ticket["messages"] if not m["public"]]
        if action == "send":
            assert len(public) == 1 and "ref ct-" in public[0]["body"], outcome.ticket.label
        if action in ("escalate", "review", "shadow"):
            assert len(private) == 1 and "Hand-off brief" in private[0]["body"], outcome.ticket.label
            assert ticket["group"] is not None and f"casetrail:{'escalated' if action == 'escalate' else action}" in ticket["tags"]
        checked += 1
    assert checked >= 3, "the sample routes a Zendesk, a Freshdesk and an e-mail ticket"
    markers = [m for t in state["tickets"] for msg in t["messages"] for m in re.findall(r"ct-[0-9a-f]{12}", msg["body"])]
    assert len(markers) == len(set(markers)), "a write reached a platform twice"
