"""Ingest's own Prometheus metrics (the runtime exports the shared ones).

Labels are source names, reason codes, personal-data *types*, locales and
roles - never values, ticket text or customer ids. Unknown source names are
reported as "unknown" so a misbehaving producer cannot explode cardinality.

What ingest decided (conversations emitted, redactions, re-contacts, answers, redeliveries dropped,
own messages, rejections) is counted once the record's transaction committed: the handlers pass the
``count_*`` functions below to ``ctx.after_commit``, so a batch aborted and decided again counts once
and a refused batch counts nothing (casetrail/runtime/after_commit.py). Work done (normalise time)
and the webhook bridge's requests (one per HTTP request, no transaction) are counted where they happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from casetrail.events import ConversationObserved, ConversationReceived, RecontactDetected
    from services.ingest.stages import ConversationOutcome

CONVERSATIONS = Counter("casetrail_ingest_conversations_total", "Conversations normalised and emitted", ["source", "channel"])
REDACTIONS = Counter("casetrail_ingest_redactions_total", "Personal-data values replaced by placeholders", ["kind"])
REDELIVERIES_DROPPED = Counter("casetrail_ingest_redeliveries_dropped_total", "Webhook redeliveries dropped idempotently", ["source"])
REJECTED = Counter("casetrail_ingest_rejected_total", "Intake records dead-lettered as bad input", ["source", "reason"])
RECONTACTS = Counter("casetrail_ingest_recontacts_total", "Re-contacts within the window of an answer", ["kind", "answered_by"])
OWN_MESSAGES = Counter("casetrail_ingest_own_messages_total",
                       "casetrail's own posts reported back by a platform (never answered)", ["source"])
ANSWERS = Counter("casetrail_ingest_answers_recorded_total", "Answers recorded for re-contact attribution", ["answered_by", "via"])
LOCALES = Counter("casetrail_ingest_locale_total", "Conversations by locale and how it was established", ["locale", "status"])
SEALED = Counter("casetrail_ingest_originals_sealed_total", "Original texts sealed under a per-customer key")
NORMALISE_SECONDS = Histogram(
    "casetrail_ingest_normalise_seconds", "Connector + locale + redaction time per record", ["source"],
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
WEBHOOK_REQUESTS = Counter("casetrail_ingest_webhook_requests_total", "Webhook bridge requests by outcome", ["source", "status"])


def source_label(source: str) -> str:
    from services.ingest.connectors import registry

    return source if source in registry() else "unknown"


# The channels connectors map sources' values onto; anything else a payload says is "other",
# so a label can never carry an address or grow without bound (issue 17: an e-mail address
# once reached /metrics through this label).
CHANNELS = frozenset(("web", "email", "chat", "phone", "social", "app", "api", "in_person"))


def channel_label(channel: str) -> str:
    return channel if channel in CHANNELS else "other"


def count_observed(seen: "ConversationObserved", decided: "ConversationOutcome") -> None:
    """What the conversation's partition decided about one observed conversation (``stages.ConversationStage``)."""
    source = source_label(seen.received.conversation.source)
    if decided.duplicate:
        REDELIVERIES_DROPPED.labels(source).inc()
    if decided.own_message:
        OWN_MESSAGES.labels(source).inc()
    if decided.answer_recorded is not None:
        ANSWERS.labels(decided.answer_recorded, "source").inc()
    if decided.conversation is not None:
        count_conversation(decided.conversation)
    if decided.recontact is not None:  # the conversation's partition finds reopens only
        count_recontact("reopen", decided.recontact)


def count_conversation(event: "ConversationReceived") -> None:
    """A conversation emitted for triage: its source, channel, locale, redactions and sealed original."""
    conversation = event.conversation
    CONVERSATIONS.labels(source_label(conversation.source), channel_label(conversation.channel)).inc()
    LOCALES.labels(event.locale, conversation.locale_status.value).inc()
    for finding in conversation.redactions:
        REDACTIONS.labels(finding.kind).inc(finding.count)
    if conversation.original is not None:
        SEALED.inc()


def count_recontact(kind: str, event: "RecontactDetected") -> None:
    """A re-contact emitted: ``reopen`` (the same conversation) or ``same_topic`` (a new one, by customer)."""
    RECONTACTS.labels(kind, event.answered_by).inc()


def count_reply_answer(answered_by: str) -> None:
    """An answer casetrail sent (``replies.outbound.v1``), recorded for re-contact attribution."""
    ANSWERS.labels(answered_by, "replies_topic").inc()
