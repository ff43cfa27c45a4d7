"""The ticket file of `casetrail eval decisions` and the summary's figures (pure, no models)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from casetrail.policy.tenant import load_policy
from casetrail.settings import REPO_ROOT
from casetrail_tools.decision_eval.chain import TicketDecision, next_business_moment
from casetrail_tools.decision_eval.summary import summarise
from casetrail_tools.decision_eval.tickets import EvalTicket, Expected, TicketFileError, intake_payload, read_tickets

POLICY = load_policy(REPO_ROOT / "config" / "tenants" / "acme-shop.yaml")


def _write(tmp_path, *lines):
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_ticket_file_is_read_with_its_labels(tmp_path):
    path = _write(tmp_path,
                  json.dumps({"id": "a", "text": "where is my order", "locale": "en",
                              "expected": {"category": "order_status", "human": False, "locale": "en"}}),
                  "",
                  json.dumps({"id": "b", "text": "Bonjour", "subject": "Question", "source": "email", "tags": ["x"]}))
    first, second = read_tickets(path)
    assert first == EvalTicket(id="a", text="where is my order", locale="en",
                               expected=Expected(category="order_status", human=False, locale="en"))
    assert (second.source, second.subject, second.expected) == ("email", "Question", Expected())


@pytest.mark.parametrize("line, message", [
    ("not json", "tickets.jsonl:2: not JSON"),
    (json.dumps({"text": "x"}), "tickets.jsonl:2: 'id' must be a non-empty string"),
    (json.dumps({"id": "ok", "text": "x"}), "tickets.jsonl:2: duplicate id 'ok'"),
    (json.dumps({"id": "c", "text": "x", "source": "fax"}), "tickets.jsonl:2: source 'fax' is not one of"),
    (json.dumps({"id": "c", "text": "x", "expected": {"human": "yes"}}), "'expected.human' must be true or false"),
    (json.dumps({"id": "c", "text": "x", "expected": {"sentiment": "meh"}}), "'expected.sentiment' must be one of"),
])
def test_a_bad_line_is_refused_naming_the_file_and_line(tmp_path, line, message):
    path = _write(tmp_path, json.dumps({"id": "ok", "text": "fine"}), line)
    with pytest.raises(TicketFileError) as error:
        read_tickets(path)
    assert message in str(error.value)


def test_each_source_gets_its_own_payload_shape():
    at = dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc)
    ticket = EvalTicket(id="t1", text="Wo ist mein Paket?", subject="Paket", locale="de")
    source, payload, content_type = intake_payload(ticket, at)
    doc = json.loads(payload)
    assert (source, content_type, doc["locale"], doc["messages"][0]["text"]) == (
        "generic", "application/json", "de", "Wo ist mein Paket?")
    source, payload, content_type = intake_payload(EvalTicket(id="t1", text="Hallo", subject="Paket", source="email"), at)
    assert (source, content_type) == ("email", "message/rfc822")
    assert payload.decode().endswith("\r\n\r\nHallo") and "Subject: Paket\r\n" in payload.decode()
    _, first, _ = intake_payload(EvalTicket(id="t1", text="x", source="zendesk"), at)
    _, again, _ = intake_payload(EvalTicket(id="t1", text="x", source="zendesk"), at)
    assert json.loads(first)["ticket"]["id"] == json.loads(again)["ticket"]["id"]


def test_the_default_moment_is_inside_business_hours():
    saturday_evening = dt.datetime(2026, 12, 5, 19, 0, tzinfo=dt.timezone.utc)
    moment = next_business_moment(POLICY, saturday_evening)
    # acme-shop: Europe/Vilnius, Mon-Fri 08:00-18:00 -> Monday 13:00 local = 11:00 UTC
    assert moment == dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.timezone.utc)


def _decision(ticket_id, category, action, *, confidence=0.9, out_of_scope=False, locale="en", sentiment=0.0):
    return TicketDecision(id=ticket_id, locale=locale, category=category, confidence=confidence,
                          out_of_scope=out_of_scope, action=action, queue=None, verdict="passed", failed_checks=[],
                          citations=[], reply="r" if action == "send" else None, sentiment=sentiment)


def test_the_summary_counts_what_its_definitions_say():
    human_category = next(name for name, c in POLICY.categories.items() if c.always_human)
    routine_category = next(name for name, c in POLICY.categories.items() if c.mode == "autonomous")
    other_category = next(name for name, c in POLICY.categories.items()
                          if c.mode == "autonomous" and name != routine_category)
    threshold = POLICY.category(other_category).threshold
    pairs = [
        # routine, sent, right
        (EvalTicket("1", "x", expected=Expected(routine_category, False, "en", "neutral")),
         _decision("1", routine_category, "send")),
        # routine, sent, wrong and confident
        (EvalTicket("2", "x", expected=Expected(routine_category, False, "en", "very_negative")),
         _decision("2", other_category, "send", confidence=threshold, sentiment=-0.9)),
        # routine, reviewed, wrong but below the threshold
        (EvalTicket("3", "x", expected=Expected(routine_category, False, "de", "neutral")),
         _decision("3", other_category, "review", confidence=threshold - 0.01, locale="unknown", sentiment=-0.9)),
        # must reach a human: escalated; and one wrongly sent
        (EvalTicket("4", "x", expected=Expected(human_category, True, "de")), _decision("4", human_category, "escalate", locale="de")),
        (EvalTicket("5", "x", expected=Expected("out_of_scope", True, "de")),
         _decision("5", routine_category, "send", out_of_scope=False, locale="de")),
        (EvalTicket("6", "x", expected=Expected("out_of_scope", True, "de")),
         _decision("6", "out_of_scope", "review", out_of_scope=True, confidence=0.0, locale="de")),
    ]
    summary = summarise(pairs, POLICY)
    overall = summary["overall"]
    assert (overall["routine"], overall["routine_sent"], overall["autonomous_send_rate"]) == (3, 2, 0.6667)
    assert (overall["sends"], overall["sends_right"], overall["send_precision"]) == (3, 1, 0.3333)
    assert (overall["must_reach_human"], overall["reached_human"], overall["human_sent"]) == (3, 2, 1)
    assert (overall["out_of_scope"], overall["out_of_scope_recall"]) == (2, 0.5)
    assert overall["confident_wrong"] == 2  # ticket 2 (at the threshold) and ticket 5 (0.9 >= any threshold)
    assert (overall["locale_accuracy"], overall["locale_unknown_rate"]) == (round(5 / 6, 4), round(1 / 6, 4))
    assert (overall["very_negative_found"], overall["very_negative_expected"], overall["very_negative_accuracy"]) == (
        2, 1, round(2 / 3, 4))
    assert overall["neutral_flagged_very_negative"] == 1
    assert summary["by_locale"]["de"]["tickets"] == 4
    assert summary["by_category"][routine_category]["autonomous_send_rate"] == 0.6667
    assert summary["by_category"]["out_of_scope"]["human_sent"] == 1


def test_confident_wrong_reads_the_confidence_the_verifier_gates_on():
    routine_category = next(name for name, c in POLICY.categories.items() if c.mode == "autonomous")
    other_category = next(name for name, c in POLICY.categories.items()
                          if c.mode == "autonomous" and name != routine_category)
    threshold = POLICY.category(other_category).threshold
    sure = dataclasses.replace(_decision("1", other_category, "send", confidence=0.99), draft_confidence=0.99)
    unsure_answer = dataclasses.replace(_decision("3", other_category, "review", confidence=0.99),
                                        draft_confidence=(threshold - 0.02) / 0.99)
    assert sure.gated_confidence == round(0.99 * 0.99, 4) and unsure_answer.gated_confidence < threshold
    pairs = [(EvalTicket(d.id, "x", expected=Expected(routine_category, False, "en")), d) for d in (sure, unsure_answer)]
    assert summarise(pairs, POLICY)["overall"]["confident_wrong"] == 1


def test_latency_figures_report_cpu_time_apart_from_wall_time():
    from casetrail_tools.decision_eval.runner import latency_figures

    # wall time four times the CPU time: what a core shared with other jobs looks like
    decisions = [dataclasses.replace(_decision(f"t{i}", "order_status", "send"),
                                     seconds={"ingest": 0.004 * i, "triage": 0.040 * i},
                                     cpu_seconds={"ingest": 0.001 * i, "triage": 0.010 * i}) for i in (1, 2, 3)]
    figures = latency_figures(decisions)
    assert figures["chain_ms"]["p50"] == 88.0
    assert figures["chain_cpu_ms"]["p50"] == 22.0
    assert figures["triage_cpu_ms"] == {"p50": 20.0, "p95": 30.0, "p99": 30.0, "mean": 20.0}
