"""What the queue and case pages show, computed from the store (no HTML here; templates render it).

The case page lines up each sentence of the draft with the clause it cites,
the clause's text exactly as published at that KB version: from the clauses
the drafter retrieved (carried on the draft event), or else looked up in the
knowledge-base catalogue.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import quote, urlencode

from services.review.cases import Case, CaseState
from services.review.store import ReviewStore

CITATION_MARKER = re.compile(r"\s*\[\s*([\w.\-:/]+@[\w.\-+:]+(?:\s*[;,]\s*[\w.\-:/]+@[\w.\-+:]+)*)\s*\]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
NUMBERED_MARKER = re.compile(r"\[(\d{1,3})\]")  # the template composer's ``[n]``: the n-th cited clause
TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[[^\]\s]+\])+)")
REJECTION_REASONS = ("wrong_intent", "wrong_clause", "tone", "policy", "other")
# Brief signals the triage panel already shows in its own rows (the rest of the brief's signals follow).
SHOWN_SIGNALS = frozenset({"intent", "intent_confidence", "category", "urgency", "priority", "sentiment", "frustration",
                           "vip", "churn_risk", "language", "locale", "customer.tier", "tier", "sla_due_at"})
AT_RISK_SECONDS = 3600  # an hour left: the countdown turns amber (the SLA events turn it red)
# While an approve or an edit is being worked on, the action panel re-fetches itself once a second
# (the verifier and the router answer well within a second on a warm pipeline); after a minute
# (a restarting verifier, a rebalance) it stops and offers a button instead of polling forever.
POLL_SECONDS = 1
POLL_LIMIT = 60

ClauseLookup = Callable[[str, str, str, str], Optional[tuple[str, str]]]


@dataclass
class QueueRow:
    case: Case
    due_seconds: Optional[float]
    urgency_class: str  # breached | at-risk | ok | none
    badges: list[str]


@dataclass
class DraftSentence:
    text: str
    refs: list[str]
    clauses: list[dict] = field(default_factory=list)  # {ref, title, text, retrieved}


def _urgency(case: Case, due_seconds: Optional[float]) -> str:
    if due_seconds is None:
        return "none"
    if due_seconds <= 0 or case.sla_state == "breached":
        return "breached"
    if due_seconds <= AT_RISK_SECONDS or case.sla_state == "at_risk":
        return "at-risk"
    return "ok"


def queue_row(case: Case, now: dt.datetime) -> QueueRow:
    due = (case.sla_due_at - now).total_seconds() if case.sla_due_at else None
    return QueueRow(case=case, due_seconds=due, urgency_class=_urgency(case, due), badges=case.failed_check_names)


def queue_page_context(store: ReviewStore, tenant: str, *, filters: dict[str, str], page: int, page_size: int,
                       now: dt.datetime) -> dict:
    cases, total = store.queue(tenant, limit=page_size, offset=(page - 1) * page_size, **filters)
    pages = max(1, math.ceil(total / page_size))
    return {
        "rows": [queue_row(case, now) for case in cases],
        "total": total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "facets": store.facets(tenant),
        "states": [CaseState.awaiting_agent.value, CaseState.escalated.value, CaseState.edit_refused.value],
    }


def explicit_markers(reply_text: str, citations: list[dict]) -> str:
    """``[n]`` markers written out as ``[clause_id@kb_version]`` (numbered in order of first citation),
    so an agent sees, and keeps when editing, exactly which clause each sentence cites."""
    refs = list(dict.fromkeys(c["ref"] for c in citations))

    def written_out(match: re.Match) -> str:
        n = int(match.group(1))
        return f"[{refs[n - 1]}]" if 1 <= n <= len(refs) else match.group(0)

    return NUMBERED_MARKER.sub(written_out, reply_text)


def split_draft(reply_text: str, citations: list[dict]) -> list[DraftSentence]:
    """The reply's sentences with the refs each cites (inline markers, else the citation naming it)."""
    # A marker after the full stop belongs to the sentence before it.
    reply_text = TRAILING_MARKERS.sub(lambda m: f"{m.group(2)}{m.group(1)}", explicit_markers(reply_text, citations))
    by_sentence = {}
    for citation in citations:
        key = CITATION_MARKER.sub("", citation.get("sentence", "")).strip().casefold()
        by_sentence.setdefault(key, []).append(citation["ref"])
    out: list[DraftSentence] = []
    for paragraph in reply_text.split("\n"):
        for raw in SENTENCE_END.split(paragraph.strip()):
            if not raw.strip():
                continue
            refs = []
            for group in CITATION_MARKER.findall(raw):
                refs += [ref.strip() for ref in re.split(r"[;,]", group) if ref.strip()]
            text = CITATION_MARKER.sub("", raw).strip()
            if not text and out:  # a marker alone: it belongs to the sentence before it
                out[-1].refs += [ref for ref in refs if ref not in out[-1].refs]
                continue
            text = re.sub(r"\s+([.!?])$", r"\1", text)
            if not refs:
                refs = list(by_sentence.get(text.casefold(), []))
            out.append(DraftSentence(text=text, refs=refs))
    return out


