"""Agents' corrections become labelled evaluation examples (pure).

Every approve, edit or reject is one example: the ticket as ingest left it
(redacted), what casetrail predicted (intent, category, confidence, the clauses
the draft cited, the verifier's verdict and failed checks) and what the agent
said (the label, the rejection reason, a corrected intent, the edited reply).

- Per tenant and locale; deduplicated by the normalised ticket text, so the
  same request corrected twice is one example (the latest correction wins).
- Free text (ticket, subject, edited reply, a rejected draft) is split from the labels: the
  store seals it under the customer's key, so erasing the customer
  (crypto-shredding) makes the example's text unreadable everywhere, and the
  erasure event removes the example itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Optional

from services.review.cases import Case

LABELS = ("approve", "edit", "reject")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class LabelledExample:
    example_id: str
    tenant: str
    locale: str
    conversation_id: str
    label: str
    customer_id: Optional[str]  # whose key seals the text; never stored in clear
    original_key_id: Optional[str]  # the key ingest sealed the original under: erased means no example
    text: dict  # {"subject", "ticket", "final_reply", "rejected_draft"}: sealed by the store
    labels: dict  # predictions and the agent's correction: no free text


def example_key(tenant: str, locale: str, ticket_text: str) -> str:
    normalised = _SPACE.sub(" ", ticket_text).strip().casefold()
    return hashlib.sha256(f"{tenant}\x1f{locale}\x1f{normalised}".encode()).hexdigest()[:32]


def _ticket_text(case: Case) -> str:
    messages = (case.conversation or {}).get("messages") or []
    return "\n\n".join(m["body_text"] for m in messages if m["author_role"] == "customer")


def example_of(case: Case) -> Optional[LabelledExample]:
    """The example an agent's verdict on ``case`` makes, or None (no verdict yet, or no ticket text)."""
    correction = case.correction
    if not correction or correction["action"] not in LABELS or case.conversation is None:
        return None
    ticket = _ticket_text(case)
    if not ticket.strip():
        return None
    draft = case.draft or {}
    label = correction["action"]
    final_reply = None
    if label == "approve":
        final_reply = case.reply_text
    elif label == "edit":
        final_reply = (case.edit or {}).get("text")
    # A rejected draft's own words: what a reply-template candidate must not say again (a ``tone``
    # rejection is about wording the labels cannot hold). Sealed with the rest of the free text.
    rejected_draft = draft.get("reply_text") if label == "reject" else None
    edit_refused = label == "edit" and bool((case.edit or {}).get("failed"))
    labels = {
        "label": label,
        "reason": correction.get("reason"),
        "corrected_intent": correction.get("corrected_intent"),
        "edit_refused_checks": [c["name"] for c in (case.edit or {}).get("failed", [])] if edit_refused else [],
        "predicted_intent": case.intent,
        "predicted_category": case.category,
        "intent_confidence": case.intent_confidence,
        "predicted_clauses": [c["ref"] for c in draft.get("citations", [])] or list(case.citations),
        "verdict": case.verdict,
        "failed_checks": case.failed_check_names,
        "router_action": case.decision_action,
        "queue": case.queue,
        "versions": case.versions,
        "corrected_at": correction.get("at"),
    }
    return LabelledExample(
        example_id=example_key(case.tenant, case.locale, ticket), tenant=case.tenant, locale=case.locale,
        conversation_id=case.conversation_id, label=label, customer_id=case.conversation.get("customer_id"),
        original_key_id=(case.conversation.get("sealed") or {}).get("key_id"),
        text={"subject": case.conversation.get("subject"), "ticket": ticket, "final_reply": final_reply,
              "rejected_draft": rejected_draft},
        labels=labels,
    )
