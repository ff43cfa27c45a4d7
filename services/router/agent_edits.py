"""The verifier's verdict on an agent's edit: send the edited text, or hand it back (pure).

The edited draft (composer ``agent:<id>``, id ``<original>+edit-…``) passed
when no check of severity ``failed`` failed (``needs_human`` checks do not
stop it: a person wrote it). Then the reply goes out under the original
draft's idempotency key, so an approve and an edit of the same draft never
both reach the customer. Otherwise nothing is sent and the case goes back to
review in its queue with the failed checks in the brief, which the console
shows to the agent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

from casetrail.events import DraftVerified, HandoffBrief, ProducerInfo, ReplyOutbound, RoutedDecision
from casetrail.events.decision import Action, Mode

from services.router.sending import make_reply

AGENT_COMPOSER_PREFIX = "agent:"
EDIT_OF_OLDER_DRAFT = "edit_of_older_draft"


def is_agent_edit(event: DraftVerified) -> bool:
    return event.draft.composer.startswith(AGENT_COMPOSER_PREFIX)


def original_draft_id(edit_draft_id: str) -> str:
    return edit_draft_id.split("+edit-", 1)[0]


@dataclass
class EditOutcome:
    record: Optional[dict[str, Any]]
    reply: Optional[ReplyOutbound] = None
    decision: Optional[RoutedDecision] = None
    note: Optional[str] = None


def apply_verified_edit(record: Optional[dict[str, Any]], event: DraftVerified, producer: ProducerInfo,
                        now: dt.datetime) -> EditOutcome:
    original = original_draft_id(event.draft.draft_id)
    if record is None or record.get("draft_id") != original:
        return EditOutcome(record=record, note=EDIT_OF_OLDER_DRAFT)
    agent = event.draft.composer[len(AGENT_COMPOSER_PREFIX):]
    failed = [c for c in event.verification.checks if not c.passed and c.severity == "failed"]
    if not failed:
        reply = make_reply(
            conversation_id=event.conversation_id, causation_id=event.event_id, tenant=event.tenant,
            locale=event.locale, channel=record["channel"], source=record["source"], external_id=record["external_id"],
            draft_id=original, body=event.draft.reply_text, sent_by=f"agent:{agent}", producer=producer,
            citations=[c.ref for c in event.draft.citations],
        )
        return EditOutcome(record={**record, "status": "answered"}, reply=reply)
    decision = RoutedDecision(
        **event.derive("edit-refused", producer), occurred_at=now, versions=event.versions, mode=Mode(record.get("mode", "assist")), action=Action.review,
        queue=record.get("queue"), priority=record.get("priority", "normal"),
        reason="the agent's edit failed verification: " + ", ".join(c.name for c in failed),
        triage=event.triage, draft_id=event.draft.draft_id, reply_text=event.draft.reply_text,
        citations=[c.ref for c in event.draft.citations], verdict=event.verification.verdict,
        brief=HandoffBrief(summary="Edited reply not sent: it failed verification.", draft_text=event.draft.reply_text,
                           not_sent_because=[f"check {c.name} failed: {c.detail}" for c in failed]),
    )
    return EditOutcome(record={**record, "status": "awaiting_agent"}, decision=decision)
