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
"""

from __future__ import annotations

from typing import Optional


def _clause_id(ref: str) -> str:
    return ref.split("@", 1)[0]


def is_error(example: dict, decision) -> bool:
    """``example``: the ticket line (dict); ``decision``: the chain's ``TicketDecision``."""
    correction: Optional[dict] = example.get("correction")
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
