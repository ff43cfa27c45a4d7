"""The correction loop for reply templates: agents reject drafts for their tone, the rejected text
is kept (sealed) with the evaluation example, and the gate refuses a template set that says the
same words again or that drops what the verifier requires, and promotes one in new words (the real
decision chain: models, retrieval, verifier, router). The drafter then serves the promoted set.

The rejected drafts are what production (the built-in templates) really wrote for five English
order-status requests of the dev set, decided by the chain below.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casetrail.cli import app
from casetrail.codec import AvroCodec
from casetrail.events import FeedbackAction
from casetrail.privacy.keystore import KeyStore
from casetrail.promotions import PromotedVersions
from casetrail.settings import REPO_ROOT, settings
from casetrail_tools.decision_eval.chain import build_chain
from casetrail_tools.decision_eval.tickets import parse_ticket
from casetrail_tools.gate.run import VersionSpec, read_examples, run_gate
from services.drafter.app import served_templates
from services.drafter.templates import BUILTIN
from services.review.evaluation_set import export_examples
from services.review.projection import Projector
from services.review.store import ReviewStore
from tests.unit.review.factories import decision, feedback, verified

AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)  # a Wednesday, inside acme-shop's hours
TONE_REJECTED = ("dev-en-0048", "dev-en-0112", "dev-en-0153", "dev-en-0165", "dev-en-0225")  # order status
DEV_TICKETS = 12  # English dev-set tickets beside the corrections: a new wording must not break them
SAME_WORDS = "greeting:\n  en: 'Hi,'\n"  # only the one-word greeting changes: the rejected lines stay
REWORDED = """
openers:
  en:
    order_status: "Here is where things stand with your order{about}."
closing:
  en: "Questions left? Answer this e-mail and we will pick it up."
"""
NO_AI_DISCLOSURE = "disclosure:\n  en: 'This reply comes from our support team. You can ask for a person at any time.'\n"


@pytest.fixture(scope="module")
def english_knowledge(tmp_path_factory) -> Path:
    """The sample KB's English part (the examples are English; publishing five locales per chain
    would only slow the test)."""
    root = tmp_path_factory.mktemp("knowledge")
    shutil.copytree(REPO_ROOT / "knowledge" / "acme-shop" / "en", root / "acme-shop" / "en")
    return root


@pytest.fixture(scope="module")
def tone_rejections(tmp_path_factory, english_knowledge):
    """Production's drafts for the order-status requests, rejected by agents for their tone, exported."""
    dev = {row["id"]: row for row in read_examples([REPO_ROOT / "evaluation" / "dev" / "en.jsonl"])}
    chain, scratch = build_chain("acme-shop", tenants_dir=settings().tenants_dir, knowledge_dir=english_knowledge)
    try:
        decided = {ticket_id: chain.decide(parse_ticket(dev[ticket_id], ticket_id), AT) for ticket_id in TONE_REJECTED}
    finally:
        scratch.cleanup()
    opener = BUILTIN.opener("en", "order_status", None).rstrip(".")
    assert all(d.draft_text and opener in d.draft_text for d in decided.values()), decided
    work = tmp_path_factory.mktemp("loop")
    keystore = KeyStore(work / "keys.sqlite")
    codec = AvroCodec()
    projector = Projector(ReviewStore(work / "review.sqlite3"), codec, keystore)
    for n, (ticket_id, made) in enumerate(decided.items()):
        conversation = f"tone-{n}"
        projector.apply([codec.encode(e) for e in (
            verified(conversation, f"d-{n}", ticket=dev[ticket_id]["text"], subject="Order", category="order_status",
                     customer_id=f"c-{n}", text=made.draft_text),
            decision(conversation, f"d-{n}", category="order_status"),
            feedback(FeedbackAction.reject, conversation, f"d-{n}", reason="tone"),
        )])
    rows, skipped = export_examples(projector.store, keystore, "acme-shop")
    assert skipped == 0 and len(rows) == len(TONE_REJECTED)
    return rows, {dev[ticket_id]["text"]: made.draft_text for ticket_id, made in decided.items()}


