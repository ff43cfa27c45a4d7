"""Sample events for the codec and hop benchmarks and the foundation tests: envelope-sized ones, and
one ticket's events along the pipeline."""

from __future__ import annotations

import datetime as dt

from casetrail.events import (
    Action,
    AuthorRole,
    CheckResult,
    Citation,
    Conversation,
    ConversationReceived,
    ConversationTriaged,
    CustomerContext,
    DecisionVersions,
    Draft,
    DraftOutcome,
    DraftProposed,
    DraftVerified,
    IntentScore,
    Message,
    Mode,
    ProducerInfo,
    ReplyOutbound,
    RetrievedClause,
    RoutedDecision,
    SlaEvent,
    SlaEventKind,
    TriageResult,
    Verdict,
    Verification,
)
from casetrail.events.envelope import AvroRecord

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


# -- one ticket's events along the pipeline (for per-topic event sizes) -------------------------------

EMBEDDING_DIMENSION = 384  # multilingual-e5-small, triage's embedder
_CLAUSE_TEXT = ("Orders ship within 2 business days of payment. Standard delivery takes 3 to 5 business days "
                "in the EU; express delivery takes 1 to 2. You receive a tracking link by email when the parcel "
                "leaves our warehouse. If your parcel has not arrived 10 business days after shipping, contact us.")


def sample_embedding(i: int) -> list[float]:
    """A unit vector rounded to 6 decimals, as triage writes it (deterministic per ``i``)."""
    raw = [((i * 7919 + k * 104729) % 2001 - 1000) / 1000.0 for k in range(EMBEDDING_DIMENSION)]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [round(x / norm, 6) for x in raw]


def sample_pipeline_events(i: int, embedding_past_triage: bool = False) -> list[tuple[str, AvroRecord]]:
    """``(topic, event)`` for one ticket from ingest to the reply, shaped like the services' events.

    ``embedding_past_triage`` keeps triage's vector in every event that embeds the triage result
    (what the pipeline carried before the drafter cleared it), for a before/after of the sizes.
    """
    received = sample_conversation_received(i)
    at = received.occurred_at
    conversation = received.conversation
    triage = TriageResult(
        intent="order_status", intent_confidence=0.91, category="order_status",
        alternatives=[IntentScore(intent="shipping_delay", confidence=0.06), IntentScore(intent="return_request", confidence=0.02)],
        urgency="normal", sentiment=-0.2, frustration=0.3, language="en", churn_risk=0.1,
        sla_due_at=at + dt.timedelta(hours=4), sla_policy="standard",
        embedding_model="intfloat/multilingual-e5-small", embedding=sample_embedding(i),
    )
    downstream_triage = triage if embedding_past_triage else triage.model_copy(update={"embedding": []})
    versions = DecisionVersions(model="intfloat/multilingual-e5-small", prompt="builtin-1",
                                knowledge_base="kb-2026-11-20", policy="9f2c1e7a")
    triaged = ConversationTriaged(**received.derive("triage", ProducerInfo(service="triage", version="0.1.0")),
                                  versions=versions, conversation=conversation, triage=triage)
    retrieved = [RetrievedClause(clause_id=f"shipping-{k}", kb_version="kb-2026-11-20", locale="en", score=0.82 - k / 20,
                                 title=f"Shipping times and tracking, part {k}", text=_CLAUSE_TEXT) for k in range(5)]
    draft = Draft(
        draft_id=f"00000000-0000-5000-8000-{i:012d}", outcome=DraftOutcome.drafted, locale="en",
        reply_text=("Hello, thank you for your message. Orders ship within 2 business days of payment and standard "
                    "delivery takes 3 to 5 business days. You will receive a tracking link by email."),
        retrieved=retrieved,
        citations=[Citation(clause_id="shipping-0", kb_version="kb-2026-11-20", score=0.82,
                            sentence="Orders ship within 2 business days of payment."),
                   Citation(clause_id="shipping-1", kb_version="kb-2026-11-20", score=0.77,
                            sentence="You will receive a tracking link by email.")],
        confidence=0.88, composer="template", disclosure="This reply was drafted automatically.",
        flags=["query_embedding_reused"],
    )
    proposed = DraftProposed(**triaged.derive("draft", ProducerInfo(service="drafter", version="0.1.0")),
                             versions=versions, conversation=conversation, triage=downstream_triage, draft=draft)
    checks = [CheckResult(name=name, passed=True) for name in (
        "draft_outcome", "citations_resolve", "claims_supported", "amounts_match", "no_personal_data",
        "locale_matches", "tone", "tenant_policy")]
    verified = DraftVerified(**proposed.derive("verify", ProducerInfo(service="verifier", version="0.1.0")),
                             versions=versions, conversation=conversation, triage=downstream_triage, draft=draft,
                             verification=Verification(verdict=Verdict.passed, checks=checks, threshold=0.8))
    inputs = {"category": "order_status", "intent_confidence": "0.91", "urgency": "normal", "sentiment": "-0.20",
              "vip": "false", "spam": "false", "tier": "standard", "contacts_in_window": "1", "in_hours": "true",
              "threshold": "0.80", "mode": "autonomous", "sla_at_risk_at": (at + dt.timedelta(hours=3)).isoformat()}
    decision = RoutedDecision(**verified.derive("route", ProducerInfo(service="router", version="0.1.0")),
                              versions=versions, mode=Mode.autonomous, action=Action.send, queue="tier1",
                              reason="verified and above the category threshold", inputs=inputs,
                              triage=downstream_triage, draft_id=draft.draft_id, reply_text=draft.reply_text,
                              citations=[c.ref for c in draft.citations], verdict=Verdict.passed, intake_at=at)
    reply = ReplyOutbound(**decision.derive("reply", ProducerInfo(service="router", version="0.1.0")),
                          idempotency_key=f"{received.conversation_id}/{draft.draft_id}", channel="email",
                          source="generic", external_id=conversation.external_id, body=draft.reply_text,
                          draft_id=draft.draft_id, sent_by="bot", citations=decision.citations)
    return [
        ("conversations.received.v1", received),
        ("conversations.triaged.v1", triaged),
        ("drafts.proposed.v1", proposed),
        ("drafts.verified.v1", verified),
        ("decisions.routed.v1", decision),
        ("replies.outbound.v1", reply),
    ]
