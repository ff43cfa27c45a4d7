"""Events of one review case: the verified draft, the router's decision, agents' feedback, replies."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from casetrail.events import (
    AgentFeedback,
    CheckResult,
    DeliveryEffect,
    DeliveryOutcome,
    DeliveryReceipt,
    Citation,
    Conversation,
    CustomerContext,
    Draft,
    DraftOutcome,
    DraftVerified,
    FeedbackAction,
    HandoffBrief,
    Message,
    ProducerInfo,
    ReplyOutbound,
    RetrievedClause,
    RoutedDecision,
    TriageResult,
    Verdict,
    Verification,
)
from casetrail.events.conversation import AuthorRole
from casetrail.events.decision import Action, Mode, ReplyKind

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
CLAUSE_TEXT = "Orders ship within 2 business days. Delivery takes 3 to 5 business days."


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def triage(category: str = "order_status", vip: bool = False, sentiment: float = 0.0,
           due: Optional[dt.datetime] = None) -> TriageResult:
    return TriageResult(intent=category, intent_confidence=0.7, category=category, vip=vip, sentiment=sentiment,
                        sla_due_at=due or at(240), language="en", embedding=[0.1] * 4)


def verified(conversation_id: str = "conv-1", draft_id: str = "draft-1", *, tenant: str = "acme-shop",
             text: str = "Orders ship within 2 business days [shipping-1@kb-7].", composer: str = "template",
             verdict: Verdict = Verdict.passed, failed: tuple[tuple[str, str], ...] = (),
             ticket: str = "Hello, when will my order [ORDER_1] arrive?", minutes: float = 0,
             category: str = "order_status", customer_id: str = "cust-9", subject: str = "Delivery time") -> DraftVerified:
    checks = [CheckResult(name="citations_resolve", passed=True)] + [
        CheckResult(name=name, passed=False, detail=detail) for name, detail in failed]
    conversation = Conversation(
        source="zendesk", external_id="T-100", channel="email", subject=subject,
        messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=at(minutes), body_text=ticket)],
        customer=CustomerContext(customer_id=customer_id, tier="gold"), received_at=at(minutes),
    )
    draft = Draft(
        draft_id=draft_id, outcome=DraftOutcome.drafted, locale="en", reply_text=text, composer=composer,
        retrieved=[RetrievedClause(clause_id="shipping-1", kb_version="kb-7", locale="en", score=0.9,
                                   title="Shipping times", text=CLAUSE_TEXT)],
        citations=[Citation(clause_id="shipping-1", kb_version="kb-7", score=0.9,
                            sentence="Orders ship within 2 business days.")],
        confidence=0.8, disclosure="This reply was drafted by an AI assistant.",
    )
    return DraftVerified(conversation_id=conversation_id, tenant=tenant, locale="en", occurred_at=at(minutes),
                         producer=ProducerInfo(service="verifier", version="t"), conversation=conversation,
                         triage=triage(category), draft=draft,
                         verification=Verification(verdict=verdict, checks=checks, threshold=0.8))


def decision(conversation_id: str = "conv-1", draft_id: str = "draft-1", *, tenant: str = "acme-shop",
             action: Action = Action.review, queue: str = "general-support", minutes: float = 0.01,
             category: str = "order_status", vip: bool = False, due: Optional[dt.datetime] = None,
             verdict: Verdict = Verdict.passed) -> RoutedDecision:
    return RoutedDecision(
        conversation_id=conversation_id, tenant=tenant, locale="en", occurred_at=at(minutes),
        producer=ProducerInfo(service="router", version="t"), mode=Mode.assist, action=action, queue=queue,
        triage=triage(category, vip=vip, due=due), draft_id=draft_id,
        reply_text="Orders ship within 2 business days [shipping-1@kb-7].", citations=["shipping-1@kb-7"],
        verdict=verdict, brief=HandoffBrief(summary="Customer asks when the order arrives.", signals={"tier": "gold"}),
    )


def feedback(action: FeedbackAction, conversation_id: str = "conv-1", draft_id: str = "draft-1", *,
             minutes: float = 5, **fields) -> AgentFeedback:
    return AgentFeedback(conversation_id=conversation_id, tenant=fields.pop("tenant", "acme-shop"), locale="en",
                         occurred_at=at(minutes), producer=ProducerInfo(service="review", version="t"),
                         draft_id=draft_id, agent_id="agent-ana", action=action, **fields)


def reply(conversation_id: str = "conv-1", draft_id: str = "draft-1", *, minutes: float = 6) -> ReplyOutbound:
    return ReplyOutbound(conversation_id=conversation_id, tenant="acme-shop", locale="en", occurred_at=at(minutes),
                         producer=ProducerInfo(service="router", version="t"), idempotency_key=f"{conversation_id}:{draft_id}",
                         channel="email", source="zendesk", external_id="T-100", body="Orders ship ...",
                         draft_id=draft_id, sent_by="agent:agent-ana")


def receipt(conversation_id: str = "conv-1", effect: DeliveryEffect = DeliveryEffect.public_reply,
            outcome: DeliveryOutcome = DeliveryOutcome.delivered, *, reason: str = "",
            kind: ReplyKind = ReplyKind.answer, minutes: float = 7) -> DeliveryReceipt:
    """What the delivery service reports about one effect of the case's decision on Zendesk."""
    return DeliveryReceipt(conversation_id=conversation_id, tenant="acme-shop", locale="en", occurred_at=at(minutes),
                           producer=ProducerInfo(service="delivery", version="test"),
                           effect_key=f"{conversation_id}:{effect.value}", effect=effect, outcome=outcome,
                           platform="zendesk", external_id="T-100", reply_kind=kind, reason=reason,
                           delivered_at=at(minutes) if outcome == DeliveryOutcome.delivered else None)
