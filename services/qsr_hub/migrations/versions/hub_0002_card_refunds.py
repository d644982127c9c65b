"""qsr_hub: card refunds owed for refunded checkout orders.

Revision ID: hub_0002
Revises: hub_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0002"
down_revision = "hub_0001"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_card_refunds",
        sa.Column("refund_id", sa.String(200), primary_key=True),
        sa.Column("saga_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("money_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_index("ix_hub_card_refunds_saga_id", "hub_card_refunds", ["saga_id"])
    op.create_index("ix_hub_card_refunds_due", "hub_card_refunds", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("hub_card_refunds")
