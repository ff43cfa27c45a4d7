"""Tables of the audit store (SQLAlchemy Core), the same for SQLite and PostgreSQL.

Every table is a projection of the event log: ``casetrail audit rebuild``
drops them (Alembic downgrade to base), recreates them and replays the topics.
Changes go through a new migration in ``migrations/versions``; this module
describes the current shape for queries.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per event (deduplicated by event id), in hash chains.
events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("chain_key", sa.String(256), nullable=False),
    sa.Column("sort_key", sa.String(128), nullable=False),
    sa.Column("seq", sa.Integer, nullable=True),  # NULL until the chain is (re)computed
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("tenant", sa.String(128), nullable=True),
    sa.Column("occurred_at", sa.String(32), nullable=True),
    sa.Column("related_id", sa.String(256), nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("record", sa.Text, nullable=False),  # canonical JSON (scrubbed after an erasure)
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("hash", sa.String(64), nullable=True),
    sa.Index("ix_audit_events_chain", "chain_key", "sort_key"),
    # Few records refer to another conversation: index only those.
    sa.Index("ix_audit_events_related", "related_id", sqlite_where=sa.text("related_id IS NOT NULL"),
             postgresql_where=sa.text("related_id IS NOT NULL")),
)

# One row per chain: its length and head hash (what the digest is built on).
chains = sa.Table(
    "audit_chains",
    metadata,
    sa.Column("chain_key", sa.String(256), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=True),
    sa.Column("length", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
)

# One row per conversation: the searchable summary of its lineage.
conversations = sa.Table(
    "audit_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(256), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=True),
    sa.Column("locale", sa.String(16), nullable=True),
    sa.Column("customer_id", sa.String(256), nullable=True),
    sa.Column("key_id", sa.String(128), nullable=True),
    sa.Column("source", sa.String(64), nullable=True),
    sa.Column("external_id", sa.String(256), nullable=True),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("started_at", sa.String(32), nullable=True),
    sa.Column("last_event_at", sa.String(32), nullable=True),
    sa.Column("intent", sa.String(128), nullable=True),
    sa.Column("category", sa.String(128), nullable=True),
    sa.Column("mode", sa.String(32), nullable=True),
    sa.Column("action", sa.String(32), nullable=True),
    sa.Column("verdict", sa.String(32), nullable=True),
    sa.Column("rule", sa.String(128), nullable=True),
    sa.Column("queue", sa.String(128), nullable=True),
    sa.Column("triage_model", sa.String(256), nullable=True),
    sa.Column("draft_model", sa.String(256), nullable=True),
    sa.Column("prompt_version", sa.String(256), nullable=True),
    sa.Column("kb_version", sa.String(256), nullable=True),
    sa.Column("policy_version", sa.String(256), nullable=True),
    sa.Column("sent_by", sa.String(128), nullable=True),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),  # lineage summary as canonical JSON (reports read it)
    sa.Index("ix_audit_conv_tenant_time", "tenant", "started_at"),
    sa.Index("ix_audit_conv_customer", "tenant", "customer_id"),
)

SEARCH_COLUMNS = (
    "locale", "intent", "category", "mode", "action", "verdict", "rule", "queue",
    "triage_model", "draft_model", "prompt_version", "kb_version", "policy_version", "channel",
)


def chain_key_prefix(prefix: str) -> tuple:
    """Chains whose key starts with ``prefix``, as an index range (works the same in SQLite and PostgreSQL)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (events.c.chain_key >= prefix, events.c.chain_key < upper)
