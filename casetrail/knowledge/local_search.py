"""In-process search over one knowledge-base version's points, for the embedded (local) Qdrant mode.

qdrant-client's local mode is a brute-force search written in Python: every
query evaluates the ``kb_version`` filter point by point and, to group hits by
clause, deep-copies every point's payload. With a point per anchoring
question (about 690 per locale for the sample tenant) that made a grouped
search cost 20-70 ms where the same cosine over a numpy matrix costs well
under a millisecond. So in embedded mode the index keeps each version's
vectors in memory and ranks with numpy; Qdrant still stores the points (a
restarted process reloads them from it) and a Qdrant server still does the
search itself. Results are the same: cosine of L2-normalised vectors, each
clause scored by its best point.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np

from casetrail.knowledge.clauses import Clause


@dataclasses.dataclass(frozen=True)
class VersionPoints:
    """One version's points: row ``i`` is a clause's text or one of its questions."""

    clauses: tuple[Clause, ...]
    vectors: np.ndarray  # (points, dimension), L2-normalised
    owner: np.ndarray  # (points,) index into ``clauses``
    questions: tuple[Optional[str], ...]  # the anchoring question of each row, None for a clause's text
    is_text: np.ndarray  # (points,) True where the row is a clause's text

    @classmethod
    def build(cls, clauses: Sequence[Clause], rows: Sequence[tuple[int, Optional[str], np.ndarray]]) -> "VersionPoints":
        """``rows``: ``(clause index, question or None, vector)`` per point."""
        vectors = np.asarray([np.asarray(v, dtype=np.float32) for _, _, v in rows], dtype=np.float32)
        if len(vectors):
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1.0, norms)
        questions = tuple(q for _, q, _ in rows)
        return cls(tuple(clauses), vectors, np.array([i for i, _, _ in rows], dtype=np.int64), questions,
                   np.array([q is None for q in questions], dtype=bool))

    def search(self, vector: np.ndarray, limit: int, questions: bool = True) -> list[tuple[Clause, float, Optional[str]]]:
        """``(clause, best cosine, the question that matched or None)`` for the ``limit`` best clauses."""
        if not len(self.vectors):
            return []
        query = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        sims = self.vectors @ (query / norm if norm else query)
        if not questions:
            sims = np.where(self.is_text, sims, -np.inf)
        found: list[tuple[Clause, float, Optional[str]]] = []
        seen: set[int] = set()
        for row in np.argsort(-sims, kind="stable"):
            if not np.isfinite(sims[row]):
                break
            clause = int(self.owner[row])
            if clause in seen:
                continue
            seen.add(clause)
            found.append((self.clauses[clause], float(sims[row]), self.questions[row]))
            if len(found) == limit:
                break
        return found
