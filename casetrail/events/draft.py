"""The drafter's proposal: a reply in which every statement cites a clause."""

from __future__ import annotations

import enum
from typing import Optional

from pydantic import Field

from casetrail.events.conversation import Conversation
from casetrail.events.envelope import AvroRecord, DecisionEnvelope
from casetrail.events.triage import TriageResult


class DraftOutcome(str, enum.Enum):
    drafted = "drafted"
    no_grounding = "no_grounding"  # nothing above the retrieval threshold: a human answers
    no_knowledge_base = "no_knowledge_base"  # no KB for the locale (and no allowed fallback)
    not_drafted = "not_drafted"  # e.g. spam, out of scope, unknown language


class RetrievedClause(AvroRecord):
    clause_id: str
    kb_version: str
    locale: str
    score: float
    title: str = ""
    text: str = ""
    #: P(this clause | request) from the tenant's clause classifier: the retrieved clauses are ordered by
    #: score + 0.05 x this (casetrail.knowledge.clause_classifier), so the log explains a lower-scored clause
    #: cited before a higher one. 0.0 in events written before it existed.
    classifier_probability: float = 0.0


class Citation(AvroRecord):
    clause_id: str
    kb_version: str
    score: float
    sentence: str  # the reply sentence this clause supports

    @property
    def ref(self) -> str:
        return f"{self.clause_id}@{self.kb_version}"


class Draft(AvroRecord):
    draft_id: str
    outcome: DraftOutcome
    reply_text: str = ""
    locale: str
    kb_locale: Optional[str] = None  # differs from ``locale`` only on an allowed fallback
    locale_fallback: bool = False
    retrieved: list[RetrievedClause] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    confidence: float = 0.0
    composer: str = "template"
    disclosure: str = ""
    reason: Optional[str] = None
    alternatives_offered: list[str] = Field(default_factory=list)
    # e.g. query_embedding_reused, llm_invalid_citation, llm_no_valid_citation (added by the drafter issue)
    flags: list[str] = Field(default_factory=list)


class DraftProposed(DecisionEnvelope):
    conversation: Conversation
    triage: TriageResult
    draft: Draft

    class Meta:
        namespace = "io.casetrail.events"
