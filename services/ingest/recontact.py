"""Re-contact detection: did the customer come back within 7 days of an answer?

Pure logic over plain, JSON-serialisable state (what the ``answered_conversations``
table stores). Two kinds of key live in that table:

* ``conv:<conversation_id>`` -> ``{"customer": customer_key, "subject": subject_key,
  "terms": [hashed words], "first_answered_by": "bot"|"agent"|None,
  "first_answered_at": epoch|None, "last_answered_at": epoch|None,
  "recontact_for": epoch|None}``
* ``cust:<customer_key>`` -> ``{"answered": [{"conversation_id", "answered_by",
  "answered_at" (first answer), "last_at", "subject", "terms"}]}`` (answered conversations still inside
  the window, newest last).

A re-contact is either

* a **reopen**: a new customer message in a conversation after it was answered,
  within ``window`` of the last answer; or
* a **return on the same topic**: a *new* conversation of the same customer
  within ``window`` of an answer to another conversation whose subject matches
  (after Re:/AW:/TR: prefixes) or whose content words overlap enough.

Either is attributed to whoever answered the original conversation first
(``bot`` or ``agent``), as honest deflection requires. One answer yields at
most one re-contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

WINDOW_DAYS = 7
DAY = 24 * 3600


@dataclass(frozen=True)
class Inbound:
    conversation_id: str
    customer_key: str
    subject_key: str
    terms: tuple[int, ...]
    at: float  # epoch seconds of the customer's newest message


@dataclass(frozen=True)
class Recontact:
    original_conversation_id: str
    answered_by: str
    answered_at: float
    kind: str  # "reopen" | "same_topic"


@dataclass(frozen=True)
class InboundOutcome:
    recontact: Optional[Recontact]
    conversation_state: dict
    customer_state: Optional[dict]  # None: unchanged


def answerer(sent_by: str) -> str:
    """``ReplyOutbound.sent_by`` ("bot" or "agent:<id>") -> "bot" | "agent"."""
    return "bot" if sent_by.strip().lower() == "bot" else "agent"


def _similar(a: tuple[int, ...] | list[int], b: tuple[int, ...] | list[int], threshold: float) -> bool:
    if not a or not b:
        return False
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) >= threshold


class RecontactTracker:
    def __init__(self, window_days: int = WINDOW_DAYS, topic_similarity: float = 0.35):
        self.window = window_days * DAY
        self.window_days = window_days
        self.topic_similarity = topic_similarity

    def on_inbound(self, conv: Optional[dict], customer: Optional[dict], inbound: Inbound) -> InboundOutcome:
        """Both halves at once (one process holding every state: dry runs, evaluation, tests)."""
        outcome = self.on_inbound_conversation(conv, inbound)
        if conv is None:
            return InboundOutcome(self.same_topic_return(customer, inbound), outcome.conversation_state, None)
        return outcome

    def on_inbound_conversation(self, conv: Optional[dict], inbound: Inbound) -> InboundOutcome:
        """The conversation's half: a reopen of an answered conversation. For a conversation not seen
        before (``conv`` None) the customer's half (``same_topic_return``) decides."""
        known = conv is not None
        state = dict(conv or {"customer": inbound.customer_key, "first_answered_by": None, "first_answered_at": None,
                              "last_answered_at": None, "recontact_for": None})
        state["subject"] = inbound.subject_key or state.get("subject", "")
        state["terms"] = list(inbound.terms) or state.get("terms", [])
        last = state.get("last_answered_at")
        if known and last is not None and state.get("first_answered_by"):
            if last < inbound.at <= last + self.window and state.get("recontact_for") != last:
                state["recontact_for"] = last
                return InboundOutcome(
                    Recontact(inbound.conversation_id, state["first_answered_by"], state["first_answered_at"], "reopen"),
                    state, None)
        return InboundOutcome(None, state, None)

    def same_topic_return(self, customer: Optional[dict], inbound: Inbound) -> Optional[Recontact]:
        """The customer's half: is a conversation not seen before a return to an answered one on the same topic?"""
        candidates = [
            entry for entry in (customer or {}).get("answered", [])
            if entry["conversation_id"] != inbound.conversation_id
            and entry["answered_at"] < inbound.at <= entry.get("last_at", entry["answered_at"]) + self.window
        ]
        for entry in reversed(candidates):
            same_subject = bool(inbound.subject_key) and inbound.subject_key == entry.get("subject")
            if same_subject or _similar(inbound.terms, entry.get("terms", []), self.topic_similarity):
                return Recontact(entry["conversation_id"], entry["answered_by"], entry["answered_at"], "same_topic")
        return None

    def on_answer(self, conv: Optional[dict], customer: Optional[dict], conversation_id: str,
                  answered_by: str, at: float) -> tuple[Optional[dict], Optional[dict]]:
        """Both halves at once. Returns the new (conversation, customer) states; None where unknown."""
        state = self.answer_conversation(conv, answered_by, at)
        if state is None:
            return None, None
        return state, self.remember_answer(customer, answered_entry(conversation_id, state), at)

    @staticmethod
    def answer_conversation(conv: Optional[dict], answered_by: str, at: float) -> Optional[dict]:
        """The conversation's half of an answer: its new state, or None for a conversation ingest never saw
        (nothing to attribute)."""
        if conv is None:
            return None
        state = dict(conv)
        if state.get("first_answered_by") is None:
            state["first_answered_by"] = answered_by
            state["first_answered_at"] = at
        if state.get("last_answered_at") is None or at > state["last_answered_at"]:
            state["last_answered_at"] = at
        return state

    def remember_answer(self, customer: Optional[dict], entry: dict, at: float) -> dict:
        """The customer's half of an answer: the answered conversations still inside the window, this one newest."""
        entries = [e for e in (customer or {}).get("answered", [])
                   if e["conversation_id"] != entry["conversation_id"]
                   and e.get("last_at", e["answered_at"]) + self.window >= at]
        entries.append(entry)
        return {"answered": entries[-20:]}


def answered_entry(conversation_id: str, conv: dict) -> dict:
    """What the customer's state keeps of an answered conversation (from the conversation's state)."""
    return {"conversation_id": conversation_id, "answered_by": conv["first_answered_by"],
            "answered_at": conv["first_answered_at"], "last_at": conv["last_answered_at"],
            "subject": conv.get("subject", ""), "terms": conv.get("terms", [])}
