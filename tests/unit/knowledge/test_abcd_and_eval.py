"""ABCD's guidelines published as a foreign KB; the labelled question sets and the evaluation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from kb_testing import SAMPLE_KB

from casetrail.knowledge.abcd import convert
from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.clauses import load_tenant
from casetrail.knowledge.evaluation import evaluate, load_questions
from casetrail.knowledge.publish import publish
from casetrail.policy.taxonomy import SUPPORTED_LOCALES

GUIDELINES = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "abcd" / "guidelines.json"


@pytest.mark.skipif(not GUIDELINES.exists(), reason="shared/datasets/abcd is not beside the repo")
def test_abcd_guidelines_publish_as_a_knowledge_base(tmp_path, embedder):
    folder = convert(GUIDELINES, tmp_path / "out")
    data = json.loads(GUIDELINES.read_text())
    subflows = sum(len(flow["subflows"]) for flow in data.values())
    [kb] = load_tenant(folder)
    assert kb.tenant == "abcd-clothing" and len(kb.clauses) == subflows == 55
    refund = kb.by_id()["product_defect.initiate_refund"]
    assert refund.section == "Product Defect" and "Pull up Account" in refund.text and "Offer Refund" in refund.text
    assert "MIT" in (folder / "NOTICE").read_text()
    [result] = publish(folder, embedder=embedder, catalogue=Catalogue(tmp_path / "c.sqlite3"))
    assert len(result.clause_ids) == 55 and result.version.kb_version.startswith("1+")


def test_question_sets_cover_every_clause_twice_and_repeat_no_anchor():
    kbs = load_tenant(SAMPLE_KB)
    assert sorted(kb.locale for kb in kbs) == sorted(SUPPORTED_LOCALES)
    for kb in kbs:
        anchoring = [q for c in kb.clauses for q in c.questions]
        # load_questions refuses an unknown clause id and a repeated anchoring question.
        questions = load_questions(SAMPLE_KB / "eval" / f"{kb.locale}.yaml", kb.by_id(), anchoring)
        first_choice = Counter(q.expected[0] for q in questions)
        assert all(first_choice[c.clause_id] >= 2 for c in kb.clauses), kb.locale
        clause_texts = " ".join(c.text.lower() for c in kb.clauses)
        # Written as customers write, not copied from the clauses.
        assert not any(q.question.lower() in clause_texts for q in questions)


def test_an_eval_question_repeating_an_anchoring_question_is_an_error(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump([{"q": "How long does delivery take??", "expected": ["shipping.times"]}]))
    with pytest.raises(ValueError, match="repeats an anchoring question"):
        load_questions(path, {"shipping.times"}, anchoring=["how long does delivery take"])


def test_unknown_expected_clause_is_an_error(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump([{"q": "hello?", "expected": ["no.such"]}]))
    with pytest.raises(ValueError, match="unknown clause ids"):
        load_questions(path, {"refunds.window"})


def test_evaluation_reports_recall_and_mrr(embedder):
    [report] = evaluate(SAMPLE_KB, embedder, locales=["en"])
    assert report.locale == "en" and len(report.results) >= 20
    assert 0.0 <= report.recall_at(1) <= report.recall_at(3) <= 1.0
    assert 0.0 < report.mrr <= 1.0
    for result in report.results:
        assert result.rank is None or result.ranked[result.rank - 1] in result.expected
