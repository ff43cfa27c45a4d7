"""`casetrail eval readings`: a run's sends joined with people's readings of (ticket, first clause)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from casetrail_tools.decision_eval.commands import eval_app
from casetrail_tools.decision_eval.readings import ReadingsError, read_decisions, score_sends, unread_rows
from casetrail_tools.decision_eval.tickets import parse_ticket


def ticket(ticket_id: str, category: str, locale: str = "en", text: str = "where is my parcel"):
    return parse_ticket({"id": ticket_id, "text": text, "expected": {"category": category, "locale": locale}},
                        ticket_id)


def decision(ticket_id: str, action: str, category: str, clause: str | None, locale: str = "en"):
    return {"id": ticket_id, "action": action, "category": category, "locale": locale,
            "citations": [f"{clause}@1+abc", f"{clause}@1+abc"] if clause else [], "reply": f"reply of {ticket_id}"}


TICKETS = {t.id: t for t in (ticket("dev-en-0001", "order_status"), ticket("dev-en-0002", "order_status"),
                              ticket("dev-en-0003", "invoice"), ticket("dev-de-0004", "invoice", "de"),
                              ticket("dev-en-0005", "order_status"), ticket("dev-en-0006", "refund_status"))}


def test_sends_are_tallied_by_their_reading_per_half_and_locale():
    decisions = [
        decision("dev-en-0001", "send", "order_status", "shipping.tracking"),   # tune, answers
        decision("dev-en-0002", "send", "order_status", "shipping.tracking"),   # check, does not answer
        decision("dev-en-0003", "send", "order_status", "shipping.tracking"),   # tune, answers but wrong category
        decision("dev-de-0004", "send", "invoice", "billing.invoices", "de"),   # check, unread
        decision("dev-en-0005", "escalate", "order_status", "shipping.tracking"),  # not a send: ignored
    ]
    readings = {("dev-en-0001", "shipping.tracking"): True, ("dev-en-0002", "shipping.tracking"): False,
                ("dev-en-0003", "shipping.tracking"): True, ("dev-en-0005", "shipping.tracking"): False}
    report = score_sends(decisions, readings, TICKETS).as_dict()

    assert report["overall"] == {"sends": 4, "read": 3, "unread": 1, "answers": 2, "answers_in_category": 1,
                                 "answers_share": round(2 / 3, 4), "answers_in_category_share": round(1 / 3, 4)}
    assert report["by_half"]["tune"]["answers_in_category"] == 1 and report["by_half"]["tune"]["read"] == 2
    assert report["by_half"]["check"]["answers"] == 0 and report["by_half"]["check"]["unread"] == 1
    assert report["by_locale"]["de"]["check"] == {"sends": 1, "read": 0, "unread": 1, "answers": 0,
                                                  "answers_in_category": 0, "answers_share": None,
                                                  "answers_in_category_share": None}
    assert report["unread"] == [{"id": "dev-de-0004", "citations": ["billing.invoices@1+abc"] * 2}]


def test_a_reading_of_another_first_clause_does_not_count():
    decisions = [decision("dev-en-0001", "send", "order_status", "shipping.tracking_stuck")]
    report = score_sends(decisions, {("dev-en-0001", "shipping.tracking"): True}, TICKETS)
    assert (report.overall.read, len(report.unread)) == (0, 1)


def test_unread_sends_are_written_for_a_reader_in_the_judged_format():
    decisions = [decision("dev-en-0006", "send", "refund_status", "refunds.status")]
    rows = unread_rows(score_sends(decisions, {}, TICKETS), TICKETS)
    assert rows == [{"id": "dev-en-0006", "locale": "en", "category": "refund_status",
                     "citations": ["refunds.status@1+abc"] * 2, "request": "where is my parcel",
                     "reply": "reply of dev-en-0006", "answers": None, "category_fits": None,
                     "category_matches_label": True, "problems": [], "note": "", "read_by": ""}]


def test_a_file_that_is_not_a_decisions_report_is_refused_with_its_name(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"summary": {}}))
    with pytest.raises(ReadingsError, match="other.json: not the JSON of `casetrail eval decisions`"):
        read_decisions(path)


def test_the_command_prints_the_figures_and_writes_the_unread_sends(tmp_path):
    tickets = tmp_path / "dev.jsonl"
    tickets.write_text("".join(json.dumps({"id": t.id, "text": t.text, "expected": {"category": t.expected.category,
                                                                                   "locale": t.expected.locale}}) + "\n"
                               for t in TICKETS.values()))
    judged = tmp_path / "judged.jsonl"
    judged.write_text(json.dumps({"id": "dev-en-0001", "citations": ["shipping.tracking@1+abc"], "answers": True}) + "\n")
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({"tickets": [decision("dev-en-0001", "send", "order_status", "shipping.tracking"),
                                                 decision("dev-en-0006", "send", "refund_status", "refunds.status")]}))
    unread, figures = tmp_path / "unread.jsonl", tmp_path / "figures.json"
    result = CliRunner().invoke(eval_app, ["readings", "--decisions", str(decisions), "--tickets", str(tickets),
                                           "--judged", str(judged), "--unread", str(unread), "--json", str(figures)])
    assert result.exit_code == 0, result.output
    assert "1 sends have no reading yet" in result.output
    assert [json.loads(line)["id"] for line in unread.read_text().splitlines()] == ["dev-en-0006"]
    assert json.loads(figures.read_text())["overall"]["answers_in_category"] == 1
