"""Ordering's tables: orders and per-slot bookings (the kit adds outbox, inbox, idempotency)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from qsr_kit import schema

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
metadata = sa.MetaData(naming_convention=schema.NAMING)

orders = sa.Table(
    "ordering_orders",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("store_id", sa.String(64), nullable=False),
    sa.Column("program", sa.String(63), nullable=False),
    sa.Column("member_id", sa.String(200), nullable=True, index=True),
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
    sa.Column("pickup_slot", schema.UtcDateTime(), nullable=False),
    sa.Column("lines", sa.JSON(), nullable=False),
    sa.Column("created_at", schema.UtcDateTime(), nullable=False),
    sa.Column("updated_at", schema.UtcDateTime(), nullable=False),
)

slot_bookings = sa.Table(
    "ordering_slot_bookings",
    metadata,
    sa.Column("store_id", sa.String(64), primary_key=True),
    sa.Column("slot", schema.UtcDateTime(), primary_key=True),
    sa.Column("booked", sa.Integer(), nullable=False),
    sa.CheckConstraint("booked >= 0", name="booked_not_negative"),
)
