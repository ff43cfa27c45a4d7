"""An agent's edited reply, verified with the same checks as the draft it replaces (pure).

The console publishes ``AgentFeedback(edit)``; the verifier remembers the
latest draft of each conversation (its retrieved clauses are what the edit may
cite) and turns the edit into a draft of its own: same conversation, triage
and retrieved clauses, the agent's text, citations read from the inline
``[clause_id@kb_version]`` markers, composer ``agent:<id>``. The router sends
it only if no check of severity ``failed`` failed; otherwise it goes back to
the agent with the failed checks.
"""

from __future__ import annotations

import re
from typing import Optional

from casetrail.events import AgentFeedback, Citation, DraftProposed, FeedbackAction, ProducerInfo

from casetrail.grounding.sentences import split_sentences
from casetrail.privacy.customer_key import customer_key

AGENT_COMPOSER_PREFIX = "agent:"


def edit_draft_id(original_draft_id: str, feedback_event_id: str) -> str:
    """The edited draft's id: derived from the original (the router keys its send on the original)."""
    return f"{original_draft_id}+edit-{feedback_event_id[:8]}"


def remembered(event: DraftProposed) -> dict:
    """What the verifier keeps of a draft for a later edit (JSON for its table): no sealed original,
    no embedding."""
    slim = event.model_copy(update={
        "conversation": event.conversation.model_copy(update={"original": None}),
        "triage": event.triage.model_copy(update={"embedding": []}),
    })
    return slim.model_dump(mode="json")


def draft_customer(conversation_id: str, remembered_draft: dict) -> str:
    """The customer key of a remembered draft (the ``drafts`` table's erasure): tenant and customer id."""
    return customer_key(remembered_draft["tenant"], remembered_draft["conversation"]["customer"]["customer_id"])


_NUMBERED_MARKER = re.compile(r"\[(\d{1,3})\]")


def _explicit_markers(text: str, original: DraftProposed) -> str:
    """An edit that kept the composer's ``[n]`` markers cites the original's n-th clause."""
    refs = list(dict.fromkeys(c.ref for c in original.draft.citations))

    def written_out(match: re.Match) -> str:
        n = int(match.group(1))
        return f"[{refs[n - 1]}]" if 1 <= n <= len(refs) else match.group(0)

    return _NUMBERED_MARKER.sub(written_out, text)


def edited_draft_event(original: DraftProposed, feedback: AgentFeedback,
                       producer: ProducerInfo) -> Optional[DraftProposed]:
    """The edit as a draft to verify; None when the feedback is not an edit of this draft.

    Its envelope is derived from the feedback (a redelivered edit is the same draft, and so the
    same verdict event downstream)."""
    if feedback.action != FeedbackAction.edit or feedback.draft_id != original.draft.draft_id:
        return None
    text = _explicit_markers((feedback.edited_text or "").strip(), original)
    scores = {f"{c.clause_id}@{c.kb_version}": c.score for c in original.draft.retrieved}
    citations = []
    for sentence in split_sentences(text):
        for ref in sentence.refs:
            clause_id, _, kb_version = ref.partition("@")
            citations.append(Citation(clause_id=clause_id, kb_version=kb_version, score=scores.get(ref, 0.0),
                                      sentence=sentence.plain))
    draft = original.draft.model_copy(update={
        "draft_id": edit_draft_id(original.draft.draft_id, feedback.event_id),
        "reply_text": text,
        "citations": citations,
        "composer": f"{AGENT_COMPOSER_PREFIX}{feedback.agent_id}",
        "flags": [*original.draft.flags, "agent_edit"],
    })
    return original.model_copy(update={"draft": draft, **feedback.derive("agent-edit", producer),
                                       "occurred_at": feedback.occurred_at})
