"""`casetrail eval decisions` runs the services' own stages over real models and the sample tenant."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from casetrail.cli import app

REPORT_KEYS = {"id", "locale", "category", "confidence", "out_of_scope", "action", "queue", "verdict",
               "failed_checks", "citations", "reply"}


def test_the_command_decides_every_ticket_and_writes_the_report(tmp_path):
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in [
        {"id": "fraud", "text": "There are three orders on my account that I never placed and my card was charged "
                                "for all of them. Someone must have hacked my account!",
         "expected": {"category": "fraud_report", "human": True, "locale": "en"}},
        {"id": "empty", "text": "   ", "expected": {"human": True}},
        {"id": "password", "text": "Ich habe mein Passwort vergessen und komme nicht mehr in mein Konto.",
         "subject": "Passwort", "source": "email", "expected": {"locale": "de"}},
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["eval", "decisions", "--tickets", str(tickets), "--tenant", "acme-shop",
                                      "--at", "2026-12-07T11:00:00Z", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    by_id = {entry["id"]: entry for entry in report["tickets"]}
    assert [set(entry) for entry in report["tickets"]] == [REPORT_KEYS] * 3
    assert by_id["fraud"]["action"] == "escalate" and by_id["fraud"]["reply"] is None
    assert by_id["fraud"]["category"] == "fraud_report"
    assert by_id["empty"]["action"] == "rejected"
    assert by_id["password"]["locale"] == "de"
    summary = report["summary"]
    assert summary["at"] == "2026-12-07T11:00:00+00:00"
    assert summary["overall"]["must_reach_human"] == 2 and summary["overall"]["human_sent"] == 0
    assert "tenant acme-shop at 2026-12-07T11:00:00+00:00" in result.output


def test_an_unknown_tenant_is_a_clear_error(tmp_path):
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_text(json.dumps({"id": "a", "text": "hello"}) + "\n")
    result = CliRunner().invoke(app, ["eval", "decisions", "--tickets", str(tickets), "--tenant", "nobody"])
    assert result.exit_code == 2
    assert "no policy for tenant 'nobody'" in result.output
