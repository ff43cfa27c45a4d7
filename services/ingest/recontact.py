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
        if known:
            return InboundOutcome(None, state, None)
        # A conversation we have not seen: a return on the same topic?
        candidates = [
            entry for entry in (customer or {}).get("answered", [])
            if entry["conversation_id"] != inbound.conversation_id
            and entry["answered_at"] < inbound.at <= entry.get("last_at", entry["answered_at"]) + self.window
        ]
        for entry in reversed(candidates):
            same_subject = bool(inbound.subject_key) and inbound.subject_key == entry.get("subject")
            if same_subject or _similar(inbound.terms, entry.get("terms", []), self.topic_similarity):
                return InboundOutcome(
                    Recontact(entry["conversation_id"], entry["answered_by"], entry["answered_at"], "same_topic"), state, None)
        return InboundOutcome(None, state, None)

    def on_answer(self, conv: Optional[dict], customer: Optional[dict], conversation_id: str,
                  answered_by: str, at: float) -> tuple[Optional[dict], Optional[dict]]:
        """Record an answer. Returns the new (conversation, customer) states; None where unknown."""
        if conv is None:
            return None, None  # a reply to a conversation ingest never saw: nothing to attribute
        state = dict(conv)
        if state.get("first_answered_by") is None:
            state["first_answered_by"] = answered_by
            state["first_answered_at"] = at
        if state.get("last_answered_at") is None or at > state["last_answered_at"]:
            state["last_answered_at"] = at
        entries = [e for e in (customer or {}).get("answered", [])
                   if e["conversation_id"] != conversation_id and e.get("last_at", e["answered_at"]) + self.window >= at]
        entries.append({"conversation_id": conversation_id, "answered_by": state["first_answered_by"],
                        "answered_at": state["first_answered_at"], "last_at": state["last_answered_at"], "subject": state.get("subject", ""),
                        "terms": state.get("terms", [])})
        return state, {"answered": entries[-20:]}
