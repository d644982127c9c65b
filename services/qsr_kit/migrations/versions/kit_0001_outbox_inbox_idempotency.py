"""qsr_kit: outbox, inbox and idempotency-key tables.

Revision ID: kit_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "kit_0001"
down_revision = None
branch_labels = ("qsr_kit",)
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "qsr_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("sent_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_qsr_outbox"),
        sa.UniqueConstraint("event_id", name="uq_qsr_outbox_event_id"),
    )
    op.create_index(
        "ix_qsr_outbox_unsent", "qsr_outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.create_table(
        "qsr_inbox",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_qsr_inbox"),
    )
    op.create_table(
        "qsr_idempotency_keys",
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("route", sa.String(300), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lock_token", sa.String(36), nullable=True),
        sa.Column("locked_at", Stamp, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("principal", "route", "key", name="pk_qsr_idempotency_keys"),
    )
    op.create_index("ix_qsr_idempotency_keys_expires_at", "qsr_idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("qsr_idempotency_keys")
    op.drop_table("qsr_inbox")
    op.drop_table("qsr_outbox")
