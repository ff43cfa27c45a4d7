"""Envelope-sized sample events for the codec and hop benchmarks and the foundation tests."""

from __future__ import annotations

import datetime as dt

from casetrail.events import (
    AuthorRole,
    Conversation,
    ConversationReceived,
    CustomerContext,
    Message,
    ProducerInfo,
    SlaEvent,
    SlaEventKind,
)

_PRODUCER = ProducerInfo(service="bench", version="0")


def sample_conversation_received(i: int, tenant: str = "acme-shop") -> ConversationReceived:
    at = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i)
    return ConversationReceived(
        conversation_id=f"conv-{i:08d}",
        tenant=tenant,
        locale="en",
        producer=_PRODUCER,
        conversation=Conversation(
            source="generic",
            external_id=str(i),
            channel="email",
            subject="Where is my order?",
            messages=[
                Message(
                    message_id=f"m-{i}",
                    author_role=AuthorRole.customer,
                    sent_at=at,
                    body_text="Hello, my order [ORDER_1] has not arrived yet. Can you check? Thanks, [NAME_1]",
                )
            ],
            customer=CustomerContext(customer_id=f"cust-{i % 500}", tier="standard", lifetime_value=120.0),
            received_at=at,
        ),
    )


def sample_envelope_event(i: int) -> SlaEvent:
    """An envelope-sized event: the shared envelope plus three small fields."""
    at = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i)
    return SlaEvent(
        conversation_id=f"conv-{i:08d}",
        causation_id=f"00000000-0000-4000-8000-{i:012d}",
        tenant="acme-shop",
        locale="en",
        occurred_at=at,
        producer=ProducerInfo(service="router", version="0.1.0"),
        kind=SlaEventKind.at_risk,
        due_at=at + dt.timedelta(hours=4),
        fraction=0.75,
    )
