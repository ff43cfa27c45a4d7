"""The clause classifier: what it learns from anchoring questions, how it orders hits, and how the reader fits it."""

from __future__ import annotations

import numpy as np
import pytest
from kb_testing import write

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.clause_classifier import WEIGHT, ClauseClassifier
from casetrail.knowledge.clauses import Clause
from casetrail.knowledge.index import RetrievalIndex, ScoredClause
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase


def _unit(*xyz: float) -> np.ndarray:
    v = np.array(xyz, dtype=np.float32)
    return v / np.linalg.norm(v)


def _hit(clause_id: str, score: float) -> ScoredClause:
    return ScoredClause(Clause(clause_id, clause_id, "text", "en"), score, dense=score)


# "shipped": a dozen questions around the x axis; "delay": questions around the y axis, one of them leaning
# towards x — the single point that lets max-similarity retrieval pick "delay" for a request on the x axis.
rng = np.random.default_rng(7)
SHIPPED = [_unit(1.0, *rng.normal(0, 0.15, 2)) for _ in range(12)]
DELAY = [_unit(*rng.normal(0, 0.15, 1), 1.0, *rng.normal(0, 0.15, 1)) for _ in range(11)] + [_unit(1.0, 0.45, 0.0)]
LABELS = ["orders.shipped"] * len(SHIPPED) + ["orders.delay"] * len(DELAY)
VECTORS = np.array(SHIPPED + DELAY, dtype=np.float32)


def test_the_clause_whose_questions_surround_the_request_is_ranked_first_with_scores_unchanged():
    classifier = ClauseClassifier.fit(LABELS, VECTORS)
    request = _unit(1.0, 0.05, 0.0)
    probability = classifier.probabilities(request)
    assert probability["orders.shipped"] > 0.9 and sum(probability.values()) == pytest.approx(1.0)
    close = [_hit("orders.delay", 0.90), _hit("orders.shipped", 0.90 - WEIGHT / 2)]  # within the weight
    ranked = classifier.rerank(close, request)
    assert [h.clause.clause_id for h in ranked] == ["orders.shipped", "orders.delay"]
    assert [h.score for h in ranked] == [0.90 - WEIGHT / 2, 0.90]  # the score stays retrieval's evidence
    assert ranked[0].classifier_probability == pytest.approx(probability["orders.shipped"])


def test_a_clear_retrieval_lead_is_not_overturned():
    classifier = ClauseClassifier.fit(LABELS, VECTORS)
    ranked = classifier.rerank([_hit("orders.delay", 0.95), _hit("orders.shipped", 0.95 - 2 * WEIGHT)],
                               _unit(1.0, 0.05, 0.0))
    assert [h.clause.clause_id for h in ranked] == ["orders.delay", "orders.shipped"]


def test_a_clause_it_does_not_know_gets_probability_0_and_ranks_by_score():
    classifier = ClauseClassifier.fit(LABELS, VECTORS)
    ranked = classifier.rerank([_hit("orders.new", 0.90 + WEIGHT + 0.01), _hit("orders.shipped", 0.90)], _unit(1.0, 0.05, 0.0))
    assert [(h.clause.clause_id, h.classifier_probability) for h in ranked][0] == ("orders.new", 0.0)


def test_nothing_to_tell_apart_is_no_classifier_and_a_refit_of_the_same_examples_is_reused():
    assert ClauseClassifier.fit(["a.only"] * 3, VECTORS[:3]) is None
    assert ClauseClassifier.fit([], np.zeros((0, 3), np.float32)) is None
    assert ClauseClassifier.fit(LABELS, VECTORS.copy()) is ClauseClassifier.fit(LABELS, VECTORS.copy())
    other = ClauseClassifier.fit(LABELS[::-1], VECTORS)
    assert other is not ClauseClassifier.fit(LABELS, VECTORS)


KB_EN = """# Orders

## Has it shipped {#orders.shipped}
Your order's page says Shipped once the parcel has left our warehouse.

::: questions
- has my order shipped
- did you send my parcel yet
:::

## Processing delay {#orders.delay}
An order can stay in processing for up to 3 working days.

::: questions
- why is my order still processing
:::
"""

KB_DE = """# Bestellungen

## Versendet {#orders.shipped}
Auf der Seite Ihrer Bestellung steht Versendet, sobald das Paket unser Lager verlassen hat.

::: questions
- ist meine bestellung schon versendet
:::

## Bearbeitung {#orders.delay}
Eine Bestellung kann bis zu 3 Werktage in Bearbeitung bleiben.

::: questions
- warum ist meine bestellung noch in bearbeitung
:::
"""


def test_the_reader_fits_one_classifier_per_tenant_over_every_locale_and_refits_when_a_version_changes(
        tmp_path, embedder):
    write(tmp_path / "acme" / "en", "orders.md", KB_EN)
    write(tmp_path / "acme" / "de", "orders.md", KB_DE)
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)
    request = "has my order shipped yet"
    _, hits = knowledge.search("acme", "en", embedder.embed([request])[0], query_text=request)
    assert {h.clause.clause_id for h in hits} == {"orders.shipped", "orders.delay"}
    assert all(h.classifier_probability > 0 for h in hits) and sum(h.classifier_probability for h in hits) == pytest.approx(1.0)
    first = knowledge.clause_classifier("acme")
    assert knowledge.clause_classifier("acme") is first  # not refitted per search
    # a new German question publishes a new de version: the classifier the en search uses is refitted
    write(tmp_path / "acme" / "de", "orders.md", KB_DE.replace(
        "- ist meine bestellung schon versendet\n", "- ist meine bestellung schon versendet\n- wann geht mein paket raus\n"))
    publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    refitted = knowledge.clause_classifier("acme")
    assert refitted is not first and refitted.clause_ids == ("orders.delay", "orders.shipped")
    knowledge.close()


def test_ranking_by_clause_text_alone_fits_no_classifier(tmp_path, embedder):
    write(tmp_path / "acme" / "en", "orders.md", KB_EN)
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0,
                              anchor_questions=False)
    _, hits = knowledge.search("acme", "en", embedder.embed(["has my order shipped"])[0], query_text="has my order shipped")
    assert knowledge.clause_classifier("acme") is None and [h.classifier_probability for h in hits] == [0.0, 0.0]
    knowledge.close()
