"""From a decision to the platform writes it needs (pure: no Kafka, no HTTP).

* an outbound reply (answer or acknowledgement, by the bot or an agent) ->
  one public reply;
* a routed decision for humans (review, escalate, shadow, or acknowledge with
  the human action deferred) -> an internal note (draft, citations with the
  clause text at its KB version, verdict, hand-off brief) and a ticket update
  (the queue's group, priority, tags ``casetrail:<action>``, category, locale);
* ``send`` -> a ticket update with ``casetrail:answered`` (the answer itself
  travels as an outbound reply); ``drop`` -> the tag ``casetrail:spam``.

Every effect has a deterministic key: the reply's idempotency key
(conversation + draft [+ acknowledgement]) or ``<decision event id>:note`` /
``:update``, so a redelivered or replayed record maps to the same effect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from casetrail.events.decision import Action, ReplyKind, ReplyOutbound, RoutedDecision
from casetrail.events.delivery import DeliveryEffect
from casetrail.own_messages import marker_for

from services.delivery.disclosure import with_disclosure_and_reference
from services.delivery.notes import ClauseText, render_note
from services.delivery.thread import Thread

TAG_PREFIX = "casetrail:"
_ACTION_TAGS = {Action.review: "casetrail:review", Action.escalate: "casetrail:escalated",
                Action.shadow: "casetrail:shadow", Action.send: "casetrail:answered", Action.drop: "casetrail:spam"}


@dataclass(frozen=True)
class Effect:
    """One write to one ticket on one platform."""

    key: str
    kind: DeliveryEffect
    conversation_id: str
    tenant: str
    locale: str
    platform: str  # the conversation's source system
    external_id: str
    source_event_id: str
    source_occurred_at: dt.datetime
    marker: str = ""
    body: str = ""  # public reply or note text, with the reference line
    reply_kind: Optional[ReplyKind] = None
    sent_by: Optional[str] = None
    draft_id: Optional[str] = None
    queue: Optional[str] = None
    priority: Optional[str] = None
    tags: tuple[str, ...] = ()
    title: str = ""  # a one-line summary (e-mail subject of a hand-off, note heading)

    @property
    def writes_text(self) -> bool:
        """Public replies and notes add a message: not idempotent on the platform, looked up after a crash."""
        return self.kind in (DeliveryEffect.public_reply, DeliveryEffect.internal_note)


@dataclass(frozen=True)
class Plan:
    effects: tuple[Effect, ...] = ()
    skipped: str = ""  # why nothing is written (empty when effects exist)
    suppressed: tuple[Effect, ...] = field(default=())  # effects deliberately not written (receipt: suppressed)


def plan_reply(reply: ReplyOutbound, thread: Optional[Thread]) -> Plan:
    platform = thread.source if thread else reply.source
    external_id = thread.external_id if thread else reply.external_id
    marker = marker_for(reply.idempotency_key)
    effect = Effect(
        key=reply.idempotency_key, kind=DeliveryEffect.public_reply, conversation_id=reply.conversation_id,
        tenant=reply.tenant, locale=reply.locale, platform=platform, external_id=external_id,
        source_event_id=reply.event_id, source_occurred_at=reply.occurred_at, marker=marker,
        body=with_disclosure_and_reference(reply.body, reply.locale, marker, sent_by=reply.sent_by),
        reply_kind=reply.kind, sent_by=reply.sent_by, draft_id=reply.draft_id,
        tags=(f"{TAG_PREFIX}{reply.kind.value}",),
    )
    if thread is not None and thread.automated:
        return Plan(suppressed=(effect,), skipped=f"the conversation is automated ({thread.automated.value}): never answered")
    return Plan((effect,))


def _tags(decision: RoutedDecision, action: Action) -> tuple[str, ...]:
    tags = [_ACTION_TAGS[action]]
    if decision.action == Action.acknowledge:
        tags.append("casetrail:acknowledged")
    if action != Action.drop:
        tags += [f"{TAG_PREFIX}category:{decision.triage.category}", f"{TAG_PREFIX}locale:{decision.locale}"]
    return tuple(tags)


def plan_decision(decision: RoutedDecision, thread: Thread, clause_text: ClauseText) -> Plan:
    action = decision.deferred_action if decision.action == Action.acknowledge else decision.action
    if action is None:
        return Plan(skipped="acknowledged with no deferred human action")
    common = dict(conversation_id=decision.conversation_id, tenant=decision.tenant, locale=decision.locale,
                  platform=thread.source, external_id=thread.external_id, source_event_id=decision.event_id,
                  source_occurred_at=decision.occurred_at, draft_id=decision.draft_id)
    update = Effect(key=f"{decision.event_id}:update", kind=DeliveryEffect.ticket_update, tags=_tags(decision, action),
                    queue=decision.queue if action not in (Action.send, Action.drop) else None,
                    priority=decision.priority if action not in (Action.send, Action.drop) else None,
                    **common)
    if action in (Action.send, Action.drop):
        return Plan((update,))
    marker = marker_for(f"{decision.event_id}:note")
    note_text, title = render_note(decision, action, clause_text)
    note = Effect(key=f"{decision.event_id}:note", kind=DeliveryEffect.internal_note, marker=marker,
                  body=f"{note_text}\n\n— ref {marker}", queue=decision.queue, priority=decision.priority,
                  tags=update.tags, title=title, **common)
    return Plan((note, update))




def no_clauses(tenant: str, citation: str) -> Optional[str]:
    """A clause resolver that knows no clause text (tests, tools without the knowledge base)."""
    return None
