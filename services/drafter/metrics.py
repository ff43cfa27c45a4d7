"""Drafter metrics (prometheus_client, shared default registry). Labels carry no personal data."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DRAFTS = Counter(
    "casetrail_drafter_drafts_total", "Drafts proposed, by outcome, conversation locale and composer.",
    ["outcome", "locale", "composer"],
)
CITATIONS = Histogram(
    "casetrail_drafter_citations_per_draft", "Citations attached to each drafted reply.",
    buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10),
)
CONFIDENCE = Histogram(
    "casetrail_drafter_confidence", "Draft confidence of drafted replies.",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
TOP_SCORE = Histogram(
    "casetrail_drafter_top_retrieval_score", "Best hybrid retrieval score per conversation.",
    buckets=(0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.95, 1.0),
)
DRAFT_SECONDS = Histogram(
    "casetrail_drafter_draft_seconds", "Time to draft one conversation (embedding, retrieval, composing).",
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)
LOCALE_FALLBACKS = Counter(
    "casetrail_drafter_locale_fallbacks_total", "Drafts made from another locale's knowledge base.",
    ["locale", "kb_locale"],
)
FLAGS = Counter("casetrail_drafter_flags_total", "Draft flags raised (e.g. llm_invalid_citation).", ["flag"])
KB_REFRESHES = Counter(
    "casetrail_drafter_kb_published_events_total", "KnowledgeBasePublished events seen (index refresh triggered)."
)
KB_PUBLICATIONS_HELD_BACK = Counter(
    "casetrail_drafter_kb_publications_held_back_total",
    "KnowledgeBasePublished events for a tenant pinned to its promoted version (not served until promoted).",
    ["tenant"],
)
QDRANT_UNAVAILABLE = Counter(
    "casetrail_drafter_qdrant_unavailable_total", "Drafts retried because Qdrant did not answer."
)


def observe(event) -> None:
    """Record one DraftProposed event, once it committed (``ctx.after_commit``)."""
    draft = event.draft
    DRAFTS.labels(draft.outcome.value, event.locale, draft.composer).inc()
    if draft.outcome.value == "drafted":
        CITATIONS.observe(len(draft.citations))
        CONFIDENCE.observe(draft.confidence)
    if draft.retrieved:
        TOP_SCORE.observe(max(r.score for r in draft.retrieved))
    if draft.locale_fallback and draft.kb_locale:
        LOCALE_FALLBACKS.labels(event.locale, draft.kb_locale).inc()
    for flag in draft.flags:
        FLAGS.labels(flag).inc()
