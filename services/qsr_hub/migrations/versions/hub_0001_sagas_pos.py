"""qsr_hub: checkout sagas, raw POS webhooks, POS completions.

Revision ID: hub_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0001"
down_revision = None
branch_labels = ("qsr_hub",)
depends_on = None

Stamp = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hub_sagas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False, unique=True),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("lease_until", Stamp, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.UniqueConstraint("principal", "idempotency_key", name="uq_hub_sagas_principal_key"),
    )
    op.create_table(
        "hub_pos_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("pos_type", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_field", sa.String(300), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("received_at", Stamp, nullable=False),
        sa.Column("processed_at", Stamp, nullable=True),
        sa.UniqueConstraint("store_id", "digest", name="uq_hub_pos_events_store_digest"),
    )
    op.create_table(
        "hub_pos_completions",
        sa.Column("order_key", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("pos_event_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_pos_completions")
    op.drop_table("hub_pos_events")
    op.drop_table("hub_sagas")
