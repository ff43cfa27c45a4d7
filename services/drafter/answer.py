"""Which retrieved clause answers the customer, and the facts its confidence is computed from.

The answer is the best clause of the category triage read, when one was retrieved
with a grounding score: triage and retrieval then agree on what was asked, and the
reply cites a clause about that. When no clause of triage's category was retrieved,
the answer is the best clause overall and the two disagree — the draft is still made
for the agent who reviews it, but its confidence says a person should look.

The features (all of them facts about this one question, nothing learned here):

- ``score``  — the answer's retrieval score: its best match over its anchoring questions
  and its text, plus the lexical term (casetrail.knowledge);
- ``margin`` — how far the answer leads the best clause of *another* category (two topics
  matching equally well is an ambiguous question; clauses of the same category compete
  harmlessly);
- ``agrees`` — the answer's category is triage's category;
- ``intent`` — triage's calibrated confidence in that category;
- ``lead`` — how far the answer leads the best *other clause*, of any category: a
  specific clause of the same topic scoring as well as the chosen one means retrieval
  could not tell which of two neighbouring answers was asked for (the reviewers' most
  frequent miss: "how to reset" cited for "the reset e-mail never arrives");
- ``anchored`` — the answer matched best on one of its anchoring questions rather than on
  its text: a customer question close to a question the clause was written to answer is
  a sign it answers, a question merely sharing the clause's vocabulary less so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from casetrail.knowledge.index import ScoredClause

#: a runner-up of another category this far below the answer no longer competes
NO_COMPETITOR_MARGIN = 0.2


@dataclass(frozen=True)
class AnswerFeatures:
    score: float
    margin: float
    agrees: bool
    intent: float
    lead: float
    anchored: bool

    def as_vector(self) -> list[float]:
        return [self.score, self.margin, 1.0 if self.agrees else 0.0, self.intent, self.lead,
                1.0 if self.anchored else 0.0]


FEATURE_NAMES = ("score", "margin", "agrees", "intent", "lead", "anchored")


@dataclass(frozen=True)
class Answer:
    clause: ScoredClause
    features: AnswerFeatures


def choose_answer(hits: Sequence[ScoredClause], category: str, intent_confidence: float,
                  min_score: float) -> Optional[Answer]:
    """The clause that answers (see the module docstring); None when nothing reaches ``min_score``."""
    grounded = [h for h in hits if h.score >= min_score]
    if not grounded:
        return None
    same = [h for h in grounded if h.clause.category == category]
    chosen = same[0] if same else grounded[0]
    others = [h.score for h in hits if h.clause.category != chosen.clause.category]
    margin = chosen.score - max(others) if others else NO_COMPETITOR_MARGIN
    rivals = [h.score for h in hits if h is not chosen]
    lead = chosen.score - max(rivals) if rivals else NO_COMPETITOR_MARGIN
    features = AnswerFeatures(score=round(chosen.score, 4), margin=round(min(margin, NO_COMPETITOR_MARGIN), 4),
                              agrees=chosen.clause.category == category, intent=round(float(intent_confidence), 4),
                              lead=round(min(lead, NO_COMPETITOR_MARGIN), 4), anchored=chosen.question is not None)
    return Answer(chosen, features)
