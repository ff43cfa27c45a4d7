"""Topics as code: the one list of every Kafka topic casetrail uses.

``casetrail topics apply`` creates what is missing and reports drift; the Helm
chart renders Strimzi ``KafkaTopic`` resources from this same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

DAY_MS = 24 * 60 * 60 * 1000
YEAR_MS = 365 * DAY_MS
FOREVER = -1
# The audit store is a projection of the log: a rebuild restores only what the
# topics still hold, so every topic the lineage is folded from keeps data as long
# as the longest audit retention (7 years by default). Raw intake payloads are not
# part of the lineage and keep 14 days, which also bounds unencrypted personal data.
AUDIT_TRAIL_MS = 7 * 365 * DAY_MS
# Kafka's default ``message.max.bytes`` (1 MiB plus a record batch's overhead): a topic's
# limit unless it sets its own ``max.message.bytes``.
BROKER_MAX_MESSAGE_BYTES = 1_048_588


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str  # what the record key is
    value_schema: Optional[str]  # Avro event type name; None for raw source payloads
    description: str
    partitions: int = 3
    replication_factor: int = 1
    retention_ms: int = 7 * DAY_MS
    cleanup_policy: str = "delete"
    extra_config: dict[str, str] = field(default_factory=dict)
    # The flow: who writes the topic and which services consume it (checked against the
    # processors the services register; audit reads every event topic through its own consumer).
    producer: str = ""
    consumers: tuple[str, ...] = ()
    # Services every worker of which reads the whole topic outside the group (``Service.broadcast``).
    broadcast_to: tuple[str, ...] = ()

    def config(self) -> dict[str, str]:
        """Topic-level configuration as the broker spells it."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy, **self.extra_config}

    @property
    def max_message_bytes(self) -> int:
        """The largest record batch the broker accepts on this topic (its ``max.message.bytes``)."""
        return int(self.extra_config.get("max.message.bytes", BROKER_MAX_MESSAGE_BYTES))