@pytest.fixture(scope="module")
def examples(tone_rejections):
    rows, _ = tone_rejections
    return rows + read_examples([REPO_ROOT / "evaluation" / "dev" / "en.jsonl"], limit_per_file=DEV_TICKETS)


def candidate(tmp_path: Path, name: str, text: str) -> VersionSpec:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return VersionSpec("template", name, path)


def gate(candidate_spec: VersionSpec, examples: list[dict], knowledge: Path):
    production = VersionSpec("template", BUILTIN.version, None)
    return run_gate(production, candidate_spec, examples, "acme-shop", tenants_dir=settings().tenants_dir,
                    knowledge_dir=knowledge, at=AT)


def test_the_exported_examples_keep_the_rejected_draft_text(tone_rejections):
    rows, drafts = tone_rejections
    assert {row["correction"]["reason"] for row in rows} == {"tone"}
    assert {row["text"]: row["rejected_draft"] for row in rows} == drafts


@pytest.mark.timeout(1800)
def test_the_gate_refuses_templates_that_say_the_rejected_words_again(examples, english_knowledge, tmp_path):
    verdict = gate(candidate(tmp_path, "hi-greeting", SAME_WORDS), examples, english_knowledge)
    assert not verdict.promoted
    assert verdict.production_errors >= len(TONE_REJECTED), verdict
    assert verdict.candidate_errors == verdict.production_errors


@pytest.mark.timeout(1800)
def test_the_gate_refuses_templates_whose_disclosure_no_longer_says_ai(examples, english_knowledge, tmp_path):
    verdict = gate(candidate(tmp_path, "no-ai-word", NO_AI_DISCLOSURE), examples, english_knowledge)
    assert not verdict.promoted
    # every drafted reply now fails the verifier's disclosure check: far more errors than production
    assert verdict.candidate_errors > verdict.production_errors + DEV_TICKETS // 2, verdict
    assert "locale:en" in {cell.slice for cell in verdict.worse}


@pytest.mark.timeout(1800)
def test_casetrail_gate_promotes_templates_in_new_words_and_the_drafter_serves_them(examples, tmp_path,
                                                                                     monkeypatch):
    promotions = tmp_path / "promoted.json"
    monkeypatch.setenv("CASETRAIL_PROMOTIONS_FILE", str(promotions))
    examples_file = tmp_path / "examples.jsonl"
    examples_file.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in examples[:len(TONE_REJECTED)]))
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "en.jsonl").write_text("".join(json.dumps(row, ensure_ascii=False) + "\n"
                                          for row in examples[len(TONE_REJECTED):]))
    source = tmp_path / "reworded.yaml"
    source.write_text(REWORDED, encoding="utf-8")
    report = tmp_path / "verdict.json"
    result = CliRunner().invoke(app, [
        "gate", "--candidate", "templates-reworded", "--tenant", "acme-shop", "--kind", "template",
        "--source", str(source), "--examples", str(examples_file), "--dev", str(dev), "--at", AT.isoformat(),
        "--json", str(report), "--no-publish"])
    assert result.exit_code == 0, result.output
    assert f"gate: PROMOTED templates-reworded (production {BUILTIN.version})" in result.stdout
    verdict = json.loads(report.read_text())
    assert verdict["outcome"] == "promoted" and verdict["agent_examples"] == len(TONE_REJECTED)
    assert verdict["candidate_error_rate"] < verdict["production_error_rate"]
    assert PromotedVersions(promotions).promoted("acme-shop", "template")["version"] == "templates-reworded"
    served = served_templates({"acme-shop": None}, promotions)["acme-shop"]
    assert served.version == "templates-reworded"
    assert served.opener("en", "order_status", None) == "Here is where things stand with your order."
