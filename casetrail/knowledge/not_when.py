"""A clause's ``::: not_when`` cues: demote a clause for requests it reads close to but does not answer.

The commonest wrong answer left after anchoring retrieval on questions was a
*general* clause beating the *specific* one next to it: "the 2FA code never
arrives" answered with how to turn 2FA on, "the reset e-mail does not come"
with how to reset, "how do I return this" with the returns address. The
general clause shares the request's words and topic, so neither the embedding
nor the lexical term tells them apart; what does is a contrast the knowledge
base's author can write down: "this clause is *not* for a customer who says
the code did not arrive".

The rule, per retrieved clause with cues: ``cue`` is the request's best cosine
with the clause's not_when phrasings (embedded as queries, like the anchoring
questions) and ``own`` its best cosine with the clause's text and questions
(``ScoredClause.dense``). When ``cue >= own + CUE_LEAD`` — the request is
closer to a situation the clause does not cover than to anything it answers —
the clause's score loses ``PENALTY``, which moves it below a specific clause
of the same topic (margins between neighbours are a few hundredths) and,
when no specific clause exists, usually below the drafter's grounding floor
or far enough to take its confidence away: a person answers instead of a
reply that repeats what already failed.

A relative test rather than an absolute floor, because cosines of the
multilingual embedder sit in a narrow band (0.80-0.99) that moves with the
request's length and language; the clause's own best match is the yardstick
that moves with them. Pure: the vectors come in, nothing is embedded here.
``KnowledgeBase.search`` applies it, so the drafter and ``casetrail kb eval``
rank with the same function.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np

from casetrail.knowledge.index import ScoredClause

#: how much closer to a cue than to the clause's own text/questions a request must be for the clause to be
#: demoted. Chosen on the tune half of the dev set and the KB eval questions (docs/benchmarks.md, "Decision
#: quality", third round): at -0.03 / -0.015 / 0 (a cue merely as close as the clause's own best match) the
#: cues fired on the clauses' own questions ("how do I set up two-step login" against "the code never comes"),
#: because cosines of related texts sit within a few hundredths of each other.
CUE_LEAD = 0.01
#: what a demoted clause loses: more than the usual gap between neighbouring clauses (0.01-0.06)
PENALTY = 0.10


def demote(hits: Sequence[ScoredClause], query_vector: np.ndarray,
           cue_vectors: Mapping[str, np.ndarray]) -> list[ScoredClause]:
    """``hits`` re-ranked best first, with every clause whose not_when cue matches the request demoted.

    ``cue_vectors[clause_id]`` holds one L2-normalised row per not_when phrasing of
    that clause (in the clause's order); clauses without cues are left as they are.
    """
    query = np.asarray(query_vector, dtype=np.float32)
    ranked = []
    for hit in hits:
        cues = cue_vectors.get(hit.clause.clause_id)
        if cues is None or len(cues) == 0:
            ranked.append(hit)
            continue
        similarities = np.asarray(cues, dtype=np.float32) @ query
        best = int(np.argmax(similarities))
        if float(similarities[best]) >= hit.dense + CUE_LEAD:
            hit = dataclasses.replace(hit, score=hit.score - PENALTY, demoted_by=hit.clause.not_when[best])
        ranked.append(hit)
    ranked.sort(key=lambda h: h.score, reverse=True)
    return ranked
