"""Which clause answers, and the calibrated confidence that it does (pure)."""

from __future__ import annotations

import json

import pytest

from casetrail.knowledge.clauses import Clause
from casetrail.knowledge.index import ScoredClause
from services.drafter.answer import NO_COMPETITOR_MARGIN, AnswerFeatures, choose_answer
from services.drafter.answer_confidence import AnswerConfidence, fit


def hit(clause_id: str, category: str, score: float, question: str | None = None) -> ScoredClause:
    return ScoredClause(Clause(clause_id=clause_id, title=clause_id, text="x", locale="en", category=category), score,
                        question=question)


HITS = [hit("shipping.lost", "delivery_problem", 0.97), hit("shipping.times", "delivery_time", 0.95),
        hit("shipping.delays", "delivery_problem", 0.94), hit("orders.status", "order_status", 0.80)]


def test_the_answer_is_the_best_clause_of_triages_category():
    answer = choose_answer(HITS, "delivery_time", 0.9, min_score=0.9)
    assert answer.clause.clause.clause_id == "shipping.times"
    # it trails the best other-category clause by 0.02: an ambiguous question
    assert answer.features == AnswerFeatures(score=0.95, margin=-0.02, agrees=True, intent=0.9, lead=-0.02,
                                             anchored=False)


def test_without_a_clause_of_that_category_the_best_clause_answers_and_disagrees():
    answer = choose_answer(HITS, "invoice", 0.7, min_score=0.9)
    assert answer.clause.clause.clause_id == "shipping.lost"
    assert (answer.features.agrees, answer.features.margin) == (False, 0.02)  # leads delivery_time's 0.95


def test_same_category_clauses_do_not_compete_and_nothing_grounds_below_the_floor():
    answer = choose_answer(HITS[:1] + HITS[2:3], "delivery_problem", 0.9, min_score=0.9)
    assert answer.features.margin == NO_COMPETITOR_MARGIN
    assert choose_answer(HITS, "delivery_time", 0.9, min_score=0.99) is None
    # a clause of the category below the floor is not chosen over a grounded one
    assert choose_answer(HITS, "order_status", 0.9, min_score=0.9).clause.clause.clause_id == "shipping.lost"


def test_lead_counts_a_same_category_neighbour_and_anchored_says_what_matched():
    # shipping.delays is of the answer's own category: it does not count against the margin,
    # but a neighbouring clause of the same topic scoring as well does shrink the lead.
    hits = [hit("shipping.lost", "delivery_problem", 0.97, question="my parcel is lost"),
            hit("shipping.delays", "delivery_problem", 0.96), hit("orders.status", "order_status", 0.80)]
    answer = choose_answer(hits, "delivery_problem", 0.9, min_score=0.9)
    assert (answer.features.margin, answer.features.lead, answer.features.anchored) == (0.17, 0.01, True)
    alone = choose_answer(hits[:1], "delivery_problem", 0.9, min_score=0.9)
    assert (alone.features.margin, alone.features.lead) == (NO_COMPETITOR_MARGIN, NO_COMPETITOR_MARGIN)
    # matched on the clause text, not on one of its questions
    assert choose_answer(hits[1:], "delivery_problem", 0.9, min_score=0.9).features.anchored is False


def test_the_fitted_confidence_orders_answers_and_survives_its_json(tmp_path):
    good = [AnswerFeatures(0.97 + i / 1000, 0.05, True, 0.95, 0.04, True) for i in range(20)]
    bad = [AnswerFeatures(0.93 - i / 1000, -0.02, False, 0.5, -0.02, False) for i in range(20)]
    model = fit(good + bad, [True] * 20 + [False] * 20, {"tickets": "test"})
    assert model.probability(good[0]) > 0.9 > 0.1 > model.probability(bad[0])
    path = tmp_path / "m.json"
    path.write_text(model.to_json())
    loaded = AnswerConfidence.load(path)
    assert loaded.version == model.version and loaded.probability(good[3]) == model.probability(good[3])


def test_a_broken_model_file_is_refused_with_its_path(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"intercept": 0.0, "weights": {"score": 1.0}}))
    with pytest.raises(ValueError, match="m.json: not an answer-confidence model"):
        AnswerConfidence.load(path)


def test_calibration_needs_both_outcomes():
    with pytest.raises(ValueError):
        fit([AnswerFeatures(0.9, 0.0, True, 0.9, 0.0, True)] * 3, [True] * 3, {})
