"""qsr_ordering: orders and pickup-slot bookings.

Revision ID: ordering_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ordering_0001"
down_revision = None
branch_labels = ("qsr_ordering",)
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ordering_orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("program", sa.String(63), nullable=False),
        sa.Column("member_id", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("tip_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("reward_id", sa.String(63), nullable=True),
        sa.Column("payment_reference", sa.String(200), nullable=True),
        sa.Column("pickup_slot", Stamp, nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_index("ix_ordering_orders_member_id", "ordering_orders", ["member_id"])
    op.create_table(
        "ordering_slot_bookings",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("slot", Stamp, primary_key=True),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0", name="ck_ordering_slot_bookings_booked_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("ordering_slot_bookings")
    op.drop_index("ix_ordering_orders_member_id", "ordering_orders")
    op.drop_table("ordering_orders")
