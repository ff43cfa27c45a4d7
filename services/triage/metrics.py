"""Triage-specific Prometheus metrics (prefix ``casetrail_triage_``).

Labels are bounded enumerations only — category ids from the tenant taxonomy,
priority levels, flag names, languages — never ticket text or customer data.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TRIAGED = Counter("casetrail_triage_conversations_total", "Conversations triaged",
                  ["tenant", "category", "priority", "language"])
FLAGS = Counter("casetrail_triage_flags_total", "Triage flags raised (bad input, unknown language, duplicate, ...)",
                ["flag"])
SIGNALS = Counter("casetrail_triage_signals_total", "Conversations with a boolean signal set", ["signal"])
INTENT_CONFIDENCE = Histogram("casetrail_triage_intent_confidence", "Calibrated confidence of the chosen intent",
                              buckets=(0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1.0))
SENTIMENT = Histogram("casetrail_triage_sentiment", "Sentiment score of triaged conversations",
                      buckets=(-0.8, -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
TRIAGE_SECONDS = Histogram("casetrail_triage_seconds", "Time to triage one conversation (embedding included)",
                           buckets=(0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0))
REJECTED = Counter("casetrail_triage_rejected_total", "Conversations dead-lettered by triage", ["reason"])

_BOUNDED_FLAGS = {"empty_text", "no_words", "truncated", "unknown_language", "mixed_language", "locale_not_served",
                  "out_of_scope", "duplicate"}


def observe_triaged(tenant_known: bool, tenant: str, result) -> None:
    """What a ConversationTriaged event says: counted once it committed (``ctx.after_commit``); the time
    it took is work done (``TRIAGE_SECONDS``, observed where it happens)."""
    TRIAGED.labels(tenant if tenant_known else "other", result.category, result.priority, result.language).inc()
    for flag in result.flags:
        FLAGS.labels(flag if flag in _BOUNDED_FLAGS else "other").inc()
    for signal in ("spam", "abuse", "vip", "out_of_scope"):
        if getattr(result, signal):
            SIGNALS.labels(signal).inc()
    if result.duplicate_of:
        SIGNALS.labels("duplicate").inc()
    INTENT_CONFIDENCE.observe(result.intent_confidence)
    SENTIMENT.observe(result.sentiment)
