"""Citations resolve: every cited ``clause_id@kb_version`` exists in the knowledge
base and is one of the clauses retrieved for this very draft, in its locale."""

from __future__ import annotations

from typing import Optional

from services.verifier.checks import FAILED, Outcome, Resolver
from services.verifier.review import DraftUnderReview


class CitationsResolve:
    name = "citations_resolve"
    severity = FAILED

    def __init__(self, policy, resolver: Optional[Resolver] = None, **_):
        self.policy = policy
        self.resolver = resolver

    def allowed_kb_locales(self, review: DraftUnderReview) -> set[str]:
        """The conversation's locale, plus the draft's KB locale on a fallback the tenant allows."""
        allowed = {review.locale}
        draft = review.draft
        if draft.locale_fallback and draft.kb_locale and draft.kb_locale in self.policy.kb_locale_fallback:
            allowed.add(draft.kb_locale)
        return allowed

    def run(self, review: DraftUnderReview) -> Outcome:
        draft = review.draft
        if not draft.citations:
            return Outcome(False, "the draft cites no clause")
        problems: list[str] = []
        allowed_locales = self.allowed_kb_locales(review)
        retrieved_versions: dict[str, set[str]] = {}
        for clause in draft.retrieved:
            retrieved_versions.setdefault(clause.clause_id, set()).add(clause.kb_version)

        for citation in draft.citations:
            ref = citation.ref
            clause = review.retrieved.get(ref)
            if clause is None:
                versions = retrieved_versions.get(citation.clause_id)
                if versions:
                    problems.append(f"{ref}: retrieved at version {', '.join(sorted(versions))}, not {citation.kb_version}")
                else:
                    problems.append(f"{ref}: not among the clauses retrieved for this draft")
            elif clause.locale not in allowed_locales:
                problems.append(f"{ref}: clause is in locale {clause.locale!r}, conversation is {review.locale!r}")
            if self.resolver is not None:
                locale = clause.locale if clause is not None else (draft.kb_locale or draft.locale)
                published = self.resolver(review.event.tenant, locale, citation.clause_id, citation.kb_version)
                if published is None:
                    problems.append(f"{ref}: does not exist in the {locale} knowledge base")
                elif clause is not None and clause.text and _text(published) and _squash(_text(published)) != _squash(clause.text):
                    problems.append(f"{ref}: retrieved text differs from the published clause")

        known = review.citation_refs | set(review.retrieved)
        for sentence in review.sentences:
            for ref in sentence.refs:
                if ref not in known:
                    problems.append(f"{ref}: cited inline but neither retrieved nor listed as a citation")
        if problems:
            return Outcome(False, "; ".join(dict.fromkeys(problems)))
        checked = "resolved in the knowledge base and " if self.resolver is not None else ""
        return Outcome(True, f"{len(draft.citations)} citation(s) {checked}retrieved for this draft")


def _text(clause) -> str:
    return getattr(clause, "plain_text", None) or getattr(clause, "text", "") or ""


def _squash(text: str) -> str:
    import re

    return re.sub(r"[\s*_`]+", " ", re.sub(r"\[([^\]]+)\]\(#[^)\s]+\)", r"\1", text)).strip().casefold()
