"""Lexical evidence for retrieval: character n-gram TF-IDF over one version's clauses.

The offline embedder (a 4-bit multilingual-e5-small) ranks English well but
misses inflected forms in Lithuanian, Spanish and German ("sudaužyta" vs
"pažeista", "devolver" vs "devolución"). Character n-grams within word
boundaries share stems across inflections, so a small lexical term added
to the dense score recovers those (measured: ``casetrail kb eval``,
docs/benchmarks/drafter.md). Built per knowledge-base version (a few
hundred clauses at most), so it lives in the reader's memory, not in Qdrant.

A clause's lexical document is its passage followed by its anchoring
questions: on the sample KB's eval sets that beat the passage alone by 6
points of top-1 (0.729 -> 0.788 over the five locales, with dense scores
from the best of text and questions), since customers reuse the questions'
words more than the clause's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from casetrail.knowledge.clauses import Clause
from casetrail.tfidf import FittedTfidf

#: weight of the lexical cosine added to the dense cosine (chosen on the eval set, see module doc)
LEXICAL_WEIGHT = 0.15


class LexicalScorer:
    def __init__(self, clauses: Sequence[Clause], questions: bool = True):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.clause_ids = [c.clause_id for c in clauses]
        self._row = {cid: i for i, cid in enumerate(self.clause_ids)}
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
        texts = [" ".join((c.passage, *c.questions)) if questions else c.passage for c in clauses] or [""]
        try:
            self._matrix = self._vectorizer.fit_transform(texts)
        except ValueError:  # no n-grams at all (empty KB): every score is 0
            self._matrix = None
        else:
            # the query's row without scikit-learn's per-call validation (casetrail/tfidf.py says why)
            self._rows = FittedTfidf(self._vectorizer)

    def scores(self, query: str, clause_ids: Sequence[str]) -> np.ndarray:
        """Cosine similarity (rows are L2-normalised) of ``query`` with each clause in ``clause_ids``."""
        if self._matrix is None or not query.strip():
            return np.zeros(len(clause_ids), dtype=np.float32)
        q = self._rows.transform([query])
        rows = [self._row.get(cid, -1) for cid in clause_ids]
        sims = (self._matrix @ q.T).toarray().ravel()
        return np.array([sims[r] if r >= 0 else 0.0 for r in rows], dtype=np.float32)
