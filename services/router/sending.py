"""Outbound replies and their idempotency.

One reply per (conversation, draft): the key is the same whether the bot sends
autonomously or an agent approves or edits the draft, so a redelivered
decision, a second approve, or an approve after an edit never reach the
customer twice. The acknowledgement has its own key (it is not an answer).
Event ids are derived from the key, so even a duplicate that slipped through
is recognisable downstream as the same reply.
"""

from __future__ import annotations

from typing import Iterable, MutableMapping, Optional

from casetrail.events.decision import ReplyKind, ReplyOutbound
from casetrail.events.envelope import ProducerInfo
from casetrail.events.identity import stable_id


def idempotency_key(conversation_id: str, draft_id: str, kind: ReplyKind = ReplyKind.answer) -> str:
    suffix = "" if kind == ReplyKind.answer else f":{kind.value}"
    return f"{conversation_id}:{draft_id}{suffix}"


def derived_event_id(*parts: str) -> str:
    """A stable event id for an output derived from ``parts`` (same input, same id)."""
    return stable_id("router", *parts)


def make_reply(
    *,
    conversation_id: str,
    causation_id: Optional[str],
    tenant: str,
    locale: str,
    channel: str,
    source: str,
    external_id: str,
    draft_id: str,
    body: str,
    sent_by: str,
    producer: ProducerInfo,
    citations: Iterable[str] = (),
    kind: ReplyKind = ReplyKind.answer,
) -> ReplyOutbound:
    key = idempotency_key(conversation_id, draft_id, kind)
    return ReplyOutbound(
        event_id=derived_event_id("reply", key),
        conversation_id=conversation_id,
        causation_id=causation_id,
        tenant=tenant,
        locale=locale,
        producer=producer,
        idempotency_key=key,
        channel=channel,
        source=source,
        external_id=external_id,
        body=body,
        draft_id=draft_id,
        sent_by=sent_by,
        citations=list(citations),
        kind=kind,
    )


def claim_send(sent: MutableMapping[str, dict], reply: ReplyOutbound, *, at: str) -> bool:
    """Record ``reply`` as sent; False when its key was sent before (suppress the duplicate)."""
    if sent.get(reply.idempotency_key) is not None:
        return False
    sent[reply.idempotency_key] = {"event_id": reply.event_id, "sent_by": reply.sent_by, "at": at}
    return True
