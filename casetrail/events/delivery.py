"""What the delivery service did with a decision on the ticketing platform.

One ``DeliveryReceipt`` per effect (a public reply, an internal note, a ticket
update) and outcome. ``delivered_at`` is when the platform accepted the write
(HTTP 2xx, SMTP 250): the moment the customer could see a public reply, which
is what "first response" means. ``effect_key`` is the deterministic key the
effect was delivered under; a redelivered decision yields the same key and
never a second post.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from casetrail.events.decision import ReplyKind
from casetrail.events.envelope import EventEnvelope


class DeliveryEffect(str, enum.Enum):
    public_reply = "public_reply"  # the customer sees it (answer or acknowledgement)
    internal_note = "internal_note"  # agents see it: draft, citations, verdict, brief
    ticket_update = "ticket_update"  # assignment to the queue's group, priority, tags


class DeliveryOutcome(str, enum.Enum):
    delivered = "delivered"  # the platform accepted it (or already had it: ``recovered``)
    failed = "failed"  # refused for good or out of retries: dead-lettered with the reason
    suppressed = "suppressed"  # deliberately not written (loop prevention, nothing to deliver to)


class DeliveryReceipt(EventEnvelope):
    effect_key: str
    effect: DeliveryEffect
    outcome: DeliveryOutcome
    platform: str  # zendesk | intercom | freshdesk | servicenow | email
    external_id: str  # the ticket / conversation / thread on the platform
    reply_kind: Optional[ReplyKind] = None  # public replies: answer or acknowledgement
    sent_by: Optional[str] = None  # "bot" or "agent:<id>" (public replies)
    draft_id: Optional[str] = None
    platform_id: Optional[str] = None  # the id the platform gave the write (comment id, Message-ID)
    attempts: int = 1
    latency_ms: Optional[int] = None  # source event -> platform acceptance
    delivered_at: Optional[dt.datetime] = None
    status: Optional[int] = None  # the platform's last HTTP / SMTP status
    reason: str = ""  # why it failed or was suppressed; never ticket text or personal data
    recovered: bool = False  # found on the platform after a crash and not posted again

    class Meta:
        namespace = "io.casetrail.events"