INTAKE = TopicSpec(
    "support.intake.v1", "source:external_id", "IntakeTicket",
    "Tickets from ticketing systems: Avro IntakeTicket, or raw payload bytes with a casetrail-source header.",
    retention_ms=14 * DAY_MS,
    # Above ingest's own payload limit (1 MiB by default), so an oversized ticket
    # reaches ingest and is dead-lettered with a reason instead of bouncing at the producer.
    extra_config={"max.message.bytes": str(4 * 1024 * 1024)},
    producer="ticketing systems (webhook bridge, casetrail send)", consumers=("ingest",),
)
CONVERSATIONS_RECEIVED = TopicSpec(
    "conversations.received.v1", "conversation_id", "ConversationReceived",
    "Normalised, redacted conversations from ingest.", retention_ms=AUDIT_TRAIL_MS,
    producer="ingest", consumers=("triage", "delivery"),
)
RECONTACTS = TopicSpec(
    "conversations.recontacts.v1", "conversation_id", "RecontactDetected",
    "A customer came back within 7 days of an answer; names the original conversation.", retention_ms=AUDIT_TRAIL_MS,
    producer="ingest", consumers=(),
)
CONVERSATIONS_TRIAGED = TopicSpec(
    "conversations.triaged.v1", "conversation_id", "ConversationTriaged",
    "Triage signals: intent, category, urgency, sentiment, SLA due time.", retention_ms=AUDIT_TRAIL_MS,
    producer="triage", consumers=("drafter",),
)
DRAFTS_PROPOSED = TopicSpec(
    "drafts.proposed.v1", "conversation_id", "DraftProposed",
    "Drafted replies with a citation on every statement (or an explicit no-grounding outcome).", retention_ms=AUDIT_TRAIL_MS,
    producer="drafter", consumers=("verifier",),
)
DRAFTS_VERIFIED = TopicSpec(
    "drafts.verified.v1", "conversation_id", "DraftVerified",
    "Verifier verdicts with the result of every check.", retention_ms=AUDIT_TRAIL_MS,
    producer="verifier", consumers=("router",),
)
DECISIONS_ROUTED = TopicSpec(
    "decisions.routed.v1", "conversation_id", "RoutedDecision",
    "Router decisions: mode, action, rule, queue, handoff brief.", retention_ms=AUDIT_TRAIL_MS,
    producer="router", consumers=("delivery",),
)
REPLIES_OUTBOUND = TopicSpec(
    "replies.outbound.v1", "conversation_id", "ReplyOutbound",
    "Replies to deliver, each with an idempotency key.", retention_ms=AUDIT_TRAIL_MS,
    producer="router", consumers=("ingest", "router", "delivery"),
)
FEEDBACK_AGENT = TopicSpec(
    "feedback.agent.v1", "conversation_id", "AgentFeedback",
    "Agent approve / edit / reject of drafts.", retention_ms=AUDIT_TRAIL_MS,
    producer="agents (review console)", consumers=("router", "verifier"),
)
SLA_EVENTS = TopicSpec(
    "sla.events.v1", "conversation_id", "SlaEvent",
    "SLA started / at-risk / breached / stopped.", retention_ms=AUDIT_TRAIL_MS,
    producer="router", consumers=("router",),
)
DELIVERY_RECEIPTS = TopicSpec(
    "deliveries.receipts.v1", "conversation_id", "DeliveryReceipt",
    "What the delivery service wrote to the ticketing platform (delivered / failed / suppressed), per effect.",
    retention_ms=AUDIT_TRAIL_MS, producer="delivery", consumers=(),
)
DELIVERY_RETRIES = TopicSpec(
    "deliveries.retry.v1", "conversation_id", None,
    "Deliveries parked after a transient platform failure: the original replies.outbound / decisions.routed"
    " record, with attempt and not-before headers. Keeps an outage of one platform from blocking the others.",
    producer="delivery", consumers=("delivery",),
)
DELIVERY_ATTEMPTS = TopicSpec(
    "deliveries.attempts.v1", "source topic:partition", None,
    "The delivery service's attempt watermarks: source offsets up to which a platform write may have been"
    " attempted. After a crash, those records are looked up on the platform before anything is posted again.",
    # read outside any group by delivery's attempt journal when a worker (re)takes a partition
    partitions=1, retention_ms=FOREVER, cleanup_policy="compact", producer="delivery", consumers=(),
)
KB_PUBLISHED = TopicSpec(
    "kb.published.v1", "tenant:locale", "KnowledgeBasePublished",
    "Knowledge-base versions as they are published.", partitions=1, retention_ms=FOREVER,
    producer="casetrail kb publish", broadcast_to=("drafter",),  # every drafter worker invalidates its cache
)
ERASURES = TopicSpec(
    "audit.erasures.v1", "customer_id", "PersonalDataErased",
    "Crypto-shredding requests carried out (audited).", partitions=1, retention_ms=FOREVER,
    producer="audit", consumers=(),
)
GATE_DECISIONS = TopicSpec(
    "versions.gate.v1", "tenant:kind", "VersionGateDecided",
    "The gate's promote / refuse verdicts on candidate models, knowledge bases and templates.",
    partitions=1, retention_ms=FOREVER, producer="casetrail gate", consumers=(),
)
DEADLETTER = TopicSpec(
    "deadletter.v1", "original key", "DeadLetter",
    "Anything undecodable or unprocessable: reason, exception, source offset, original bytes.",
    retention_ms=YEAR_MS,
    extra_config={"max.message.bytes": str(8 * 1024 * 1024)},  # holds the largest intake record plus its envelope,
    producer="every service", consumers=(),
)


