"""The correction loop end to end: agents reject a class of drafts in the console, their
corrections become evaluation examples, and the gate refuses a knowledge base that repeats the
error and promotes one that fixes it (the real decision chain: models, retrieval, verifier, router);
after the verdicts, the drafter serves the promoted knowledge base, not the refused one published later.

Production here is the sample knowledge base as it was before it had a clause for company details
on an invoice (``billing.business_invoice`` taken out): it answers those requests with the download
or the correction clause, and agents reject the drafts as citing the wrong clause. The fix is the
sample knowledge base as shipped; the refused candidate is production published again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casetrail.cli import app
from casetrail.codec import AvroCodec
from casetrail.events import FeedbackAction
from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.index import RetrievalIndex
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase
from casetrail.privacy.keystore import KeyStore
from casetrail.promotions import PromotedVersions
from casetrail.settings import REPO_ROOT, settings
from casetrail_tools.gate.run import VersionSpec, read_examples, run_gate
from services.drafter.app import served_versions
from services.review.evaluation_set import export_examples
from services.review.projection import Projector
from services.review.store import ReviewStore
from tests.unit.knowledge.kb_testing import HashingEmbedder
from tests.unit.review.factories import decision, feedback, verified

AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)  # a Wednesday, inside acme-shop's hours
# Requests for an invoice with company details, and the clause production's draft cited for each
# (what the agent saw and rejected as the wrong clause).
COMPANY_INVOICE_REQUESTS = {
    "how do i get a invoice with my company details if i already ordered as private": "billing.invoices",
    "I ordered as a private person but need the invoice in my company's name with our VAT number":
        "billing.invoice_correction",
    "please reissue my invoice with the company name and VAT ID, I forgot to add them at checkout":
        "billing.invoice_correction",
    "can you change the invoice to my business name? I already placed the order": "billing.invoice_correction",
}
FIXING_CLAUSE = "billing.business_invoice"
DEV_TICKETS = 12  # English dev-set tickets beside the corrections: a fix must not break them


@pytest.fixture(scope="module")
def corrections(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("loop")
    keystore = KeyStore(scratch / "keys.sqlite")
    codec = AvroCodec()
    projector = Projector(ReviewStore(scratch / "review.sqlite3"), codec, keystore)
    for n, text in enumerate(COMPANY_INVOICE_REQUESTS):
        conversation = f"loop-{n}"
        projector.apply([codec.encode(e) for e in (
            verified(conversation, f"d-{n}", ticket=text, subject="Invoice", category="invoice",
                     customer_id=f"c-{n}", text="Every order has a VAT invoice. [1]"),
            decision(conversation, f"d-{n}", category="invoice"),
            feedback(FeedbackAction.reject, conversation, f"d-{n}", reason="wrong_clause"),
        )])
    rows, skipped = export_examples(projector.store, keystore, "acme-shop")
    assert skipped == 0 and len(rows) == len(COMPANY_INVOICE_REQUESTS)
    return rows


@pytest.fixture(scope="module")
def examples(corrections):
    """The agents' rejections (with the clause production cited) plus English dev-set tickets."""
    rows = [{**row, "correction": {**row["correction"],
                                   "predicted_clauses": [f"{COMPANY_INVOICE_REQUESTS[row['text']]}@any"]}}
            for row in corrections]
    return rows + read_examples([REPO_ROOT / "evaluation" / "dev" / "en.jsonl"], limit_per_file=DEV_TICKETS)


def english_kb(root: Path, name: str, *, with_fix: bool) -> Path:
    """The sample KB's English part (the examples are English; publishing five locales for every
    version would only slow the test), with or without the clause that answers company invoices."""
    kb = root / name
    shutil.copytree(REPO_ROOT / "knowledge" / "acme-shop" / "en", kb / "en")
    if not with_fix:
        invoices = kb / "en" / "invoices.md"
        text = invoices.read_text()
        without = re.sub(rf"^## [^\n]*\{{#{re.escape(FIXING_CLAUSE)}\}}.*?(?=^## |\Z)", "", text, flags=re.S | re.M)
        assert without != text, f"the sample KB has no {FIXING_CLAUSE} clause to take out"
        invoices.write_text(without)
    return kb


def gate(production: VersionSpec, candidate: VersionSpec, examples: list[dict]):
    return run_gate(production, candidate, examples, "acme-shop", tenants_dir=settings().tenants_dir,
                    knowledge_dir=REPO_ROOT / "knowledge", at=AT)


