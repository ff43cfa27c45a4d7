"""Retrieval quality on a labelled question -> expected-clause set.

Questions live in ``<kb dir>/eval/<locale>.yaml`` as ``- q: "..."`` with
``expected: [clause ids]`` (any one of them counts as a hit, since several
clauses can answer one question). The knowledge base is published and searched
exactly as the drafter does it (dense Qdrant candidates, each clause scored
by its best match over its text and its anchoring questions, re-ranked with
the lexical term), each question embedded as a query: recall@1, recall@3 and
MRR (over the top 10) per locale, and the top-1 scores of right and wrong
top-1 answers (where a score threshold would separate them).

An eval question must not repeat one of the clause's anchoring questions
(``::: questions``): that would measure recall of the anchors, not retrieval.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import yaml

from casetrail.embeddings import Embedder
from casetrail.knowledge.clauses import LocaleKnowledgeBase, load_tenant
from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.index import RetrievalIndex
from casetrail.knowledge.publish import publish
from casetrail.knowledge.questions import normalised
from casetrail.knowledge.store import KnowledgeBase
from casetrail.knowledge.vector_cache import VectorCache

DEPTH = 10


@dataclasses.dataclass(frozen=True)
class LabelledQuestion:
    question: str
    expected: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class QuestionResult:
    question: str
    expected: tuple[str, ...]
    ranked: tuple[str, ...]  # clause ids, best first
    top_score: float
    second_score: float = 0.0  # the runner-up's score: top_score - second_score is the top-1's margin

    @property
    def rank(self) -> Optional[int]:
        """1-based rank of the first expected clause, None when not in the top ``DEPTH``."""
        for position, clause_id in enumerate(self.ranked, start=1):
            if clause_id in self.expected:
                return position
        return None


@dataclasses.dataclass(frozen=True)
class LocaleReport:
    locale: str
    results: tuple[QuestionResult, ...]

    def recall_at(self, k: int) -> float:
        hits = [r for r in self.results if r.rank is not None and r.rank <= k]
        return len(hits) / len(self.results) if self.results else 0.0

    @property
    def mrr(self) -> float:
        return float(np.mean([1.0 / r.rank if r.rank else 0.0 for r in self.results])) if self.results else 0.0

    @property
    def misses_at_3(self) -> list[QuestionResult]:
        return [r for r in self.results if r.rank is None or r.rank > 3]


def load_questions(path: Path, known_ids: Iterable[str], anchoring: Iterable[str] = ()) -> list[LabelledQuestion]:
    """Read a question file; an expected id the KB lacks is an error (the label is wrong),
    and so is a question that repeats one of the KB's ``anchoring`` questions."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    known = set(known_ids)
    anchors = {normalised(q) for q in anchoring}
    questions = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or "q" not in item or not item.get("expected"):
            raise ValueError(f"{path}: entry {number} needs 'q' and a non-empty 'expected' list")
        unknown = [cid for cid in item["expected"] if cid not in known]
        if unknown:
            raise ValueError(f"{path}: entry {number} expects unknown clause ids {unknown}")
        if normalised(str(item["q"])) in anchors:
            raise ValueError(f"{path}: entry {number} repeats an anchoring question of the KB: {item['q']!r}")
        questions.append(LabelledQuestion(str(item["q"]), tuple(item["expected"])))
    return questions


def top1_scores(reports: Iterable[LocaleReport], margin: bool = False) -> tuple[list[float], list[float]]:
    """Top-1 scores (or margins over the runner-up) of the questions whose top-1 clause answers them,
    and of those whose does not."""
    right, wrong = [], []
    for report in reports:
        for result in report.results:
            value = result.top_score - result.second_score if margin else result.top_score
            (right if result.rank == 1 else wrong).append(value)
    return right, wrong


def best_threshold(right: list[float], wrong: list[float]) -> tuple[float, int, int]:
    """The score threshold with the fewest errors (right top-1 below it + wrong top-1 at or above it).

    Returns ``(threshold, right below, wrong at or above)``; ties go to the higher threshold (fewer wrong answers).
    """
    candidates = sorted(set(right) | set(wrong) | {0.0})
    best = (0.0, 0, len(wrong))
    for t in candidates:
        lost, kept = sum(s < t for s in right), sum(s >= t for s in wrong)
        if lost + kept <= best[1] + best[2]:
            best = (t, lost, kept)
    return best


def evaluate_locale(kb: LocaleKnowledgeBase, questions: list[LabelledQuestion], knowledge: KnowledgeBase) -> LocaleReport:
    """Rank clauses for each question exactly as the drafter does (``KnowledgeBase.search``)."""
    query_vectors = knowledge.embedder.embed([q.question for q in questions], kind="query")
    results = []
    for question, vector in zip(questions, query_vectors):
        _, hits = knowledge.search(kb.tenant, kb.locale, vector, query_text=question.question, limit=DEPTH)
        results.append(QuestionResult(question.question, question.expected, tuple(h.clause.clause_id for h in hits),
                                      hits[0].score if hits else 0.0, hits[1].score if len(hits) > 1 else 0.0))
    return LocaleReport(kb.locale, tuple(results))


def evaluate(
    directory: Path, embedder: Embedder, locales: Optional[Iterable[str]] = None, anchors: bool = True,
    vector_cache: Optional[VectorCache] = None,
) -> list[LocaleReport]:
    """Every locale of ``directory`` that has ``eval/<locale>.yaml``.

    The knowledge base is published into a throw-away catalogue and an
    in-memory Qdrant, so evaluating never touches the real catalogue.
    ``anchors=False`` ranks by clause text alone (the baseline before question anchoring).
    ``vector_cache`` spares embedding the texts it has seen.
    """
    directory = Path(directory)
    if vector_cache is not None:  # clauses, anchoring questions and eval questions alike
        embedder = vector_cache.wrap(embedder)
    reports = []
    with tempfile.TemporaryDirectory(prefix="casetrail-kb-eval-") as scratch:
        catalogue = Catalogue(Path(scratch) / "catalogue.sqlite3")
        knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0,
                                  anchor_questions=anchors)
        try:
            kbs = [kb for kb in load_tenant(directory, locales=locales) if (directory / "eval" / f"{kb.locale}.yaml").exists()]
            if not kbs:
                return []
            publish(directory, embedder=embedder, catalogue=catalogue, tenant=kbs[0].tenant, human_version="eval",
                    locales=[kb.locale for kb in kbs])
            for kb in kbs:
                anchoring = [q for clause in kb.clauses for q in clause.questions]
                questions = load_questions(directory / "eval" / f"{kb.locale}.yaml", kb.by_id(), anchoring)
                reports.append(evaluate_locale(kb, questions, knowledge))
        finally:
            knowledge.close()
            catalogue.close()
    return reports