def changelog(app_id: str, table: str, partitions: int = 3) -> TopicSpec:
    """A table changelog (casetrail.runtime.tables): compacted, so state survives restarts without growing forever.

    Compacted within a day of a write (``max.compaction.lag.ms``; the active segment is rolled for
    it): the values an erasure's tombstone supersedes do not wait for a 1 GiB segment or seven days."""
    return TopicSpec(
        f"{app_id}-{table}-changelog", "table key", None,
        f"State changelog of the {app_id} service's {table} table.",
        partitions=partitions, retention_ms=FOREVER, cleanup_policy="compact",
        extra_config={"max.compaction.lag.ms": str(DAY_MS)},
        producer=app_id.removeprefix("casetrail-"), consumers=(app_id.removeprefix("casetrail-"),),
    )


def repartition(app_id: str, name: str, key: str, value_schema: str, partitions: int = 3) -> TopicSpec:
    """An internal topic that re-keys a stream so a table can be keyed like its input (co-partitioned):
    the service writes the records it consumed under the table's key and reads them back.

    Kept 7 days: a record is read within seconds, and the stream it copies keeps its own retention."""
    return TopicSpec(
        f"{app_id}-{name}-repartition", key, value_schema,
        f"The {app_id} service's input re-keyed by {key} (internal).",
        partitions=partitions, retention_ms=7 * DAY_MS,
        producer=app_id.removeprefix("casetrail-"), consumers=(app_id.removeprefix("casetrail-"),),
    )


# Triage's customer history is keyed by customer; its input by conversation.
TRIAGE_BY_CUSTOMER = repartition("casetrail-triage", "by_customer", "tenant:customer_id", "ConversationReceived",
                                 partitions=CONVERSATIONS_RECEIVED.partitions)
# Ingest's state per conversation (redeliveries, answers) is fed by intake keyed by ticket and by replies keyed by
# conversation; its state per customer (answered topics) by both: intake is re-keyed by conversation (replies are
# already), and what a conversation teaches about its customer is re-keyed by customer.
INGEST_BY_CONVERSATION = repartition("casetrail-ingest", "by_conversation", "conversation_id", "ConversationObserved",
                                     partitions=REPLIES_OUTBOUND.partitions)
INGEST_BY_CUSTOMER = repartition("casetrail-ingest", "by_customer", "customer key (hashed)", "CustomerActivity",
                                 partitions=REPLIES_OUTBOUND.partitions)
REPARTITIONS = (TRIAGE_BY_CUSTOMER, INGEST_BY_CONVERSATION, INGEST_BY_CUSTOMER)

# Service tables (name must match the service's table definition).
STATE_CHANGELOGS = (
    # Ingest's tables are keyed like its repartition topics (their earlier names, seen_deliveries and
    # answered_conversations, held keys written from partitions of differently keyed inputs: not restored).
    changelog("casetrail-ingest", "conversation_deliveries"),
    changelog("casetrail-ingest", "conversation_answers"),
    changelog("casetrail-ingest", "customer_answers"),
    changelog("casetrail-triage", "customer_history"),
    changelog("casetrail-router", "sla_timers"),
    changelog("casetrail-router", "sent_replies"),
    changelog("casetrail-router", "conversations"),
    changelog("casetrail-verifier", "drafts"),
    changelog("casetrail-delivery", "threads"),
    changelog("casetrail-delivery", "effects"),
)

EVENT_TOPICS = (
    INTAKE, CONVERSATIONS_RECEIVED, RECONTACTS, CONVERSATIONS_TRIAGED, DRAFTS_PROPOSED,
    DRAFTS_VERIFIED, DECISIONS_ROUTED, REPLIES_OUTBOUND, FEEDBACK_AGENT, SLA_EVENTS, DELIVERY_RECEIPTS,
    KB_PUBLISHED, ERASURES, GATE_DECISIONS, DEADLETTER,
)
# Topics the delivery service keeps for itself (not events the audit folds).
DELIVERY_STATE = (DELIVERY_RETRIES, DELIVERY_ATTEMPTS)
ALL_TOPICS: tuple[TopicSpec, ...] = EVENT_TOPICS + DELIVERY_STATE + REPARTITIONS + STATE_CHANGELOGS


def by_name(name: str) -> TopicSpec:
    for spec in ALL_TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(t.name for t in ALL_TOPICS)}")
