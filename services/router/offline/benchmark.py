"""Decision-latency benchmark: ``route()`` over a realistic mix of verified drafts.

The mix covers every branch the router takes in production: autonomous
sends, reviews below threshold, each escalation rule, spam, and out-of-hours
acknowledgements (which format a localised date with Babel, the slowest
path). Events are built before timing; only ``route()`` is timed.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from pathlib import Path

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

from services.router.decide import route

CATEGORIES = ("order_status", "return_request", "product_question", "payment_issue", "bug_report", "fraud_report",
              "place_order", "feedback", "invoice", "account_access")
LOCALES = ("en", "de", "fr", "es", "lt")
TIERS = (None, "standard", "enterprise", "platinum")
# Wednesday 10:00 and Sunday 03:00 in Vilnius: open and closed for the sample tenant.
MOMENTS = (dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.timezone.utc))


def synthetic_event(rng: random.Random, index: int, now: dt.datetime) -> DraftVerified:
    category = rng.choice(CATEGORIES)
    locale = rng.choice(LOCALES)
    received = now - dt.timedelta(minutes=rng.choice((1, 30, 150)))
    verdict = rng.choices(list(Verdict), weights=(7, 2, 1))[0]
    checks = [CheckResult(name="citations", passed=True)]
    if verdict != Verdict.passed:
        checks.append(CheckResult(name="amounts_match", passed=False, detail="draft 14 days vs clause 30 days"))
    conversation = Conversation(
        source="zendesk", external_id=f"T-{index}", channel="email", subject="Question about [ORDER_1]",
        messages=[Message(message_id=f"m{index}", author_role=AuthorRole.customer, sent_at=received,
                          body_text="Hello, I have a question about my order [ORDER_1]. " * rng.randint(1, 6))],
        customer=CustomerContext(customer_id=f"c{index}", tier=rng.choice(TIERS),
                                 lifetime_value=rng.choice((None, 120.0, 25_000.0))),
        received_at=received,
    )
    triage = TriageResult(
        intent=category, intent_confidence=rng.uniform(0.5, 1.0), category=category,
        urgency=rng.choices(("normal", "high", "urgent"), weights=(8, 2, 1))[0],
        sentiment=rng.uniform(-1.0, 0.6), vip=rng.random() < 0.05, spam=rng.random() < 0.03,
        churn_risk=rng.random(), sla_due_at=received + dt.timedelta(hours=4), language=locale,
    )
    draft = Draft(
        draft_id=f"d{index}", outcome=DraftOutcome.drafted, locale=locale, confidence=0.9,
        reply_text="Your order ships within 2 business days [shipping-1@kb-7].",
        citations=[Citation(clause_id="shipping-1", kb_version="kb-7", score=0.9, sentence="ships within 2 days")],
    )
    return DraftVerified(
        conversation_id=f"conv-{index}", tenant="acme-shop", locale=locale,
        producer=ProducerInfo(service="verifier", version="bench"), conversation=conversation, triage=triage,
        draft=draft, verification=Verification(verdict=verdict, checks=checks),
    )


def run_decision_benchmark(decisions: int, tenant_file: Path, seed: int = 7) -> dict:
    policy = load_policy(tenant_file)
    producer = ProducerInfo(service="router", version="bench")
    rng = random.Random(seed)
    work = [(synthetic_event(rng, i, now := rng.choice(MOMENTS)), now) for i in range(decisions)]
    for event, now in work[: min(200, len(work))]:  # warm caches (CEL programs, holiday calendars, CLDR data)
        route(event, policy, now, producer)
    timings: list[float] = []
    actions: dict[str, int] = {}
    started = time.perf_counter()
    for event, now in work:
        t0 = time.perf_counter_ns()
        outcome = route(event, policy, now, producer)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        actions[outcome.decision.action.value] = actions.get(outcome.decision.action.value, 0) + 1
    elapsed = time.perf_counter() - started
    timings.sort()

    def pct(p: float) -> float:
        return round(timings[min(len(timings) - 1, int(p / 100 * len(timings)))], 3)

    return {
        "benchmark": "router decision latency (route(), pure logic)",
        "decisions": decisions,
        "tenant": policy.tenant,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(timings), 3),
        "max_ms": round(timings[-1], 3),
        "decisions_per_s": round(decisions / elapsed, 1),
        "goal_p50_ms": 5.0,
        "goal_met": pct(50) <= 5.0,
        "actions": dict(sorted(actions.items())),
    }
