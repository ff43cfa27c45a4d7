"""The drafter's decision: from a triaged conversation to a ``DraftProposed`` event.

1. Conversations that must not be drafted (spam, abuse, out of scope) get
   ``not_drafted`` with a holding reply.
2. The knowledge base is the tenant's newest version for the conversation's
   locale; when that locale has none, the first locale in the tenant's
   ``kb_locale_fallback`` that has one (the draft says so: ``kb_locale``,
   ``locale_fallback``); when none has one, ``no_knowledge_base``.
3. The query is the subject plus the newest customer message; its vector is
   triage's embedding when triage used the same embedder, else embedded here.
4. Clauses scoring at least ``min_score`` ground the draft; none -> 
   ``no_grounding`` (a human answers; the retrieved clauses are still listed
   for the audit trail).
5. The composer writes the reply with a citation on every factual sentence;
   a composer that cannot (an LLM draft with no valid citation) is refused ->
   ``no_grounding``.

Every outcome carries a non-empty reply text and the AI disclosure in the
customer's language; only ``drafted`` replies are meant to be sent.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from types import MappingProxyType
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional

import numpy as np

from casetrail import __version__
from casetrail.events import (
    ConversationTriaged, DecisionVersions, Draft, DraftOutcome, DraftProposed, ProducerInfo, RetrievedClause,
)
from casetrail.knowledge.catalogue import PublishedVersion
from casetrail.knowledge.index import ScoredClause
from casetrail.knowledge.store import KnowledgeBase
from casetrail.policy.taxonomy import OUT_OF_SCOPE
from casetrail.policy.tenant import TenantPolicy
from services.drafter.templates import BUILTIN, ReplyTemplates
from services.drafter.composer import Composer, ComposeRequest, ComposerRefused, TemplateComposer
from services.drafter.answer import Answer, choose_answer
from services.drafter.answer_confidence import DEFAULT_PATH as ANSWER_CONFIDENCE_PATH, AnswerConfidence
from services.drafter.entities import order_reference
from services.drafter.llm import LlmError, composer_from_settings

if TYPE_CHECKING:
    from services.drafter.settings import DrafterSettings

log = logging.getLogger(__name__)
_DRAFT_NAMESPACE = uuid.UUID("0d7f3a52-91c4-4e0b-8d7e-5b2c6f1a9e33")
MAX_QUERY_CHARS = 2000


@dataclasses.dataclass(frozen=True)
class DrafterConfig:
    #: retrieval score (best match over a clause's questions and text, + 0.15 x lexical) a clause
    #: needs to ground a draft; below it nothing is drafted. Whether the draft may be sent is the
    #: calibrated answer confidence's call, not this floor's (README, "Grounding and confidence").
    min_score: float = 0.90
    retrieved_limit: int = 5
    candidates: int = 20


@dataclasses.dataclass
class Retrieval:
    version: PublishedVersion  # the knowledge base searched (the conversation's locale, or its fallback)
    fallback: bool
    query: str
    hits: list[ScoredClause]
    flags: list[str]
    answer: Optional[Answer]


class Drafter:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        policies: Mapping[str, TenantPolicy],
        composer: Optional[Composer] = None,
        config: DrafterConfig = DrafterConfig(),
        answer_confidence: Optional[AnswerConfidence] = None,
        producer: ProducerInfo = ProducerInfo(service="drafter", version=__version__),
        templates: Mapping[str, ReplyTemplates] = MappingProxyType({}),
    ):
        self.knowledge = knowledge
        self.policies = policies
        self.composer = composer or TemplateComposer()
        self.config = config
        self._answer_confidence = answer_confidence
        self.producer = producer
        self.templates = templates  # tenant -> its promoted reply templates (default: the built-in set)

    @classmethod
    def from_settings(cls, knowledge: KnowledgeBase, policies: Mapping[str, TenantPolicy], settings: "DrafterSettings",
                      producer: ProducerInfo, templates: Mapping[str, ReplyTemplates]) -> "Drafter":
        """The drafter its settings describe: composer (``CASETRAIL_DRAFTER_LLM_*``, else the template composer),
        grounding floor and answer-confidence model. The service and ``casetrail eval decisions`` both build it
        here, so an evaluation drafts as the service does. Bad settings are a ``ValueError``."""
        answer_confidence = AnswerConfidence.load(Path(settings.drafter_answer_confidence_path or ANSWER_CONFIDENCE_PATH))
        return cls(knowledge, policies, composer=composer_from_settings(settings),
                   config=DrafterConfig(min_score=settings.drafter_min_score), answer_confidence=answer_confidence,
                   producer=producer, templates=templates)

    # -- helpers --------------------------------------------------------------
    def _kb_locale(self, tenant: str, locale: str, policy: Optional[TenantPolicy]):
        version = self.knowledge.active_version(tenant, locale)
        if version is not None:
            return version, False
        for fallback in (policy.kb_locale_fallback if policy else []):
            if fallback == locale:
                continue
            version = self.knowledge.active_version(tenant, fallback)
            if version is not None:
                return version, True
        return None, False

    def query_vector(self, event: ConversationTriaged, query: str) -> tuple[np.ndarray, bool]:
        """Triage's embedding when it came from the same embedder (same space), else a fresh one."""
        triage = event.triage
        embedder = self.knowledge.embedder
        if triage.embedding and triage.embedding_model == embedder.name and len(triage.embedding) == embedder.dimension:
            return np.asarray(triage.embedding, dtype=np.float32), True
        return embedder.embed([query], kind="query")[0], False

    @staticmethod
    def query_text(event: ConversationTriaged) -> str:
        return event.conversation.ticket_text()[:MAX_QUERY_CHARS]

    def _event(self, event: ConversationTriaged, draft: Draft, kb_version: Optional[str], policy, model, prompt):
        return DraftProposed(
            **event.derive("draft", self.producer),
            versions=DecisionVersions(model=model, prompt=prompt, knowledge_base=kb_version,
                                      policy=policy.fingerprint if policy else None),
            conversation=event.conversation,
            # the embedding stays with the stage that needs it (retrieval, here): verifier, router
            # and audit never read it, and it was ~90 % of each event's bytes
            triage=event.triage.model_copy(update={"embedding": []}),
            draft=draft,
        )

    def _draft_id(self, event: ConversationTriaged, kb_version: Optional[str], templates: ReplyTemplates) -> str:
        # Deterministic: a redelivered input produces the same draft id (idempotent downstream). A promoted
        # template set is part of it (another wording is another draft); the built-in set keeps the old ids.
        wording = "" if templates is BUILTIN else f"/{templates.version}"
        return str(uuid.uuid5(_DRAFT_NAMESPACE, f"{event.event_id}/{kb_version or '-'}/{self.composer.name}{wording}"))

    @property
    def answer_confidence(self) -> AnswerConfidence:
        """The calibrated answer confidence (loaded on first use: retrieval alone does not need it)."""
        if self._answer_confidence is None:
            self._answer_confidence = AnswerConfidence.load()
        return self._answer_confidence

    def retrieve(self, event: ConversationTriaged) -> Optional["Retrieval"]:
        """The clauses retrieved for the conversation and the one that answers; None without a KB."""
        triage = event.triage
        version, fallback = self._kb_locale(event.tenant, event.locale, self.policies.get(event.tenant))
        if version is None:
            return None
        query = self.query_text(event)
        vector, reused = self.query_vector(event, query)
        flags = ["query_embedding_reused"] if reused else []
        if fallback:
            flags.append("kb_locale_fallback")
        _, hits = self.knowledge.search(event.tenant, version.locale, vector, query_text=query,
                                        limit=self.config.candidates, candidates=self.config.candidates)
        answer = choose_answer(hits[: self.config.retrieved_limit], triage.category, triage.intent_confidence,
                               self.config.min_score)
        return Retrieval(version, fallback, query, hits, flags, answer)

    # -- the decision -------------------------------------------------------------
    def draft(self, event: ConversationTriaged) -> DraftProposed:
        policy = self.policies.get(event.tenant)
        locale = event.locale
        triage = event.triage
        templates = self.templates.get(event.tenant, BUILTIN)
        disclosure = templates.text("disclosure", locale)

        def not_answered(outcome: DraftOutcome, reason: str, kb_version=None, kb_locale=None, fallback=False,
                         retrieved=(), flags=()) -> DraftProposed:
            draft = Draft(
                draft_id=self._draft_id(event, kb_version, templates), outcome=outcome, reply_text=templates.holding_reply(locale),
                locale=locale, kb_locale=kb_locale, locale_fallback=fallback, retrieved=list(retrieved),
                confidence=0.0, composer=self.composer.name, disclosure=disclosure, reason=reason, flags=list(flags),
            )
            return self._event(event, draft, kb_version, policy, self.knowledge.embedder.name, templates.version)

        if triage.spam or triage.abuse:
            return not_answered(DraftOutcome.not_drafted, "spam" if triage.spam else "abuse")
        if triage.out_of_scope or triage.intent == OUT_OF_SCOPE:
            return not_answered(DraftOutcome.not_drafted, "out_of_scope")

        found = self.retrieve(event)
        if found is None:
            allowed = ", ".join(policy.kb_locale_fallback) if policy and policy.kb_locale_fallback else "none"
            return not_answered(DraftOutcome.no_knowledge_base,
                                f"no knowledge base for {event.tenant}/{locale} (allowed fallback: {allowed})")
        version, fallback, kb_locale, hits, flags = found.version, found.fallback, found.version.locale, found.hits, found.flags
        query = found.query
        retrieved = [
            RetrievedClause(clause_id=h.clause.clause_id, kb_version=h.clause.kb_version, locale=kb_locale,
                            score=round(h.score, 4), title=h.clause.title, text=h.clause.text,
                            classifier_probability=round(h.classifier_probability, 4))
            for h in hits[: self.config.retrieved_limit]
        ]
        answer = found.answer
        if answer is None:
            top = f"{hits[0].score:.3f}" if hits else "none"
            return not_answered(DraftOutcome.no_grounding, f"no clause at or above {self.config.min_score} (best {top})",
                                version.kb_version, kb_locale, fallback, retrieved, flags)
        if not answer.features.agrees:
            flags.append("answer_outside_triage_category")
        grounded = [answer.clause] + [h for h in hits[: self.config.retrieved_limit]
                                      if h.score >= self.config.min_score and h is not answer.clause]
        by_id = {h.clause.clause_id: h for h in hits}
        # An alternative whose not_when cue the request matched is not offered: partial credit for a
        # minor fault is no alternative for a customer whose item simply does not fit (reviewers of
        # sent replies found it offered to them).
        alternatives = [
            by_id.get(c.clause_id) or ScoredClause(dataclasses.replace(c), 0.0)
            for c in self.knowledge.alternatives(event.tenant, kb_locale, version.kb_version)
            if c.clause_id not in by_id or by_id[c.clause_id].demoted_by is None
        ]
        request = ComposeRequest(locale=locale, intent=triage.intent, question=query, clauses=grounded,
                                 alternatives=alternatives, order=order_reference(query),
                                 templates=templates)
        try:
            reply = self.composer.compose(request)
        except LlmError as exc:
            if exc.transient:
                raise  # the service retries (RetryableError) without committing the input
            return not_answered(DraftOutcome.no_grounding, f"llm_error: {exc}", version.kb_version, kb_locale,
                                fallback, retrieved, [*flags, "llm_error"])
        except ComposerRefused as refused:
            return not_answered(DraftOutcome.no_grounding, refused.reason, version.kb_version, kb_locale, fallback,
                                retrieved, [*flags, *refused.flags])
        # Alternatives (store credit, exchange) are cited like any clause, so they are retrieved
        # clauses of this draft too: the verifier checks every citation against ``retrieved``.
        listed = {(c.clause_id, c.kb_version) for c in retrieved}
        for alternative in alternatives:
            clause = alternative.clause
            if clause.alternative in reply.alternatives_offered and (clause.clause_id, clause.kb_version) not in listed:
                retrieved.append(RetrievedClause(clause_id=clause.clause_id, kb_version=clause.kb_version,
                                                 locale=kb_locale, score=round(alternative.score, 4),
                                                 title=clause.title, text=clause.text,
                                                 classifier_probability=round(alternative.classifier_probability, 4)))
                listed.add((clause.clause_id, clause.kb_version))
        # How likely the cited clause answers the question, times the share of claims that are cited
        # (1 for the template composer; an LLM draft may state uncited things).
        confidence = round(self.answer_confidence.probability(answer.features) * reply.coverage, 4)
        draft = Draft(
            draft_id=self._draft_id(event, version.kb_version, templates), outcome=DraftOutcome.drafted, reply_text=reply.text,
            locale=locale, kb_locale=kb_locale, locale_fallback=fallback, retrieved=retrieved,
            citations=reply.citations, confidence=confidence, composer=reply.composer, disclosure=disclosure,
            alternatives_offered=reply.alternatives_offered, flags=[*flags, *reply.flags],
        )
        model = f"{reply.model or self.knowledge.embedder.name}+{self.answer_confidence.version}"
        return self._event(event, draft, version.kb_version, policy, model, reply.prompt_version)
