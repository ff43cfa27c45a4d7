"""Builders for router test events: a DraftVerified with sensible defaults, every signal overridable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

from casetrail.events import (
    CheckResult,
    Citation,
    Conversation,
    CustomerContext,
    Draft,
    DraftOutcome,
    DraftVerified,
    Message,
    ProducerInfo,
    TriageResult,
    Verdict,
    Verification,
)
from casetrail.events.conversation import AuthorRole
from casetrail.policy.tenant import load_policy

REPO = Path(__file__).resolve().parents[3]
ACME = REPO / "config" / "tenants" / "acme-shop.yaml"
PRODUCER = ProducerInfo(service="router", version="test")
# A Wednesday 10:00 in Vilnius: acme-shop's business hours are open.
OPEN_NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
# A Sunday 03:00 in Vilnius: closed.
CLOSED_NOW = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.timezone.utc)


def acme():
    return load_policy(ACME)


def verified(
    *,
    category: str = "order_status",
    confidence: float = 0.95,
    verdict: Verdict = Verdict.passed,
    sentiment: float = 0.0,
    vip: bool = False,
    tier: Optional[str] = None,
    lifetime_value: Optional[float] = None,
    urgency: str = "normal",
    priority: str = "normal",
    flags: tuple[str, ...] = (),
    spam: bool = False,
    locale: str = "en",
    received_at: dt.datetime = OPEN_NOW,
    sla_due_at: Optional[dt.datetime] = None,
    failed_checks: tuple[tuple[str, str], ...] = (),
    outcome: DraftOutcome = DraftOutcome.drafted,
    conversation_id: str = "conv-1",
    draft_id: str = "draft-1",
    event_id: Optional[str] = None,
    timezone: Optional[str] = None,
) -> DraftVerified:
    checks = [CheckResult(name="citations", passed=True)] + [
        CheckResult(name=name, passed=False, detail=detail) for name, detail in failed_checks
    ]
    conversation = Conversation(
        source="zendesk",
        external_id="T-100",
        channel="email",
        subject="Where is my order [ORDER_1]?",
        messages=[
            Message(message_id="m1", author_role=AuthorRole.customer, sent_at=received_at,
                    body_text="Hello, my parcel [ORDER_1] has not arrived yet. Where is it?"),
        ],
        customer=CustomerContext(customer_id="cust-9", tier=tier, lifetime_value=lifetime_value, timezone=timezone),
        received_at=received_at,
    )
    triage = TriageResult(
        intent=category, intent_confidence=confidence, category=category, urgency=urgency, priority=priority,
        sentiment=sentiment, vip=vip, spam=spam, flags=list(flags), sla_due_at=sla_due_at, language=locale,
        embedding=[0.1, 0.2],
    )
    draft = Draft(
        draft_id=draft_id, outcome=outcome, locale=locale,
        reply_text="Your order ships within 2 business days [shipping-1@kb-7]." if outcome == DraftOutcome.drafted else "",
        citations=[Citation(clause_id="shipping-1", kb_version="kb-7", score=0.9, sentence="Your order ships within 2 business days.")]
        if outcome == DraftOutcome.drafted else [],
        confidence=0.9,
    )
    extra = {"event_id": event_id} if event_id else {}
    return DraftVerified(
        conversation_id=conversation_id, tenant="acme-shop", locale=locale, producer=ProducerInfo(service="verifier", version="t"),
        conversation=conversation, triage=triage, draft=draft,
        verification=Verification(verdict=verdict, checks=checks, threshold=0.8), **extra,
    )