_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(#?[^)\s]*\)")


def clause_plain_text(text: str) -> str:
    """Clause Markdown as an agent reads it: links become their words, emphasis marks go."""
    return re.sub(r"[*_`]{1,2}(\S[^*_`]*?)[*_`]{1,2}", r"\1", _MARKDOWN_LINK.sub(r"\1", text))


def _clause_view(ref: str, retrieved: dict[str, dict], tenant: str, locale: str,
                 lookup: Optional[ClauseLookup]) -> dict:
    found = retrieved.get(ref)
    if found is not None:
        return {"ref": ref, "title": found.get("title", ""), "text": clause_plain_text(found.get("text", "")),
                "retrieved": True}
    clause_id, _, kb_version = ref.partition("@")
    resolved = lookup(tenant, locale, clause_id, kb_version) if lookup else None
    if resolved is not None:
        return {"ref": ref, "title": resolved[0], "text": clause_plain_text(resolved[1]), "retrieved": False}
    return {"ref": ref, "title": "", "text": "", "retrieved": False, "missing": True}


def case_page_context(case: Case, *, queues: list[str], done: str, now: dt.datetime,
                      lookup: Optional[ClauseLookup] = None, polls: int = 0) -> dict:
    """``polls``: how many times the action panel has already re-fetched itself for this action."""
    draft = case.draft or {}
    retrieved = {c["ref"]: c for c in draft.get("retrieved", [])}
    sentences = split_draft(draft.get("reply_text") or case.reply_text, draft.get("citations", []))
    for sentence in sentences:
        sentence.clauses = [_clause_view(ref, retrieved, case.tenant, draft.get("kb_locale") or case.locale, lookup)
                            for ref in sentence.refs]
    # Consecutive sentences citing the same clause share one clause card (the page stays readable).
    groups: list[list[DraftSentence]] = []
    for sentence in sentences:
        if groups and sentence.refs and groups[-1][-1].refs == sentence.refs:
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    disclosure = (draft.get("disclosure") or "").strip()
    return {
        "case": case,
        "row": queue_row(case, now),
        "sentences": sentences,
        "sentence_groups": groups,
        "disclosure": disclosure,
        "edit_text": (case.edit or {}).get("text") if case.state == CaseState.edit_refused else
                     explicit_markers(draft.get("reply_text") or case.reply_text, draft.get("citations", [])),
        "queues": [q for q in queues if q != case.queue],
        "reasons": REJECTION_REASONS,
        "done": done,
        **_polling(case, done, polls),
        "history": list(reversed(case.history)),
        "shown_signals": SHOWN_SIGNALS,
    }


def _polling(case: Case, done: str, polls: int) -> dict:
    """Whether the action panel keeps re-fetching itself, and the addresses it uses."""
    working = case.state in (CaseState.approving, CaseState.verifying_edit)
    polls = max(0, polls)
    panel = f"/cases/{quote(case.conversation_id, safe='')}/panel"
    return {
        "working": working,
        "polling": working and polls < POLL_LIMIT,
        "poll_seconds": POLL_SECONDS,
        "poll_limit_seconds": POLL_LIMIT * POLL_SECONDS,
        "poll_url": f"{panel}?{urlencode({'done': done, 'polls': polls + 1})}",
        "check_again_url": f"{panel}?{urlencode({'done': done, 'polls': 0})}",
    }
