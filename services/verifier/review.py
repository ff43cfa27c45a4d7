"""One draft under review: the event, the tenant policy, and what checks share.

Splitting the reply into sentences and reading the quantities of each clause
is done once per draft here and shared by every check that needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from casetrail.events import AuthorRole, DraftProposed, RetrievedClause
from casetrail.policy.tenant import TenantPolicy
from casetrail.grounding.quantities import Quantity, extract_quantities
from casetrail.grounding.sentences import PLACEHOLDER, Sentence, normalise, split_sentences


@lru_cache(maxsize=8192)
def _clause_quantities(text: str, locale: str) -> tuple[Quantity, ...]:
    # Clauses are few and cited over and over: read each published text once per process.
    return tuple(extract_quantities(text, locale))


@dataclass
class DraftUnderReview:
    event: DraftProposed
    policy: TenantPolicy

    @property
    def draft(self):
        return self.event.draft

    @property
    def locale(self) -> str:
        """The conversation's locale: what the reply must be written in."""
        return self.event.locale

    @cached_property
    def sentences(self) -> list[Sentence]:
        return split_sentences(self.draft.reply_text)

    @cached_property
    def customer_text(self) -> str:
        """Everything the customer wrote in this conversation (redacted): what customer-provided facts cite."""
        conversation = self.event.conversation
        parts = [conversation.subject or ""]
        parts += [m.body_text for m in conversation.messages if m.author_role == AuthorRole.customer]
        return "\n".join(p for p in parts if p)

    @cached_property
    def disclosure_key(self) -> str:
        return normalise(self.draft.disclosure) if self.draft.disclosure else ""

    def is_disclosure(self, sentence: Sentence) -> bool:
        key = sentence.key
        return bool(key) and bool(self.disclosure_key) and key in self.disclosure_key

    @cached_property
    def retrieved(self) -> dict[str, RetrievedClause]:
        return {f"{c.clause_id}@{c.kb_version}": c for c in self.draft.retrieved}

    @cached_property
    def citation_refs(self) -> set[str]:
        return {c.ref for c in self.draft.citations}

    def clause_quantities(self, ref: str) -> list[Quantity]:
        clause = self.retrieved.get(ref)
        return list(_clause_quantities(f"{clause.title}. {clause.text}", clause.locale)) if clause else []

    def quantities(self, text: str) -> list[Quantity]:
        """Quantities of a reply fragment (placeholders removed), computed once per draft."""
        cache = self.__dict__.setdefault("_quantities", {})
        if text not in cache:
            cache[text] = extract_quantities(PLACEHOLDER.sub(" ", text), self.locale)
        return cache[text]

    def refs_for(self, sentence: Sentence) -> list[str]:
        """Clauses a reply sentence cites: inline markers plus citations naming the sentence."""
        refs = list(sentence.refs)
        key = sentence.key
        if key:
            for citation in self.draft.citations:
                cited = normalise(citation.sentence)
                if cited and (cited == key or (len(cited) >= 12 and (cited in key or key in cited))):
                    if citation.ref not in refs:
                        refs.append(citation.ref)
        return refs

    @cached_property
    def customer_texts(self) -> list[str]:
        """What the customer wrote (already redacted by ingest), newest last."""
        conversation = self.event.conversation
        texts = [m.body_text for m in conversation.messages if m.author_role == AuthorRole.customer]
        if conversation.subject:
            texts.insert(0, conversation.subject)
        return texts

    @cached_property
    def reply_without_markers(self) -> str:
        from casetrail.grounding.sentences import without_markers

        return re.sub(r"\s+", " ", without_markers(self.draft.reply_text)).strip()
