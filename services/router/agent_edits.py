"""The verifier's verdict on an agent's edit: send the edited text, or hand it back (pure).

The edited draft (composer ``agent:<id>``, id ``<original>+edit-…``) passed
when no check of severity ``failed`` failed (``needs_human`` checks do not
stop it: a person wrote it). Then the reply goes out under the original
draft's idempotency key, so an approve and an edit of the same draft never
both reach the customer. Otherwise nothing is sent and the case goes back to
review in its queue with the failed checks in the brief, which the console
shows to the agent. A verdict that reaches a closed case (answered, resolved or
dropped meanwhile) is refused by the case's lifecycle: nothing is sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from casetrail.events import DraftVerified, HandoffBrief, ProducerInfo, ReplyOutbound, RoutedDecision
from casetrail.events.decision import Action

from services.router.case import Case, CaseEvent, transition
from services.router.sending import make_reply

AGENT_COMPOSER_PREFIX = "agent:"
EDIT_OF_OLDER_DRAFT = "edit_of_older_draft"


def is_agent_edit(event: DraftVerified) -> bool:
    return event.draft.composer.startswith(AGENT_COMPOSER_PREFIX)


def original_draft_id(edit_draft_id: str) -> str:
    return edit_draft_id.split("+edit-", 1)[0]


@dataclass
class EditOutcome:
    case: Optional[Case]
    reply: Optional[ReplyOutbound] = None
    decision: Optional[RoutedDecision] = None
    note: Optional[str] = None  # why nothing happened (the app stores and sends nothing then)


def apply_verified_edit(case: Optional[Case], event: DraftVerified, producer: ProducerInfo,
                        now: dt.datetime) -> EditOutcome:
    original = original_draft_id(event.draft.draft_id)
    if case is None or case.draft_id != original:
        return EditOutcome(case=case, note=EDIT_OF_OLDER_DRAFT)
    agent = event.draft.composer[len(AGENT_COMPOSER_PREFIX):]
    failed = [c for c in event.verification.checks if not c.passed and c.severity == "failed"]
    step = transition(case, CaseEvent.edit_failed if failed else CaseEvent.edit_passed)
    if step.refusal is not None:
        return EditOutcome(case=case, note=step.refusal.code)  # e.g. resolved meanwhile: never sent
    if not failed:
        reply = make_reply(
            conversation_id=event.conversation_id, causation_id=event.event_id, tenant=event.tenant,
            locale=event.locale, channel=case.channel, source=case.source, external_id=case.external_id,
            draft_id=original, body=event.draft.reply_text, sent_by=f"agent:{agent}", producer=producer,
            citations=[c.ref for c in event.draft.citations],
        )
        return EditOutcome(case=step.case, reply=reply)
    decision = RoutedDecision(
        **event.derive("edit-refused", producer), occurred_at=now, versions=event.versions, mode=case.mode,
        action=Action.review, queue=case.queue, priority=case.priority,
        reason="the agent's edit failed verification: " + ", ".join(c.name for c in failed),
        triage=event.triage, draft_id=event.draft.draft_id, reply_text=event.draft.reply_text,
        citations=[c.ref for c in event.draft.citations], verdict=event.verification.verdict,
        brief=HandoffBrief(summary="Edited reply not sent: it failed verification.", draft_text=event.draft.reply_text,
                           not_sent_because=[f"check {c.name} failed: {c.detail}" for c in failed]),
    )
    return EditOutcome(case=step.case, decision=decision)
