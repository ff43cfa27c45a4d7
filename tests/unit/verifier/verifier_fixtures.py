"""Builders for verifier unit tests: a real DraftProposed, fakes for the injected collaborators."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from casetrail.events import (
    AuthorRole, Citation, Conversation, CustomerContext, Draft, DraftOutcome, DraftProposed, Message, ProducerInfo,
    RetrievedClause, TriageResult,
)
from casetrail.policy.tenant import TenantPolicy, load_policy
from services.verifier.checks import CheckDependencies
from services.verifier.review import DraftUnderReview

REPO = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)
V = "1+abc123def456"
DISCLOSURE_EN = "This reply was drafted by an AI assistant and checked against our policies."

CLAUSES = {
    "refunds.window": ("Refund window", "You can return any item within 30 days of delivery for a full refund. "
                                         "The 30 days start on the day the parcel is delivered."),
    "refunds.approval": ("Automatic refund approval", "Refunds up to 50 EUR are approved automatically once the "
                                                      "return is scanned by the carrier. Larger refunds are checked "
                                                      "by our returns team within 2 business days."),
    "shipping.costs": ("Shipping costs", "Standard shipping is free for orders over 49 EUR; below that it costs "
                                         "4.95 EUR. Express shipping costs 9.95 EUR."),
}


@dataclass(frozen=True)
class FakeClause:
    title: str
    text: str


class FakeResolver:
    """Knows exactly the clauses it is given; records what it was asked."""

    def __init__(self, known: dict[tuple[str, str, str, str], FakeClause]):
        self.known = known
        self.calls: list[tuple[str, str, str, str]] = []

    def __call__(self, tenant, locale, clause_id, kb_version):
        self.calls.append((tenant, locale, clause_id, kb_version))
        return self.known.get((tenant, locale, clause_id, kb_version))


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def fake_pii(text, locale=None, known_names=()):
    """E-mail addresses only: enough to test the check's own logic."""
    return [Finding("EMAIL", m.start(), m.end()) for m in re.finditer(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", text)]


@pytest.fixture(scope="session")
def policy() -> TenantPolicy:
    return load_policy(REPO / "config" / "tenants" / "acme-shop.yaml")


def with_policy(policy: TenantPolicy, **update) -> TenantPolicy:
    return TenantPolicy.model_validate({**policy.model_dump(), **update})


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver({("acme-shop", "en", cid, V): FakeClause(t, x) for cid, (t, x) in CLAUSES.items()})


@pytest.fixture
def deps(resolver) -> CheckDependencies:
    from services.verifier.language_identification import identify

    return CheckDependencies(resolver=resolver, pii_detector=fake_pii, language_identifier=identify)


def retrieved(clause_id: str, locale: str = "en", version: str = V, text: str | None = None) -> RetrievedClause:
    title, body = CLAUSES[clause_id]
    return RetrievedClause(clause_id=clause_id, kb_version=version, locale=locale, score=0.8, title=title,
                           text=body if text is None else text)


def make_event(
    body: str = "You can return any item within 30 days of delivery for a full refund.",
    *,
    clause_id: str = "refunds.window",
    cite: bool = True,
    inline: bool = True,
    citations: list[Citation] | None = None,
    retrieved_clauses: list[RetrievedClause] | None = None,
    locale: str = "en",
    disclosure: str = DISCLOSURE_EN,
    include_disclosure: bool = True,
    extra: str = "",
    ticket: str = "Hi, can I still return my shoes? Order [ORDER_1].",
    category: str = "refund_policy",
    intent_confidence: float = 0.95,
    draft_confidence: float = 0.92,
    customer_id: str = "cust-1",
    attributes: dict | None = None,
    outcome: DraftOutcome = DraftOutcome.drafted,
    greeting: str = "Hello [NAME_1],\nThank you for your message.",
    closing: str = "Kind regards,\nAcme Shop",
) -> DraftProposed:
    marker = f" [{clause_id}@{V}]" if cite and inline else ""
    parts = [greeting, body + marker]
    if extra:
        parts.append(extra)
    parts.append(closing)
    if include_disclosure and disclosure:
        parts.append(disclosure)
    reply = "\n".join(parts)
    if citations is None:
        citations = [Citation(clause_id=clause_id, kb_version=V, score=0.8, sentence=body)] if cite else []
    conversation = Conversation(
        source="email", external_id="ext-1", channel="email",
        messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=NOW, body_text=ticket)],
        customer=CustomerContext(customer_id=customer_id, attributes=attributes or {}), received_at=NOW,
    )
    triage = TriageResult(intent=category, intent_confidence=intent_confidence, category=category, language=locale)
    draft = Draft(
        draft_id="d-1", outcome=outcome, reply_text=reply if outcome == DraftOutcome.drafted else "", locale=locale,
        kb_locale=locale, retrieved=retrieved_clauses if retrieved_clauses is not None else [retrieved(clause_id)],
        citations=citations, confidence=draft_confidence, disclosure=disclosure,
    )
    return DraftProposed(conversation_id="conv-1", tenant="acme-shop", locale=locale,
                         producer=ProducerInfo(service="drafter", version="test"), conversation=conversation,
                         triage=triage, draft=draft)


def review_of(event: DraftProposed, policy: TenantPolicy) -> DraftUnderReview:
    return DraftUnderReview(event, policy)
