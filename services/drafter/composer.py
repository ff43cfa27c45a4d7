"""The offline template composer: a reply made only of framing and cited clause sentences.

Every factual sentence is a sentence of a retrieved clause, followed by its
citation marker ``[n]``; ``n`` numbers the cited clauses in order of first
use, and each sentence gets a ``Citation`` (``clause_id@kb_version``, the
retrieval score, the sentence). Alternatives to a refund (clauses marked
``alternative=...``) are listed for refund questions.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Protocol, Sequence

from casetrail.events import Citation
from casetrail.grounding.sentences import split_sentences as grounding_sentences
from casetrail.knowledge.clauses import Clause
from casetrail.knowledge.index import ScoredClause
from services.drafter.templates import BUILTIN, ReplyTemplates

#: requests before a refund is decided: the alternatives to a refund are worth offering. Not
#: refund_status: a customer waiting for money already returned the item (readers of the dev
#: set's sent replies found "instead of a refund…" lists offered to people waiting for one).
REFUND_INTENTS = frozenset({"return_request", "refund_policy"})
MAX_SENTENCES = 5


class ComposerRefused(Exception):
    """The composer could not produce a grounded reply (e.g. an LLM draft with no valid citation)."""

    def __init__(self, reason: str, flags: Sequence[str] = ()):
        super().__init__(reason)
        self.reason = reason
        self.flags = list(flags)


@dataclasses.dataclass(frozen=True)
class ComposeRequest:
    locale: str  # the customer's locale: framing and disclosure language
    intent: str
    question: str  # redacted customer text the reply answers
    clauses: Sequence[ScoredClause]  # grounded clauses, best first
    alternatives: Sequence[ScoredClause] = ()  # alternatives to a refund, with their retrieval score
    order: Optional[str] = None
    templates: ReplyTemplates = BUILTIN  # the tenant's promoted framing (the gate's ``template`` kind)


@dataclasses.dataclass(frozen=True)
class ComposedReply:
    text: str
    citations: list[Citation]
    factual_sentences: int
    cited_sentences: int
    alternatives_offered: list[str]
    composer: str
    model: Optional[str] = None
    prompt_version: Optional[str] = None
    flags: list[str] = dataclasses.field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.cited_sentences / self.factual_sentences if self.factual_sentences else 0.0


class Composer(Protocol):
    name: str

    def compose(self, request: ComposeRequest) -> ComposedReply: ...


def split_sentences(text: str) -> list[str]:
    """A clause's sentences, split exactly as the verifier splits the reply (one definition:
    a second splitter cut "Logistikos g. 5" after the abbreviation, and the verifier read the
    stranded street address as a Lithuanian sentence)."""
    return [sentence.text for sentence in grounding_sentences(text.strip())]


def assemble(templates: ReplyTemplates, locale: str, opener: str, body: Sequence[str], alternatives: Sequence[str]) -> str:
    """Greeting, opener, body, alternatives, closing, disclosure: the reply's fixed shape."""
    parts = [templates.text("greeting", locale), opener, " ".join(body)]
    if alternatives:
        parts.append(templates.text("alternatives_intro", locale) + "\n" + "\n".join(f"- {a}" for a in alternatives))
    parts.append(templates.text("closing", locale))
    parts.append("-- " + templates.text("disclosure", locale))
    return "\n\n".join(p for p in parts if p)


class TemplateComposer:
    """Intent-specific framing per locale around the cited clause's own sentences.

    The reply answers with the one clause that best answers the question. A runner-up
    clause is not appended because it scored close: a close score says the clauses are
    alike, not that the second one answers anything the customer asked (a payment
    question padded with the account-takeover clause).
    """

    name = "template"

    def compose(self, request: ComposeRequest) -> ComposedReply:
        if not request.clauses:
            raise ComposerRefused("no grounded clause to compose from")
        chosen = [request.clauses[0]]
        citations: list[Citation] = []
        numbers: dict[str, int] = {}
        body: list[str] = []

        def cite(clause: Clause, score: float, sentence: str) -> str:
            number = numbers.setdefault(clause.clause_id, len(numbers) + 1)
            citations.append(Citation(clause_id=clause.clause_id, kb_version=clause.kb_version, score=round(score, 4),
                                      sentence=sentence))
            return f"{sentence} [{number}]"

        for scored in chosen:
            for sentence in split_sentences(scored.clause.plain_text):
                if len(body) >= MAX_SENTENCES:
                    break
                body.append(cite(scored.clause, scored.score, sentence))
        offered: list[str] = []
        lines: list[str] = []
        if request.intent in REFUND_INTENTS and request.clauses[0].clause.category in REFUND_INTENTS:
            used = {s.clause.clause_id for s in chosen}
            for alternative in request.alternatives:
                clause = alternative.clause
                if clause.clause_id in used or not clause.alternative:
                    continue
                sentence = split_sentences(clause.plain_text)[0]
                lines.append(cite(clause, alternative.score, sentence))
                offered.append(clause.alternative)
        templates = request.templates
        text = assemble(templates, request.locale, templates.opener(request.locale, request.intent, request.order), body, lines)
        factual = len(body) + len(lines)
        return ComposedReply(text=text, citations=citations, factual_sentences=factual, cited_sentences=factual,
                             alternatives_offered=offered, composer=self.name, prompt_version=templates.version)
