"""The internal note agents read on the ticket: everything a human taking over needs.

What the decision was and why, the verifier's verdict, the draft that was not
sent, each citation with the clause text exactly as published at its KB
version, and the hand-off brief (summary, signals, why not sent, suggested
actions, where the full history is). Text in the decision is already redacted
by ingest; nothing here adds personal data.
"""

from __future__ import annotations

from typing import Callable, Optional

from casetrail.events.decision import Action, RoutedDecision

# (tenant, "clause_id@kb_version") -> the clause text at that version, or None when it cannot be resolved here.
ClauseText = Callable[[str, str], Optional[str]]
CLAUSE_CHARS = 600  # a note quotes the clause; the KB holds the whole of it
_HEADINGS = {Action.review: "Review the draft", Action.escalate: "Escalated", Action.shadow: "Shadow mode (draft only)"}


def render_note(decision: RoutedDecision, action: Action, clause_text: ClauseText) -> tuple[str, str]:
    """(note text, one-line title)."""
    triage = decision.triage
    title = (f"[casetrail] {_HEADINGS.get(action, action.value)}: {triage.category} -> "
             f"{decision.queue or 'no queue'} ({decision.priority})")
    lines = [title, ""]
    if decision.action == Action.acknowledge and decision.human_from is not None:
        lines.append(f"Outside the queue's hours: the customer was told a person answers from "
                     f"{decision.human_from.isoformat()} (automated acknowledgement sent).")
    lines += [
        f"Decision: {action.value}, mode {decision.mode.value}, rule {decision.rule or '-'}",
        f"Why: {decision.reason}",
        f"Intent: {triage.intent} ({triage.intent_confidence:.2f}), category {triage.category}, "
        f"locale {decision.locale}",
        f"Verifier verdict: {decision.verdict.value if decision.verdict else 'not verified'}",
    ]
    if decision.reply_text:
        lines += ["", "Draft (not sent to the customer):", decision.reply_text.strip()]
    if decision.citations:
        lines += ["", "Citations (clause text at the cited knowledge-base version):"]
        for citation in decision.citations:
            text = clause_text(decision.tenant, citation)
            if text is None:
                lines.append(f"- {citation}: (clause text not resolvable here; look it up at this version)")
            else:
                quoted = " ".join(text.split())
                if len(quoted) > CLAUSE_CHARS:
                    quoted = quoted[:CLAUSE_CHARS].rsplit(" ", 1)[0] + " …"
                lines.append(f"- {citation}: \"{quoted}\"")
    brief = decision.brief
    if brief is not None:
        lines += ["", "Hand-off brief:", brief.summary.strip()]
        if brief.signals:
            lines.append("Signals: " + ", ".join(f"{k}={v}" for k, v in sorted(brief.signals.items())))
        if brief.not_sent_because:
            lines += ["Not sent because:"] + [f"- {reason}" for reason in brief.not_sent_because]
        if brief.suggested_actions:
            lines += ["Suggested next actions:"] + [f"- {step}" for step in brief.suggested_actions]
        if brief.history_ref:
            lines.append(f"Full history: {brief.history_ref}")
    return "\n".join(lines), title