def test_the_exported_examples_carry_the_rejected_clause_and_the_ticket(corrections):
    assert {row["correction"]["reason"] for row in corrections} == {"wrong_clause"}
    assert [row["correction"]["predicted_clauses"] for row in corrections] == [["shipping-1@kb-7"]] * 4
    assert sorted(row["text"] for row in corrections) == sorted(COMPANY_INVOICE_REQUESTS)


@pytest.mark.timeout(1800)
def test_the_gate_refuses_a_knowledge_base_that_repeats_the_error(examples, tmp_path):
    production = VersionSpec("knowledge_base", "production", english_kb(tmp_path, "kb-production", with_fix=False))
    repeated = gate(production, VersionSpec("knowledge_base", "same-clauses",
                                            english_kb(tmp_path, "kb-same", with_fix=False)), examples)
    assert not repeated.promoted
    # production (and the candidate) cite the rejected clause first for every rejected request
    assert repeated.production_errors >= len(COMPANY_INVOICE_REQUESTS), repeated
    assert repeated.candidate_errors == repeated.production_errors


@pytest.mark.timeout(1800)
def test_casetrail_gate_promotes_the_knowledge_base_that_fixes_it(examples, tmp_path, monkeypatch):
    """Through the command, with production taken from the promotions file: exit 0, the fix recorded."""
    promotions = tmp_path / "promoted.json"
    monkeypatch.setenv("CASETRAIL_PROMOTIONS_FILE", str(promotions))
    production = english_kb(tmp_path, "kb-production", with_fix=False)
    PromotedVersions(promotions).record("acme-shop", "knowledge_base", version="kb-before", source=str(production),
                                        outcome="promoted", error_rate=1.0)
    # the verdict on the candidate that repeats the error (as in the test above)
    repeated = english_kb(tmp_path, "kb-same-clauses", with_fix=False)
    PromotedVersions(promotions).record("acme-shop", "knowledge_base", version="kb-same-clauses",
                                        source=str(repeated), outcome="refused", error_rate=1.0)
    examples_file = tmp_path / "examples.jsonl"
    examples_file.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in examples[:4]))
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "en.jsonl").write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in examples[4:]))
    report = tmp_path / "verdict.json"
    result = CliRunner().invoke(app, [
        "gate", "--candidate", "kb-company-invoices", "--tenant", "acme-shop", "--kind", "knowledge_base",
        "--source", str(english_kb(tmp_path, "kb-fixed", with_fix=True)), "--examples", str(examples_file),
        "--dev", str(dev), "--at", AT.isoformat(), "--json", str(report), "--no-publish"])
    assert result.exit_code == 0, result.output
    assert "gate: PROMOTED kb-company-invoices (production kb-before)" in result.stdout
    verdict = json.loads(report.read_text())
    assert verdict["outcome"] == "promoted" and verdict["agent_examples"] == len(COMPANY_INVOICE_REQUESTS)
    assert verdict["candidate_error_rate"] < verdict["production_error_rate"]
    assert not [cell for cell in verdict["worse"] if cell["slice"].startswith("locale:")]
    assert PromotedVersions(promotions).promoted("acme-shop", "knowledge_base")["version"] == "kb-company-invoices"
    # The verdict is in the history with its dev-set measurement: the next candidate's rolling baseline.
    shown = CliRunner().invoke(app, ["gate", "history", "--tenant", "acme-shop", "--dev", str(dev)])
    assert shown.exit_code == 0, shown.output
    entry = PromotedVersions(promotions).history("acme-shop", "knowledge_base")[-1]
    assert entry["dev_examples"] == DEV_TICKETS and entry["dev_error_rate"] == verdict["candidate_dev_error_rate"]
    assert f"(kb-company-invoices {entry['dev_error_rate']:.4f})" in shown.stdout.splitlines()[-1]

    # The drafter then serves the promoted knowledge base, even with the refused one published after it.
    catalogue = Catalogue(tmp_path / "catalogue.sqlite3")
    for name, folder in (("kb-before", production), ("kb-company-invoices", tmp_path / "kb-fixed"),
                         ("kb-same-clauses", repeated)):
        publish(folder, embedder=HashingEmbedder(), catalogue=catalogue, tenant="acme-shop", human_version=name)
    assert catalogue.latest("acme-shop", "en").human_version == "kb-same-clauses"
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), HashingEmbedder(),
                              selection=served_versions(catalogue, {"acme-shop": None}))
    served = knowledge.active_version("acme-shop", "en")
    assert served.human_version == "kb-company-invoices"
    assert catalogue.resolve("acme-shop", "en", FIXING_CLAUSE, served.kb_version) is not None
    knowledge.close()
