"""Initial audit store: events in hash chains, chain heads, conversation summaries.

Revision ID: 0001_initial
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("chain_key", sa.String(256), nullable=False),
        sa.Column("sort_key", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=True),
        sa.Column("occurred_at", sa.String(32), nullable=True),
        sa.Column("related_id", sa.String(256), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_audit_events_chain", "audit_events", ["chain_key", "sort_key"])
    op.create_index("ix_audit_events_related", "audit_events", ["related_id"],
                    sqlite_where=sa.text("related_id IS NOT NULL"), postgresql_where=sa.text("related_id IS NOT NULL"))
    op.create_table(
        "audit_chains",
        sa.Column("chain_key", sa.String(256), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=True),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_conversations",
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
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_conv_tenant_time", "audit_conversations", ["tenant", "started_at"])
    op.create_index("ix_audit_conv_customer", "audit_conversations", ["tenant", "customer_id"])


def downgrade() -> None:
    op.drop_table("audit_conversations")
    op.drop_table("audit_chains")
    op.drop_table("audit_events")
