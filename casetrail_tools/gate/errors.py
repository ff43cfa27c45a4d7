"""What counts as an error, per evaluation example (pure).

A *dev-set ticket* (``evaluation/dev``): an error when the decision's
category differs from the expected one, or when a ticket that must reach a
human is answered autonomously.

An *agent's correction* (``correction`` on the exported example, see
``services.review.evaluation_set``) says what the agent saw wrong:

- approve / edit: the draft answered the right question, so a version that
  puts the ticket in another category is wrong;
- reject ``wrong_intent``: repeating the rejected category is wrong (and, when
  the agent named the right one, missing it is wrong);
- reject ``wrong_clause``: citing a rejected clause first (any KB version) is wrong;
- reject ``tone`` / ``policy`` / ``other``: sending it autonomously is wrong.

A *reply-template* candidate changes only the wording around the cited
clauses, so the rules above rarely tell two template sets apart. With
``templates`` (the set the decision was drafted with) two rules are added:

- a draft that fails a check the framing can fail (``FRAMING_CHECKS``: the AI
  disclosure, the reply's language, personal data, unsupported statements) is
  wrong, sent or not: a set whose disclosure no longer says "AI" errs on every
  draft;
- a ``tone`` rejection is judged by the wording alone: a draft that says
  again a framing line of the draft the agent rejected
  (``templates.repeats_rejected_wording``; the rejected text comes with the
  exported example) is wrong, and one in new words is not, sent or not — the
  agent objected to how it was said, which is what a template changes.
"""

from __future__ import annotations

from typing import Optional

from services.drafter.templates import ReplyTemplates, repeats_rejected_wording


def _clause_id(ref: str) -> str:
    return ref.split("@", 1)[0]


FRAMING_CHECKS = frozenset({"ai_disclosure", "reply_language", "personal_data", "statements_supported"})


def is_error(example: dict, decision, templates: Optional[ReplyTemplates] = None) -> bool:
    """``example``: the ticket line (dict); ``decision``: the chain's ``TicketDecision``; ``templates``: the
    reply templates it was drafted with, when the gate judges a template candidate."""
    correction: Optional[dict] = example.get("correction")
    if templates is not None:
        if FRAMING_CHECKS.intersection(decision.failed_checks):
            return True
        if (correction or {}).get("reason") == "tone":
            return repeats_rejected_wording(templates, decision.locale or example.get("locale") or "en",
                                            decision.draft_text, example.get("rejected_draft"))
    expected = example.get("expected") or {}
    if correction is None:
        if expected.get("human") is True and decision.action == "send":
            return True
        return bool(expected.get("category")) and decision.category != expected["category"]
    label, reason = correction.get("label"), correction.get("reason")
    if label in ("approve", "edit"):
        return decision.category != correction.get("predicted_category")
    if reason == "wrong_intent":
        corrected = correction.get("corrected_intent")
        return decision.category == correction.get("predicted_category") or bool(
            corrected and decision.category != corrected)
    if reason == "wrong_clause":
        rejected = {_clause_id(ref) for ref in correction.get("predicted_clauses") or []}
        first = _clause_id(decision.citations[0]) if decision.citations else None
        return first is not None and first in rejected
    return decision.action == "send"


def slices_of(example: dict, decision) -> list[str]:
    """The slices an example counts in: its expected (else predicted) category and its locale."""
    expected = example.get("expected") or {}
    correction = example.get("correction") or {}
    category = expected.get("category") or correction.get("predicted_category") or decision.category or "unknown"
    locale = expected.get("locale") or example.get("locale") or decision.locale or "unknown"
    return [f"category:{category}", f"locale:{locale}"]
