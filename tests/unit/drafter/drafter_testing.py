"""Helpers for the drafter tests: the hashing test embedder and triaged-event factory."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

from casetrail.events import (
    AuthorRole, Conversation, ConversationTriaged, CustomerContext, Message, ProducerInfo, TriageResult,
)

REPO = Path(__file__).resolve().parents[3]
SAMPLE_KB = REPO / "knowledge" / "acme-shop"

_spec = importlib.util.spec_from_file_location(
    "kb_testing", REPO / "tests" / "unit" / "knowledge" / "kb_testing.py"
)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
HashingEmbedder = _module.HashingEmbedder


def triaged(text: str, *, locale: str = "en", intent: str = "refund_policy", confidence: float = 0.9,
            tenant: str = "acme-shop", subject: str | None = None, **triage_fields) -> ConversationTriaged:
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone.utc)
    conversation = Conversation(
        source="email", external_id="T-1", channel="email", subject=subject,
        messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=now, body_text=text)],
        customer=CustomerContext(customer_id="c-1"), received_at=now,
    )
    triage = TriageResult(intent=intent, intent_confidence=confidence, category=triage_fields.pop("category", intent),
                          language=locale, **triage_fields)
    return ConversationTriaged(conversation_id="conv-1", tenant=tenant, locale=locale,
                               producer=ProducerInfo(service="triage", version="test"),
                               conversation=conversation, triage=triage)


