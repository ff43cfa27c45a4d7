"""The correction loop end to end: agents reject a class of drafts in the console, their
corrections become evaluation examples, and the gate refuses a knowledge base that repeats the
error and promotes one that fixes it (the real decision chain: models, retrieval, verifier, router)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from casetrail.codec import AvroCodec
from casetrail.events import FeedbackAction
from casetrail.privacy.keystore import KeyStore
from casetrail.settings import REPO_ROOT, settings
from casetrail_tools.gate.run import VersionSpec, read_examples, run_gate
from services.review.evaluation_set import export_examples
from services.review.projection import Projector
from services.review.store import ReviewStore
from tests.unit.review.factories import decision, feedback, verified

AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)  # a Wednesday, inside acme-shop's hours
# Requests for an invoice with company details: the sample KB answers them with the generic invoice
# clause ("download it from the Orders page"), which agents reject as the wrong clause.
COMPANY_INVOICE_REQUESTS = [
    "how do i get a invoice with my company details if i already ordered as private",
    "I ordered as a private person but need the invoice in my company's name with our VAT number",
    "please reissue my invoice with the company name and VAT ID, I forgot to add them at checkout",
    "can you change the invoice to my business name? I already placed the order",
]
BUSINESS_INVOICE_CLAUSE = """
## Company details on an invoice {#billing.company_invoice category=billing}
If you need an invoice in your company's name with your VAT number for an order you already placed, reply with the company name, address and VAT number and we reissue the invoice within 2 business days. For future orders, add the company details under Account before you pay.
"""


@pytest.fixture(scope="module")
def corrections(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("loop")
    keystore = KeyStore(scratch / "keys.sqlite")
    codec = AvroCodec()
    projector = Projector(ReviewStore(scratch / "review.sqlite3"), codec, keystore)
    for n, text in enumerate(COMPANY_INVOICE_REQUESTS):
        conversation = f"loop-{n}"
        projector.apply([codec.encode(e) for e in (
            verified(conversation, f"d-{n}", ticket=text, category="billing", customer_id=f"c-{n}",
                     text="Every order has a VAT invoice. [1]"),
            decision(conversation, f"d-{n}", category="billing"),
            feedback(FeedbackAction.reject, conversation, f"d-{n}", reason="wrong_clause"),
        )])
    rows, skipped = export_examples(projector.store, keystore, "acme-shop")
    assert skipped == 0 and len(rows) == len(COMPANY_INVOICE_REQUESTS)
    return rows


def english_kb(tmp_path: Path, name: str, extra: str = "") -> Path:
    """The sample KB's English part (the examples are English; publishing five locales four times
    would only slow the test), with ``extra`` clauses appended to the payments page."""
    kb = tmp_path / name
    shutil.copytree(REPO_ROOT / "knowledge" / "acme-shop" / "en", kb / "en")
    payments = kb / "en" / "payments.md"
    payments.write_text(payments.read_text() + extra)
    return kb


def gate(production: VersionSpec, candidate: VersionSpec, examples: list[dict]):
    return run_gate(production, candidate, examples, "acme-shop", tenants_dir=settings().tenants_dir,
                    knowledge_dir=REPO_ROOT / "knowledge", at=AT)


def test_the_exported_examples_carry_the_rejected_clause_and_the_ticket(corrections):
    assert {row["correction"]["reason"] for row in corrections} == {"wrong_clause"}
    assert [row["correction"]["predicted_clauses"] for row in corrections] == [["shipping-1@kb-7"]] * 4
    assert sorted(row["text"] for row in corrections) == sorted(COMPANY_INVOICE_REQUESTS)


@pytest.mark.timeout(1800)
def test_the_gate_refuses_a_knowledge_base_that_repeats_the_error_and_promotes_the_fix(corrections, tmp_path):
    # What agents rejected: the generic invoice clause (as the production KB cites it today).
    examples = [{**row, "correction": {**row["correction"], "predicted_clauses": ["billing.invoices@any"]}}
                for row in corrections]
    examples += read_examples([REPO_ROOT / "evaluation" / "dev" / "en.jsonl"], limit_per_file=12)

    production = VersionSpec("knowledge_base", "production", english_kb(tmp_path, "kb-production"))
    repeated = gate(production, VersionSpec("knowledge_base", "same-clauses", english_kb(tmp_path, "kb-same")), examples)
    assert not repeated.promoted
    assert repeated.production_errors >= len(COMPANY_INVOICE_REQUESTS)  # production repeats every rejection

    fixed = gate(production, VersionSpec("knowledge_base", "company-invoice-clause",
                                         english_kb(tmp_path, "kb-fixed", BUSINESS_INVOICE_CLAUSE)), examples)
    assert fixed.promoted, [(c.slice, c.production_errors, c.candidate_errors) for c in fixed.cells]
    assert fixed.candidate_errors < fixed.production_errors
    assert not [c for c in fixed.worse if c.slice.startswith("locale:")]
