"""``casetrail ingest check``: the interface other tools read (issue 17)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from services.ingest.cli import app

VENDOR = Path(__file__).parent / "fixtures" / "vendor"


def test_check_reports_accepted_rejected_and_flagged_with_redacted_text(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"ticket": ')
    out = tmp_path / "results.json"
    result = CliRunner().invoke(app, ["check", "--source", "zendesk", "--tenant", "acme-shop",
                                      str(VENDOR / "zendesk_ticket_object_bare.json"),
                                      str(VENDOR / "zendesk_ticket_created_by_trigger.json"), str(broken), "--json", str(out)])
    assert result.exit_code == 1  # a rejected file
    results = json.loads(out.read_text())["results"]
    assert [r["outcome"] for r in results] == ["accepted", "flagged", "rejected"]
    assert set(results[0]) == {"file", "outcome", "reason", "flags", "subject", "locale", "customer_id", "messages"}
    assert results[0]["customer_id"] == "20978392" and results[0]["messages"][0]["role"] == "customer"
    assert results[1]["flags"] == ["automated:auto_generated", "signal:via.source.rel: automation"]
    assert results[2]["reason"].startswith("invalid_json:")


def test_check_redacts_what_ingest_redacts(tmp_path):
    out = tmp_path / "results.json"
    CliRunner().invoke(app, ["check", "--source", "email", str(VENDOR / "email_out_of_office_exchange.eml"), "--json", str(out)])
    text = json.loads(out.read_text())["results"][0]["messages"][0]["text"]
    assert "1234567" not in text and "[PHONE_1]" in text
