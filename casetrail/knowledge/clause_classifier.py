"""Which clause a request is about, learned from the knowledge base's own anchoring questions.

Retrieval scores a clause by its single best point (its text or one of its
questions) plus the lexical term. A clause with a dozen questions around the
customer's question and a neighbour with one question that happens to sit a
little closer score alike, and the neighbour wins: the readers' most
frequent miss ("has my order shipped?" answered with the processing-delay
clause, "stop the e-mails" with the newsletter-not-arriving one).

A multinomial logistic regression over the question vectors of every clause
learns what tells neighbouring clauses apart instead. It is fitted per tenant
on the anchoring questions of the versions it serves in *every* locale, under
their clause ids: the embedder is multilingual and a clause's German
questions are evidence for its French twin. A clause without questions is
not among its classes and keeps its place by score (probability 0); adding
the clause texts as examples gave every clause a class but did not rank
better (kb eval recall@1 the same, two fewer answering sends on the dev
set's tune half). Fitting takes about 3 s for the
sample tenant (7,359 questions, 98 clauses, one core) and happens once per set
of served versions; the same vectors refit in the same process reuse the
fit (tests and ``kb eval`` build many readers over one knowledge base).

The probability it gives a clause re-orders the hits (``score + WEIGHT * p``)
but is not added to the score: the score stays the retrieval evidence the
drafter's answer confidence was calibrated on, so what changes is which clause
is chosen among those retrieval found, not how sure the drafter is.

Measured with ``casetrail kb eval`` on the sample tenant's eval questions
(which were not used to choose the clauses' questions): recall@1 over the five
locales 0.877 -> 0.916 (docs/benchmarks.md, "Sixth quality round"). ``C`` and ``WEIGHT`` were chosen there, from
C in {1, 30, 100, 300, 1000} and WEIGHT in {0.02 ... 0.3}; results were flat
for C 30-300 and WEIGHT 0.03-0.08.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np

from casetrail.knowledge.index import ScoredClause

#: weight of the classifier's probability in the ranking key (never in the score)
WEIGHT = 0.05
#: inverse L2 regularisation of the logistic regression
C = 100.0
_MAX_ITER = 500

_fits: "OrderedDict[str, ClauseClassifier]" = OrderedDict()
_fits_lock = threading.Lock()
_FITS_KEPT = 8


@dataclasses.dataclass(frozen=True)
class ClauseClassifier:
    clause_ids: tuple[str, ...]
    weights: np.ndarray  # (dimension, clauses)
    bias: np.ndarray  # (clauses,)

    @classmethod
    def fit(cls, clause_ids: Sequence[str], vectors: np.ndarray) -> Optional["ClauseClassifier"]:
        """Fitted on ``vectors[i]`` labelled ``clause_ids[i]``; None with fewer than two clauses (nothing to tell
        apart). The same examples fitted again in this process return the earlier fit."""
        vectors = np.asarray(vectors, dtype=np.float32)
        labels = sorted(set(clause_ids))
        if len(labels) < 2 or len(vectors) != len(clause_ids):
            return None
        digest = hashlib.blake2b(vectors.tobytes(), digest_size=16)
        digest.update("\x1f".join(clause_ids).encode())
        digest.update(repr((C, _MAX_ITER, vectors.shape)).encode())
        key = digest.hexdigest()
        with _fits_lock:
            if key in _fits:
                _fits.move_to_end(key)
                return _fits[key]
        from sklearn.linear_model import LogisticRegression

        index = {cid: i for i, cid in enumerate(labels)}
        model = LogisticRegression(C=C, max_iter=_MAX_ITER).fit(vectors, [index[cid] for cid in clause_ids])
        weights, bias = model.coef_.T, model.intercept_
        if len(labels) == 2:  # scikit-learn fits one logit for two classes: P(second) = sigmoid; as softmax, [0, logit]
            weights, bias = np.hstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
        fitted = cls(tuple(labels), weights.astype(np.float32), bias.astype(np.float32))
        with _fits_lock:
            _fits[key] = fitted
            while len(_fits) > _FITS_KEPT:
                _fits.popitem(last=False)
        return fitted

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """P(clause | request) for every clause it was fitted on."""
        logits = np.asarray(vector, dtype=np.float32) @ self.weights + self.bias
        logits = np.exp(logits - logits.max())
        return dict(zip(self.clause_ids, (logits / logits.sum()).tolist()))

    def rerank(self, hits: Sequence[ScoredClause], vector: np.ndarray) -> list[ScoredClause]:
        """``hits`` ordered by ``score + WEIGHT * P(clause)``, each carrying its probability; scores unchanged.
        A clause the classifier does not know (published after the fit) gets probability 0."""
        probability = self.probabilities(vector)
        carried = [dataclasses.replace(h, classifier_probability=probability.get(h.clause.clause_id, 0.0)) for h in hits]
        return sorted(carried, key=lambda h: h.score + WEIGHT * h.classifier_probability, reverse=True)
