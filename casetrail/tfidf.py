"""A fitted scikit-learn ``TfidfVectorizer``'s ``transform``, for one ticket at a time.

Why: the decision chain turns one ticket into TF-IDF rows three times (the intent model's
character and word n-grams, the knowledge base's lexical score). scikit-learn's
``transform`` validates its parameters, its input and its output on every call (parameter
validation, dataframe detection, finiteness checks); for a single short text that costs
about three times the counting itself (~1.7 ms against ~0.5 ms per call here). This class
keeps scikit-learn's fitted analyser, vocabulary and idf weights and repeats only the
arithmetic of ``TfidfVectorizer.transform`` (counts → optional ``1 + log(tf)`` → × idf →
L2 norm). tests/unit/foundation/test_tfidf.py holds it to scikit-learn's own output.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np


class FittedTfidf:
    """``transform(texts)`` equal to ``vectorizer.transform(texts)`` for a fitted vectorizer."""

    def __init__(self, vectorizer) -> None:
        if vectorizer.norm not in ("l2", None) or getattr(vectorizer, "binary", False):
            raise ValueError("FittedTfidf repeats only l2/no norm and counted (not binary) terms")
        self._analyse = vectorizer.build_analyzer()
        # fitted (vocabulary_) or built from a saved vocabulary (vocabulary, as a loaded model is)
        self._vocabulary: dict[str, int] = dict(getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary)
        self._dtype = np.dtype(vectorizer.dtype)
        self._idf = np.asarray(vectorizer.idf_, dtype=self._dtype) if vectorizer.use_idf else None
        self._sublinear = bool(vectorizer.sublinear_tf)
        self._l2 = vectorizer.norm == "l2"
        self.width = len(self._vocabulary)

    def transform(self, texts: Sequence[str]):
        from scipy import sparse

        indptr, indices, values = [0], [], []
        vocabulary = self._vocabulary
        for text in texts:
            counts = Counter(column for term in self._analyse(text)
                             if (column := vocabulary.get(term)) is not None)
            columns = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
            weights = np.fromiter((counts[c] for c in columns), dtype=self._dtype, count=len(columns))
            if self._sublinear:
                weights = np.log(weights) + 1
            if self._idf is not None:
                weights = weights * self._idf[columns]
            if self._l2 and len(weights):
                norm = np.sqrt(np.dot(weights, weights))
                if norm > 0:
                    weights = weights / norm
            indices.append(columns)
            values.append(weights.astype(self._dtype, copy=False))
            indptr.append(indptr[-1] + len(columns))
        return sparse.csr_matrix(
            (np.concatenate(values) if values else np.zeros(0, self._dtype),
             np.concatenate(indices) if indices else np.zeros(0, np.int32),
             np.asarray(indptr, dtype=np.int32)),
            shape=(len(texts), self.width), dtype=self._dtype)
