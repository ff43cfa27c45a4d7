"""`casetrail eval decisions` runs the services' own stages over real models and the sample tenant."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from casetrail.cli import app
from casetrail.settings import REPO_ROOT
from casetrail_tools.decision_eval.chain import build_chain
from casetrail_tools.decision_eval.tickets import EvalTicket
from tests.support.chat_completions import ChatServer

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


def test_the_evaluation_drafts_with_the_llm_composer_the_drafter_settings_name(monkeypatch):
    chat = ChatServer()
    chat.replies.append((200, json.dumps({"sentences": [
        {"text": "Send the item back within 30 days with the return form.", "citations": [1]}]})))
    monkeypatch.setenv("CASETRAIL_DRAFTER_LLM_URL", chat.url)
    monkeypatch.setenv("CASETRAIL_DRAFTER_LLM_MODEL", "test-model")
    try:
        chain, scratch = build_chain("acme-shop", tenants_dir=REPO_ROOT / "config" / "tenants",
                                     knowledge_dir=REPO_ROOT / "knowledge")
        try:
            decision = chain.decide(EvalTicket(id="return", text="How do I return something?", locale="en"),
                                    dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc))
        finally:
            scratch.cleanup()
    finally:
        chat.close()
    assert chain.versions["composer"] == "llm"
    assert [request["body"]["model"] for request in chat.requests] == ["test-model"]
    assert "Send the item back within 30 days with the return form. [1]" in decision.draft_text
    # the model's [1] is the first clause the prompt listed, and the draft cites it
    first_listed = chat.requests[0]["body"]["messages"][1]["content"].split("[1] (")[1].split(")")[0]
    assert decision.citations[0].split("@")[0] == first_listed


def test_a_failing_llm_endpoint_stops_the_evaluation_with_the_reason(tmp_path, monkeypatch):
    chat = ChatServer()
    chat.replies.append((503, ""))
    monkeypatch.setenv("CASETRAIL_DRAFTER_LLM_URL", chat.url)
    monkeypatch.setenv("CASETRAIL_DRAFTER_LLM_MODEL", "test-model")
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_text(json.dumps({"id": "return", "text": "How do I return something?", "locale": "en"}) + "\n")
    try:
        result = CliRunner().invoke(app, ["eval", "decisions", "--tickets", str(tickets), "--tenant", "acme-shop",
                                          "--at", "2026-12-07T11:00:00Z"])
    finally:
        chat.close()
    assert result.exit_code == 2, result.output
    assert "ticket 'return': LLM endpoint answered 503 (llm composer); the evaluation stopped" in result.output
